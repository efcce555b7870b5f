/**
 * The page's test hook on `window.__onnxtune`: its types, with no DOM or Node types, so the page
 * and the browser tests share one definition.
 */
import type { DenoiserInfo, Planar } from '../../src/denoise';
import type { Patches } from '../../pipeline/finetune/finetune';

/** The last denoise, as tests read it. */
export interface LastRun {
  /** The model input in [0,1], planar C×H×W (after noise). */
  input: Float32Array;
  /** The denoised output in [0,1], planar C×H×W. */
  output: Float32Array;
  clean: Float32Array | null;
  dims: [number, number, number, number];
  psnrNoisy: number | null;
  psnrDenoised: number | null;
  modelMs: number;
  totalMs: number;
  tiles: number;
  sigma: number | null;
}

/** The test hook on `window.__onnxtune`. */
export interface OnnxtuneHook {
  state: 'loading' | 'ready' | 'busy' | 'error';
  error: string | null;
  /** Completed denoises. */
  runs: number;
  model: { name: string; info: DenoiserInfo; ep: string; threads: number; webgpuNote: string } | null;
  /** The image denoise will use. */
  source: { name: string; width: number; height: number } | null;
  last: LastRun | null;
  /** Denoises the last input `n` more times as one tile; per run: whole denoise and model-call time (ms). */
  benchmark(n: number): Promise<Array<{ totalMs: number; modelMs: number }>>;
  /** The Fine-tune panel. */
  finetune: FinetuneHook | null;
}

/** The panel's state on `window.__onnxtune.finetune`, as tests read it. */
export interface FinetuneHook {
  state: 'idle' | 'encoding' | 'training' | 'paused' | 'exporting' | 'done' | 'error';
  error: string | null;
  backend: { name: string; threads: number; note: string } | null;
  /** Where the encoder features are kept for training. */
  store: 'memory' | 'indexeddb' | null;
  images: number;
  patches: Patches | null;
  losses: number[];
  /** Wall time of each step in the worker (ms), for benchmarks. */
  stepMs: number[];
  msPerStep: number | null;
  lossBefore: number | null;
  lossAfter: number | null;
  /** The held-out image: model input, base output, fine-tuned output (planar, [0,1]). */
  heldOut: { input: Planar; before: Planar; after: Planar; clean: Planar | null } | null;
  /** Size of the model offered for download. */
  bytes: number | null;
  downloadName: string | null;
}
