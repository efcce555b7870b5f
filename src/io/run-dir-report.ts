/**
 * How a supervised `onnxtune run` worker tells its supervisor which run directory it works in, so a retry after a
 * native crash resumes that run (`run --resume DIR`) instead of starting a new one or stopping at "run directory
 * exists". The supervisor names a file in RUN_DIR_FILE_ENV; the runner writes the directory there once its job.yaml
 * (what --resume reads) is in place. Node-only.
 */
import * as fs from 'node:fs';

/** The job file inside a run directory: `run --resume` reads it, so a folder without it is not resumable. */
export const RUN_JOB_FILE = 'job.yaml';

/** Environment variable naming the file the run directory is written to. */
export const RUN_DIR_FILE_ENV = 'ONNXTUNE_RUN_DIR_FILE';

/** Writes `runDir` to the file named by RUN_DIR_FILE_ENV, when set; best effort (a failure only costs the resume). */
export function reportRunDir(runDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[RUN_DIR_FILE_ENV];
  if (!file) return;
  try {
    fs.writeFileSync(file, runDir);
  } catch {
    // The supervisor then retries the command as given.
  }
}

/** The run directory a worker reported, if it still holds a resumable run. */
export function reportedRunDir(file: string): string | undefined {
  try {
    const dir = fs.readFileSync(file, 'utf8').trim();
    return dir && fs.existsSync(`${dir}/${RUN_JOB_FILE}`) ? dir : undefined;
  } catch {
    return undefined;
  }
}
