/**
 * Keeps a native crash from being the end of an `onnxtune` command. The commands that run
 * untrusted models through native TF.js/onnxruntime run in one child process (same argv, stdio
 * inherited, so --json, stdin, exit codes and Ctrl-C behave as before); when that worker dies by
 * a crash signal, the user gets one line naming the file, the signal, the likely cause and the
 * workaround, and the command is retried once on the wasm backend. Node-only imports: bin/onnxtune.js
 * loads this module without the CLI, so the parent stays small.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';

/** Commands that load models into native runtimes. */
export const SUPERVISED_COMMANDS: ReadonlySet<string> = new Set(['run', 'convert', 'eval', 'denoise', 'finetune', 'verify', 'pretrain', 'demo']);
/** Signals that mean the worker crashed (rather than was stopped). */
export const CRASH_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGFPE', 'SIGSEGV', 'SIGILL', 'SIGBUS', 'SIGABRT']);
/** Set in the worker's environment: its attempt number (1, or 2 for the wasm retry). */
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

/**
 * The one-line explanation of a worker crash.
 * @param retrying whether a wasm retry follows
 */
export function crashMessage(argv: readonly string[], signal: NodeJS.Signals, backend: string, retrying: boolean): string {
  const cmd = commandOf(argv) ?? 'command';
  const subject = subjectOf(argv);
  const on = subject ? ` on ${subject}` : '';
  const cause =
    signal === 'SIGFPE'
      ? 'most likely oneDNN inside native TensorFlow dividing by a cache size this CPU/VM reports as 0'
      : 'a crash inside a native library (TensorFlow/oneDNN or onnxruntime)';
  const next = retrying
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
 * Runs the CLI in a worker process and recovers from a crash once.
 * @param argv the CLI arguments
 * @param script the launcher to start the worker with (bin/onnxtune.js)
 * @returns the exit code for this process
 */
export async function supervise(argv: readonly string[], script: string): Promise<number> {
  const backend = process.env.ONNXTUNE_TF_BACKEND ?? 'native';
  const first = await runWorker(script, argv, { ...process.env, [WORKER_ENV]: '1' });
  if (!first.signal) return first.code ?? 1;
  if (!CRASH_SIGNALS.has(first.signal)) return stoppedBy(first.signal);
  const retry = backend !== 'wasm' && backend !== 'cpu';
  process.stderr.write(crashMessage(argv, first.signal, backend, retry) + '\n');
  if (!retry) return 1;
  const second = await runWorker(script, argv, { ...process.env, [WORKER_ENV]: '2', ONNXTUNE_TF_BACKEND: 'wasm' });
  if (!second.signal) return second.code ?? 1;
  if (!CRASH_SIGNALS.has(second.signal)) return stoppedBy(second.signal);
  process.stderr.write(crashMessage(argv, second.signal, 'wasm', false) + '\n');
  return 1;
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
function stoppedBy(signal: NodeJS.Signals): number {
  process.kill(process.pid, signal);
  // Only reached if the signal is ignored or handled here: report it as a shell would.
  return 128 + (constants.signals[signal] ?? 0);
}
