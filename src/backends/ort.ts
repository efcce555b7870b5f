/**
 * The only module that imports onnxruntime-node. Sessions resolve their execution provider
 * once: device auto|cuda tries CUDA then CPU, logging the fallback in one line; outputs come
 * back as plain Float32Arrays so callers never see ORT types.
 */
import * as ort from 'onnxruntime-node';
import { BackendUnavailableError, InputError } from '../errors';
import { log, ortSeverityLevel } from '../log';
import type { Device } from './device';

export type ExecutionProvider = 'cuda' | 'cpu';
/** Which execution providers are tried, in order, for each device. */
export const DEVICE_TO_EP: Readonly<Record<Device, readonly ExecutionProvider[]>> = Object.freeze({
  auto: ['cuda', 'cpu'],
  cuda: ['cuda', 'cpu'],
  cpu: ['cpu'],
});

/** A dense float32 tensor in ONNX (NCHW) layout. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The execution provider that actually runs the model. */
  readonly ep: ExecutionProvider;
  /** Runs the model; `fetches` defaults to every output. */
  run(feeds: Record<string, FloatTensor>, fetches?: readonly string[]): Promise<Record<string, FloatTensor>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads; 0 lets ORT decide. */
  threads?: number;
  /** Name used in error messages (the model's file name). */
  label?: string;
  /** Writes the graph as onnxruntime optimized it here (to check which ops it fused, e.g. QLinearConv). */
  optimizedModelPath?: string;
}

const failedEps = new Map<ExecutionProvider, string>();
let loggingConfigured = false;

/**
 * ORT's process-wide log level is fixed when its environment starts (the first session). Its own
 * lines (e.g. a red "Failed to load libonnxruntime_providers_shared.so" for a missing CUDA) would
 * duplicate our one-line fallback message, so it stays at 'fatal' unless we are debugging.
 */
function configureOrtLogging(): void {
  if (loggingConfigured) return;
  loggingConfigured = true;
  ort.env.logLevel = log.enabled('debug') ? 'warning' : 'fatal';
}
const loggedFallbacks = new Set<string>();

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

/** onnxruntime-node's version string. */
export function ortVersion(): string {
  return ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';
}

/**
 * Creates a session on the best execution provider for `device`.
 * @throws InputError when the model cannot be parsed; BackendUnavailableError when no EP loads.
 */
export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OrtSession> {
  configureOrtLogging();
  const device = opts.device ?? 'auto';
  const label = opts.label ?? (typeof model === 'string' ? model : '<in-memory model>');
  const attempts: Array<{ name: string; reason: string }> = [];
  for (const ep of DEVICE_TO_EP[device]) {
    const known = failedEps.get(ep);
    if (known) {
      attempts.push({ name: ep, reason: known });
      continue;
    }
    try {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [ep],
        // A missing CUDA library is expected on CPU machines: keep ORT's own red error line quiet, we log one line.
        logSeverityLevel: ep === 'cpu' ? ortSeverityLevel() : 4,
        graphOptimizationLevel: 'all',
      };
      if (opts.threads) sessionOptions.intraOpNumThreads = opts.threads;
      if (opts.optimizedModelPath) sessionOptions.optimizedModelFilePath = opts.optimizedModelPath;
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      if (attempts.length) {
        const line = `${attempts.map((a) => `${a.name.toUpperCase()} EP unavailable (${a.reason})`).join('; ')}; using ${ep.toUpperCase()}`;
        if (!loggedFallbacks.has(line)) {
          loggedFallbacks.add(line);
          log.info(line);
        }
      }
      return wrap(session, ep, label);
    } catch (err) {
      const reason = firstLine(err);
      if (ep === 'cpu') {
        // The CPU EP always exists, so a CPU failure is the model's fault, not the runtime's.
        throw new InputError(label, `onnxruntime could not load the model: ${reason}`, { cause: err });
      }
      failedEps.set(ep, reason);
      attempts.push({ name: ep, reason });
    }
  }
  throw new BackendUnavailableError('onnxruntime', attempts);
}

function wrap(session: ort.InferenceSession, ep: ExecutionProvider, label: string): OrtSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    ep,
    async run(feeds, fetches) {
      const missing = session.inputNames.filter((n) => !(n in feeds));
      if (missing.length) {
        throw new InputError(label, `missing model inputs: ${missing.join(', ')} (the model takes ${session.inputNames.join(', ')})`);
      }
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const t = feeds[name];
        const n = t.dims.reduce((a, b) => a * b, 1);
        if (n !== t.data.length) {
          throw new InputError(label, `input '${name}': dims [${t.dims.join(',')}] need ${n} values, got ${t.data.length}`);
        }
        ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
      }
      const out = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
      const result: Record<string, FloatTensor> = {};
      for (const [name, t] of Object.entries(out)) {
        if (t.type !== 'float32') throw new InputError(label, `output '${name}' is ${t.type}; only float32 outputs are supported`);
        const d = t.data as Float32Array;
        // Re-view the buffer: ORT's array may come from another JS realm (jest), which breaks instanceof checks.
        result[name] = { data: new Float32Array(d.buffer, d.byteOffset, d.length), dims: [...t.dims] };
        t.dispose?.();
      }
      return result;
    },
    release: () => session.release(),
  };
}
