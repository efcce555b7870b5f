/** Loads a job file: YAML → strict schema validation → JobConfig with absolute paths. */
import * as path from 'node:path';
import { loadYamlWithSchema } from './load-yaml';
import { jobSchema, type JobConfig } from './schema';

export interface LoadJobOptions {
  /** `dotted.path=value` overrides applied before validation (CLI --set). */
  overrides?: string[];
}

/**
 * Reads and validates `file`.
 * @throws ConfigError naming file:line:col and the YAML path; InputError when the file is unreadable.
 */
export function loadJobConfig(file: string, opts: LoadJobOptions = {}): JobConfig {
  const abs = path.resolve(file);
  return loadYamlWithSchema(abs, jobSchema(path.dirname(abs)), { overrides: opts.overrides }).value;
}
