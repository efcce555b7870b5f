/**
 * Keeps a native crash from being the end of an `onnxtune` command. The commands that run
 * untrusted models through native TF.js/onnxruntime run in one child process (same argv, stdio
 * inherited, so --json, stdin, exit codes and Ctrl-C behave as before); when that worker dies by
 * a crash signal, the user gets one line naming the file, the signal, the likely cause and the
 * workaround, and the command is retried: after a SIGFPE with oneDNN on (TF's default), first on native
 * TF with oneDNN off (src/backends/onednn-guard.ts explains the division by zero; native without oneDNN
 * is ≈ 2.4× faster than wasm), then on the wasm backend; after other crashes, on wasm. Because of that retry,
 * the first worker keeps oneDNN on even on a CPU the guard finds hazardous (≈ 2× faster training; most
 * models never reach the division), and any crash there is retried with oneDNN off first. A crashed `run` is
 * retried as `run --resume DIR` on the run directory its worker reported, so finished stages are kept. Node-only imports:
 * bin/onnxtune.js loads this module without the CLI, so the parent stays small.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ONEDNN_SUPERVISED_ENV, oneDnnOnUnderSupervision, oneDnnWouldBeOn } from '../backends/onednn-guard';
import { RUN_DIR_FILE_ENV, reportedRunDir } from '../io/run-dir-report';

/** Commands that load models into native runtimes. */
export const SUPERVISED_COMMANDS: ReadonlySet<string> = new Set(['run', 'convert', 'eval', 'denoise', 'finetune', 'verify', 'pretrain', 'demo']);
/** Signals that mean the worker crashed (rather than was stopped). */
export const CRASH_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGFPE', 'SIGSEGV', 'SIGILL', 'SIGBUS', 'SIGABRT']);
/** Set in the worker's environment: its attempt number (1, then 2, 3 for the retries). */
export const WORKER_ENV = 'ONNXTUNE_SUPERVISED_ATTEMPT';
/** `ONNXTUNE_SUPERVISE=0` runs every command in-process (no child, no retry). */
export const SUPERVISE_ENV = 'ONNXTUNE_SUPERVISE';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** Global options that take a value, so their value is not mistaken for the command. */
const VALUE_OPTIONS = new Set(['--log-level']);

/** The command word of an argv (first positional), or undefined. */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** Whether bin/onnxtune.js should run `argv` under the supervisor rather than in-process. */
export function shouldSupervise(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[WORKER_ENV] || env[SUPERVISE_ENV] === '0') return false;
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return false;
  const cmd = commandOf(argv);
  return cmd !== undefined && SUPERVISED_COMMANDS.has(cmd);
}

/** The first positional argument after the command that names an existing file (the model or job). */
function subjectOf(argv: readonly string[]): string | undefined {
  const cmd = commandOf(argv);
  const rest = argv.slice(argv.indexOf(cmd as string) + 1).filter((a) => !a.startsWith('-'));
  return rest.find((a) => {
    try {
      return fs.statSync(a).isFile();
    } catch {
      return false;
    }
  });
}

/** What runs after a crash: native TF with oneDNN off, the wasm backend, or nothing. */
export type Retry = 'onednn-off' | 'wasm' | false;

/** The environment change of each retry. */
const RETRY_ENV: Readonly<Record<Exclude<Retry, false>, NodeJS.ProcessEnv>> = Object.freeze({
  'onednn-off': { TF_ENABLE_ONEDNN_OPTS: '0' },
  wasm: { ONNXTUNE_TF_BACKEND: 'wasm' },
});

/**
 * The retries after a first crash, in order: native TF with oneDNN off first after a SIGFPE with oneDNN on, or
 * after any crash with oneDNN on where the guard let it stay on only because this supervisor watches.
 * @param backend ONNXTUNE_TF_BACKEND or 'native'
 * @param env the worker's environment, to tell whether its native TF ran with oneDNN on (the guard's own decision)
 */
export function retriesAfter(signal: NodeJS.Signals, backend: string, env: NodeJS.ProcessEnv): Exclude<Retry, false>[] {
  if (backend === 'wasm' || backend === 'cpu') return [];
  const oneDnnSuspect = (signal === 'SIGFPE' && oneDnnWouldBeOn(env)) || oneDnnOnUnderSupervision(env);
  return oneDnnSuspect ? ['onednn-off', 'wasm'] : ['wasm'];
}

/**
 * The one-line explanation of a worker crash.
 * @param retry what runs next
 */
export function crashMessage(argv: readonly string[], signal: NodeJS.Signals, backend: string, retry: Retry): string {
  const cmd = commandOf(argv) ?? 'command';
  const subject = subjectOf(argv);
  const on = subject ? ` on ${subject}` : '';
  const cause =
    signal === 'SIGFPE'
      ? 'most likely oneDNN inside native TensorFlow dividing by a cache size this CPU/VM reports as 0'
      : 'a crash inside a native library (TensorFlow/oneDNN or onnxruntime)';
  const next =
    retry === 'onednn-off'
      ? 'retrying on native TensorFlow with oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)'
      : retry === 'wasm'
        ? 'retrying once on the wasm backend (slower)'
        : `no retry left${backend === 'wasm' ? ' (it crashed on wasm too, so onnxruntime is the likely culprit)' : ''}`;
  return (
    `onnxtune: the ${cmd} worker died with ${signal}${on} (${backend} backend): ${cause}; ${next}. ` +
    'Workarounds: TF_ENABLE_ONEDNN_OPTS=0 (keeps native speed) or ONNXTUNE_TF_BACKEND=wasm.'
  );
}

interface Attempt {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function runWorker(script: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...argv], { stdio: 'inherit', env });
    // Ctrl-C reaches the worker through the terminal's process group; a signal sent to this pid alone is forwarded.
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    for (const s of FORWARDED) process.on(s, forward);
    const done = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      done();
      resolve({ code, signal });
    });
  });
}

/**
 * Runs the CLI in a worker process and retries after a crash ({@link retriesAfter}; a `run` resumes its run directory).
 * @param argv the CLI arguments
 * @param script the launcher to start the worker with (bin/onnxtune.js)
 * @returns the exit code for this process
 */
export async function supervise(argv: readonly string[], script: string): Promise<number> {
  let backend = process.env.ONNXTUNE_TF_BACKEND ?? 'native';
  const runDirFile = commandOf(argv) === 'run' ? path.join(os.tmpdir(), `onnxtune-run-dir-${process.pid}-${Date.now()}`) : undefined;
  // ONEDNN_SUPERVISED_ENV: on a CPU the oneDNN guard finds hazardous, the first worker keeps oneDNN on (≈ 2× faster); a crash is retried with it off.
  let env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: '1', [ONEDNN_SUPERVISED_ENV]: '1', ...(runDirFile ? { [RUN_DIR_FILE_ENV]: runDirFile } : {}) };
  try {
    const first = await runWorker(script, argv, env);
    if (!first.signal) return first.code ?? 1;
    if (!CRASH_SIGNALS.has(first.signal)) return stoppedBy(first.signal, runDirFile);
    const retries = retriesAfter(first.signal, backend, env);
    let signal: NodeJS.Signals = first.signal;
    for (const [i, retry] of retries.entries()) {
      process.stderr.write(crashMessage(argv, signal, backend, retry) + '\n');
      env = { ...env, ...RETRY_ENV[retry], [WORKER_ENV]: String(i + 2) };
      backend = retry === 'wasm' ? 'wasm' : `${backend}, oneDNN off`;
      const runDir = runDirFile ? reportedRunDir(runDirFile) : undefined;
      const next = await runWorker(script, runDir ? resumeArgv(argv, runDir) : argv, env);
      if (!next.signal) return next.code ?? 1;
      if (!CRASH_SIGNALS.has(next.signal)) return stoppedBy(next.signal, runDirFile);
      signal = next.signal;
    }
    process.stderr.write(crashMessage(argv, signal, backend, false) + '\n');
    return 1;
  } finally {
    if (runDirFile) fs.rmSync(runDirFile, { force: true });
  }
}

/** `run` options a resume keeps (with their value when they take one); the job, --set, --out and --from are the run's own now. */
const RESUME_KEEPS: ReadonlyMap<string, boolean> = new Map([['--until', true], ['--log-level', true], ['--json', false], ['--verbose', false]]);

/**
 * The argv that resumes `runDir` in place of a `run` command line: global options before the command stay, then
 * `run --resume DIR` and the options in {@link RESUME_KEEPS}.
 */
export function resumeArgv(argv: readonly string[], runDir: string): string[] {
  const at = argv.indexOf(commandOf(argv) as string);
  const out = [...argv.slice(0, at), 'run', '--resume', runDir];
  for (let i = at + 1; i < argv.length; i++) {
    const a = argv[i];
    const name = a.split('=')[0];
    const takesValue = RESUME_KEEPS.get(name);
    if (takesValue === undefined) continue;
    out.push(a);
    if (takesValue && !a.includes('=') && i + 1 < argv.length) out.push(argv[++i]);
  }
  return out;
}

/**
 * What bin/onnxtune.js does: supervise the commands that need it, run the rest in-process.
 * @param script this launcher's path (the worker is started with it)
 * @param loadMain loads the CLI only when it runs here, so a supervising parent stays small
 */
export function launch(
  argv: readonly string[],
  script: string,
  loadMain: () => (argv: string[]) => Promise<number>,
): Promise<number> {
  return shouldSupervise(argv) ? supervise(argv, script) : loadMain()([...argv]);
}

/** The worker was stopped (Ctrl-C, kill): stop this process the same way, so callers see the same status. */
function stoppedBy(signal: NodeJS.Signals, tempFile?: string): number {
  // The signal may end this process before a finally block runs.
  if (tempFile) fs.rmSync(tempFile, { force: true });
  process.kill(process.pid, signal);
  // Only reached if the signal is ignored or handled here: report it as a shell would.
  return 128 + (os.constants.signals[signal] ?? 0);
}
