/** Loads a job file: YAML → strict schema validation → JobConfig with absolute paths. */
import * as path from 'node:path';
import { loadYamlWithSchema } from './load-yaml';
import { NODE_PATHS } from './node-paths';
import { jobSchema, looksLikeFile, type JobConfig } from './schema';

export interface LoadJobOptions {
  /** `dotted.path=value` overrides applied before validation (CLI --set). */
  overrides?: string[];
  /** Folder that relative paths in `overrides` are resolved against (default: the current folder). */
  cwd?: string;
}

/** Job fields holding file or folder paths: in the file they are relative to the file, on the command line to the current folder. */
export const PATH_FIELDS: readonly string[] = Object.freeze(['encoder.onnx', 'data.path', 'data.train', 'data.test', 'data.dir']);
/** Job fields holding a file path or a shipped denoiser's name: resolved like {@link PATH_FIELDS} only when the value looks like a file. */
export const PATH_OR_NAME_FIELDS: readonly string[] = Object.freeze(['decoder.init_from']);

/** `--set encoder.onnx=my.onnx` means ./my.onnx, not a file next to the job file: such values are made absolute first. */
export function resolveOverridePaths(overrides: readonly string[], cwd: string = process.cwd()): string[] {
  return overrides.map((o) => {
    const eq = o.indexOf('=');
    const key = o.slice(0, Math.max(0, eq)).trim();
    const value = o.slice(eq + 1).trim();
    // Quoted, flow (list/map) and empty values are left to YAML and the schema.
    const isPath = PATH_FIELDS.includes(key) || (PATH_OR_NAME_FIELDS.includes(key) && looksLikeFile(value));
    if (eq < 0 || !isPath || !value || /^["'[{]/.test(value) || path.isAbsolute(value)) return o;
    return `${key}=${JSON.stringify(path.resolve(cwd, value))}`;
  });
}

/**
 * Reads and validates `file`.
 * @throws ConfigError naming file:line:col and the YAML path; InputError when the file is unreadable.
 */
export function loadJobConfig(file: string, opts: LoadJobOptions = {}): JobConfig {
  const abs = path.resolve(file);
  const overrides = opts.overrides && resolveOverridePaths(opts.overrides, opts.cwd);
  return loadYamlWithSchema(abs, jobSchema(path.dirname(abs), NODE_PATHS), { overrides }).value;
}
