/**
 * The only module that loads TensorFlow.js. It picks the fastest runtime that loads here,
 * once per process: tfjs-node-gpu (device cuda|auto) → tfjs-node → wasm (with the
 * training kernels the project registers) → pure-JS cpu, and logs which one it chose and why
 * the faster ones were skipped.
 */
import { BackendUnavailableError } from '../errors';
import { log } from '../log';
import type { Device } from './device';
import { guardOneDnn, oneDnnWouldBeOn } from './onednn-guard';
import type { Tf } from './tf-types';
import { registerCpuTrainingKernels, registerWasmTrainingKernels } from './wasm-kernels';

export type { Tf } from './tf-types';
export type TfBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const TF_BACKENDS = Object.freeze(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const);

export interface TfRuntime {
  tf: Tf;
  /** What actually runs the kernels. */
  backend: TfBackendName;
  /** One line for logs and run.json, e.g. "tensorflow (tfjs-node 4.22.0, TF 2.21.0)". */
  description: string;
  /** Faster runtimes that were tried and why they were skipped. */
  skipped: Array<{ name: string; reason: string }>;
}

export interface TfOptions {
  device?: Device;
  /** Force one runtime (tests use 'cpu' or 'wasm' to compare backends); env ONNXTUNE_TF_BACKEND does the same. */
  backend?: TfBackendName;
}

let current: Promise<TfRuntime> | undefined;

/** Whether `name` is a native TensorFlow binding (tfjs-node or tfjs-node-gpu). */
const isNative = (name: TfBackendName) => name === 'tensorflow-gpu' || name === 'tensorflow';

/**
 * Test-only hook for the CLI supervisor's tests (test/cli/supervisor.test.ts): ONNXTUNE_TEST_CRASH=SIGFPE
 * kills this process with that signal when native TF loads, as a crash inside TF would;
 * ONNXTUNE_TEST_CRASH=SIGSEGV:all does it on every backend, ONNXTUNE_TEST_CRASH=SIGFPE:onednn only on native TF
 * with oneDNN on.
 */
function testCrashHook(name: TfBackendName): void {
  const spec = process.env.ONNXTUNE_TEST_CRASH;
  if (!spec) return;
  const [signal, scope] = spec.split(':');
  const native = isNative(name);
  // 'onednn': only when native TF would load with oneDNN on (as the guard will decide), like the real division by zero.
  if (scope === 'all' || (native && (scope !== 'onednn' || oneDnnWouldBeOn()))) process.kill(process.pid, signal as NodeJS.Signals);
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}

/** Runs the oneDNN guard (before any native binding loads: TF reads TF_ENABLE_ONEDNN_OPTS once) and logs its decision. */
function guardOneDnnLogged(): void {
  const guard = guardOneDnn();
  // Trade-off measured on such a VM (bench/README.md): training ≈ 2× slower without oneDNN, and many models (onnxtune's
  // decoder heads) run fine with it, but e.g. DenseNet's 1×1 convs crash; the user may choose with the variable.
  if (guard?.oneDnn === 'off') log.warn(`oneDNN custom ops off (TF_ENABLE_ONEDNN_OPTS=0): ${guard.reason}; native TF would crash with SIGFPE on some models (native training ≈ 2× slower without oneDNN; TF_ENABLE_ONEDNN_OPTS=1 forces it on at that risk)`);
  if (guard?.oneDnn === 'on-supervised') log.info(`oneDNN custom ops kept on although ${guard.reason}: native training is ≈ 2× faster with them, and if a model makes oneDNN crash (SIGFPE), the command is retried with them off (TF_ENABLE_ONEDNN_OPTS=0 skips the try)`);
}

function loadNative(pkg: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu'): Tf {
  // NOTE: a plain require; these packages are optionalDependencies and may be absent or unbuilt.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(pkg) as Tf;
}

async function choose(opts: TfOptions): Promise<TfRuntime> {
  const want = opts.backend ?? (process.env.ONNXTUNE_TF_BACKEND as TfBackendName | undefined);
  if (want && !TF_BACKENDS.includes(want)) {
    throw new BackendUnavailableError('TensorFlow.js', [
      { name: want, reason: `unknown backend; expected one of ${TF_BACKENDS.join(', ')}` },
    ]);
  }
  const device = opts.device ?? 'auto';
  const skipped: Array<{ name: string; reason: string }> = [];
  const candidates: TfBackendName[] = want
    ? [want]
    : device === 'cpu'
      ? ['tensorflow', 'wasm', 'cpu']
      : ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

  if (candidates.some(isNative)) guardOneDnnLogged();
  for (const name of candidates) {
    const native = isNative(name);
    if (!native) testCrashHook(name);
    try {
      if (native) {
        const tf = loadNative(name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
        // After the binding loaded and the guard logged its decision, where oneDNN's real division by zero happens.
        testCrashHook(name);
        await tf.ready();
        if (tf.getBackend() !== 'tensorflow') throw new Error(`backend is '${tf.getBackend()}'`);
        const versions = tf.version as Record<string, string>;
        // NOTE: the TensorFlow C library version is only on the native binding.
        const tfVersion = (tf.backend() as { binding?: { TF_Version?: string } }).binding?.TF_Version ?? '?';
        return {
          tf,
          backend: name,
          description: `${name} (tfjs-node ${versions['tfjs-node'] ?? '?'}, TF ${tfVersion})`,
          skipped,
        };
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tf = require('@tensorflow/tfjs') as Tf;
      if (name === 'wasm') {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const wasm = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount?: (n: number) => void };
        void wasm;
        registerWasmTrainingKernels(tf);
      }
      // cpu's own Conv2DBackpropFilter is ~45× slower than conv2d and its resize gradients are wrong.
      if (name === 'cpu') registerCpuTrainingKernels(tf);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      return { tf, backend: name, description: `${name} (tfjs ${tf.version.tfjs})`, skipped };
    } catch (err) {
      skipped.push({ name, reason: firstLine(err) });
    }
  }
  throw new BackendUnavailableError('TensorFlow.js', skipped);
}

/**
 * Loads TensorFlow.js once per process and logs the choice.
 * @throws BackendUnavailableError when nothing loads (or a forced backend does not).
 */
export function initTf(opts: TfOptions = {}): Promise<TfRuntime> {
  // One runtime per process: a later request (another device or backend) keeps the one already loaded
  // rather than mixing two TF.js engines.
  if (current) return current;
  current = choose(opts).then((rt) => {
    const why = rt.skipped.length ? ` (skipped: ${rt.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '';
    log.info(`TensorFlow.js backend: ${rt.description}${why}`);
    if (rt.backend === 'wasm' || rt.backend === 'cpu') {
      log.info('Native TensorFlow.js is 5–7× faster for training; `npm run setup:native` installs it offline.');
    }
    return rt;
  });
  current.catch(() => {
    current = undefined;
  });
  return current;
}

/** The loaded module; throws if initTf() has not completed. */
export async function getTf(): Promise<Tf> {
  return (await initTf()).tf;
}
