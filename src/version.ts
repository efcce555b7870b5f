/**
 * Versions recorded in run provenance (Node edge: reads package.json files). The tool's own
 * version is the runtime-free constant of src/version-number.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ONNXTUNE_VERSION } from './version-number';

export { ONNXTUNE_VERSION };

function pkgVersion(dir: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return __dirname;
}

/** The project's root folder (where package.json is), from source or from dist/. */
export const PROJECT_ROOT = findRoot();

/** Versions of the tool and the runtimes it depends on. */
export function toolVersions(): Record<string, string> {
  // Resolved like require() does, so an installed package (dependencies hoisted beside it) reports them too.
  const dep = (name: string) => {
    try {
      return pkgVersion(path.dirname(require.resolve(`${name}/package.json`, { paths: [PROJECT_ROOT] })));
    } catch {
      return pkgVersion(path.join(PROJECT_ROOT, 'node_modules', name));
    }
  };
  return {
    onnxtune: ONNXTUNE_VERSION,
    node: process.versions.node,
    'onnxruntime-node': dep('onnxruntime-node'),
    '@tensorflow/tfjs': dep('@tensorflow/tfjs'),
  };
}
