/** The Node edge of the job schema: job paths resolved and checked on the filesystem. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PathChecks } from './schema';

/** Node's {@link PathChecks}: `path.resolve`, `fs.existsSync`, `fs.statSync().isDirectory()`. */
export const NODE_PATHS: PathChecks = Object.freeze({
  resolve: (baseDir: string, p: string) => path.resolve(baseDir, p),
  exists: (abs: string) => fs.existsSync(abs),
  isDir: (abs: string) => fs.existsSync(abs) && fs.statSync(abs).isDirectory(),
});
