/**
 * The page's only importer of onnxruntime-web. ORT's .wasm/.mjs files are served next to the
 * page (ort/), never from a CDN: `env.wasm.wasmPaths` points there. Threads need cross-origin
 * isolation (SharedArrayBuffer): `onnxtune web` sends COOP/COEP headers, so the page uses up to
 * 4 threads there and 1 thread on a static host that does not. WebGPU is tried first when the
 * browser exposes an adapter, with the wasm EP as the fallback.
 */
import * as ort from 'onnxruntime-web';
import type { DenoiserInfo, ModelCall } from '../../src/denoise';

export type EpPreference = 'auto' | 'wasm' | 'webgpu';

/** A loaded model ready to run. */
export interface PageSession {
  /** The execution provider that runs it. */
  ep: 'wasm' | 'webgpu';
  threads: number;
  /** Why WebGPU was not used (when it was not). */
  webgpuNote: string;
  call: ModelCall;
  release(): Promise<void>;
}

/** Threads the wasm EP may use here: up to 4 when cross-origin isolated, else 1. */
export function wasmThreads(requested?: number): number {
  if (!self.crossOriginIsolated) return 1;
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(requested ?? 4, cores, 16));
}

/** Points ORT at the wasm files served under `<base>ort/`; call once before the first session. */
export function configureOrt(base: string, threads: number): void {
  ort.env.wasm.wasmPaths = new URL('ort/', base).href;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'warning';
}

async function webgpuAvailable(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu)';
  try {
    return (await gpu.requestAdapter()) ? '' : 'no WebGPU adapter';
  } catch (err) {
    return `WebGPU adapter request failed: ${(err as Error).message}`;
  }
}

function wrap(session: ort.InferenceSession, info: DenoiserInfo): ModelCall {
  return async (input, dims) => {
    const feeds = { [info.input.name]: new ort.Tensor(input.type, input.data, dims) };
    const out = await session.run(feeds, [info.output.name]);
    const t = out[info.output.name];
    // WebGPU outputs may live on the GPU; getData() downloads them (and is a copy on wasm).
    const data = (await t.getData()) as ArrayLike<number>;
    t.dispose();
    return data;
  };
}

/**
 * Creates a session for `bytes` on WebGPU (when preferred or auto and available) or wasm.
 * @throws Error from onnxruntime-web when no EP can load the model
 */
export async function createPageSession(bytes: Uint8Array, info: DenoiserInfo, preference: EpPreference): Promise<PageSession> {
  const threads = ort.env.wasm.numThreads ?? 1;
  let webgpuNote = preference === 'wasm' ? 'wasm requested' : await webgpuAvailable();
  if (!webgpuNote) {
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
      return { ep: 'webgpu', threads, webgpuNote, call: wrap(session, info), release: () => session.release() };
    } catch (err) {
      if (preference === 'webgpu') throw err;
      webgpuNote = `WebGPU session failed: ${(err as Error).message.split('\n')[0]}`;
    }
  } else if (preference === 'webgpu') {
    throw new Error(`WebGPU requested but ${webgpuNote}`);
  }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { ep: 'wasm', threads, webgpuNote, call: wrap(session, info), release: () => session.release() };
}

/** A raw session for the fine-tuning encoder: float32 feeds in, every output back as float32 (wasm EP). */
export interface RawSession {
  run(feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  release(): Promise<void>;
}

/** Opens `bytes` on the wasm EP for plain float32 runs (the frozen encoder while fine-tuning). */
export async function createRawSession(bytes: Uint8Array): Promise<RawSession> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return {
    async run(feeds) {
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
      const out = await session.run(ortFeeds);
      const result: Record<string, { data: Float32Array; dims: number[] }> = {};
      for (const [k, t] of Object.entries(out)) {
        result[k] = { data: Float32Array.from((await t.getData()) as Float32Array), dims: [...t.dims] };
        t.dispose();
      }
      return result;
    },
    release: () => session.release(),
  };
}
