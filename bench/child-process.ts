/**
 * Helpers shared by the benches that measure each case in its own child process (so one case's
 * memory and loaded runtimes never leak into another's numbers): the process's peak resident
 * set size, and the one marked JSON line a worker prints as its result.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** The peak resident set size of this process in MB, and where it was read. */
export interface PeakRss {
  mb: number;
  /** `VmHWM` from /proc/self/status (Linux), else `maxRSS` from process.resourceUsage(). */
  source: 'VmHWM' | 'maxRSS';
}

/** The `VmHWM:` (peak RSS) line of a /proc/<pid>/status text, in kB; undefined when absent. */
export function parseVmHwmKb(status: string): number | undefined {
  const m = /^VmHWM:\s*(\d+)\s*kB\s*$/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/**
 * This process's peak RSS so far: VmHWM when /proc/self/status has it, else
 * process.resourceUsage().maxRSS (kilobytes on every platform Node supports).
 * @param readStatus returns the status text (tests pass their own); may throw
 */
export function peakRss(readStatus: () => string = () => fs.readFileSync('/proc/self/status', 'utf8')): PeakRss {
  let kb: number | undefined;
  try {
    kb = parseVmHwmKb(readStatus());
  } catch {
    kb = undefined;
  }
  if (kb !== undefined) return { mb: kb / 1024, source: 'VmHWM' };
  return { mb: process.resourceUsage().maxRSS / 1024, source: 'maxRSS' };
}

/** The value of the last stdout line that starts with `marker` (parsed as JSON), or undefined. */
export function parseMarkedLine<T>(stdout: string, marker: string): T | undefined {
  const lines = stdout.split('\n').filter((l) => l.startsWith(marker));
  const last = lines[lines.length - 1];
  return last === undefined ? undefined : (JSON.parse(last.slice(marker.length)) as T);
}

/** The last stderr line worth showing as a failure reason (TF's oneDNN banners and stack frames skipped). */
export function lastMeaningfulLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/oneDNN|cpu_feature_guard|rebuild TensorFlow|^at /.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}

/** What {@link runWorker} got back: the worker's result, or why there is none. */
export type WorkerOutcome<T> = { ok: true; value: T; wallSeconds: number } | { ok: false; reason: string; wallSeconds: number };

/**
 * Runs `node script ...args` and returns the JSON its stdout line starting with `marker` carries.
 * @param timeoutS wall-clock limit of the child, seconds
 */
export function runWorker<T>(
  script: string, args: string[], marker: string, opts: { timeoutS: number; env?: NodeJS.ProcessEnv },
): WorkerOutcome<T> {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, [script, ...args], {
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeoutS * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  let value: T | undefined;
  try {
    value = parseMarkedLine<T>(child.stdout ?? '', marker);
  } catch (err) {
    return { ok: false, reason: `unreadable result line: ${err instanceof Error ? err.message : String(err)}`, wallSeconds };
  }
  if (value !== undefined) return { ok: true, value, wallSeconds };
  if (child.error && (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return { ok: false, reason: `timed out after ${opts.timeoutS} s`, wallSeconds };
  }
  const why = lastMeaningfulLine(child.stderr ?? '') || (child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`);
  return { ok: false, reason: why, wallSeconds };
}

/** Prints a worker's result as the one marked line its parent looks for. */
export function emitResult(marker: string, value: unknown): void {
  process.stdout.write(`${marker}${JSON.stringify(value)}\n`);
}
