/**
 * The page's fine-tuning worker: trains the decoder head in TF.js off the main thread (WebGL
 * when the browser has it, else wasm with the project's convolution-gradient kernels, else
 * cpu), step by step with pause/resume, then exports ONE combined ONNX through the same
 * runtime-free core as the CLI (pipeline/finetune).
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Tf } from '../../src/backends/tf-types';
import { registerCpuTrainingKernels, registerWasmTrainingKernels } from '../../src/backends/wasm-kernels';
import { onnx } from '../../src/onnx/proto';
import { exportFinetuned, headToTfjs, HeadTrainer, memoryRows } from '../../pipeline/finetune/finetune';
import { splitDenoiser } from '../../pipeline/finetune/split';
import { featureDbRows } from './feature-store';
import type { FromWorker, TfBackendPreference, ToWorker } from './finetune-protocol';

const tfm = tf as unknown as Tf;
const post = (msg: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(msg, transfer);

let paused = false;
let stopped = false;
let wake: (() => void) | null = null;

/**
 * Lets queued messages (pause, stop) run: on wasm and cpu a step's `data()` resolves as a
 * microtask, so without this the loop would never see them. A MessageChannel task is not clamped
 * the way nested setTimeout(0) is.
 */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

/** The WebGL renderer's name, or null when the worker has no WebGL at all. */
function webglRenderer(): string | null {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl');
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return null;
  }
}

async function pickBackend(pref: TfBackendPreference, threads: number, wasmBase: string): Promise<{ name: string; threads: number; note: string }> {
  const notes: string[] = [];
  if (pref === 'auto') {
    // A software rasterizer (headless Chromium's SwiftShader, Mesa's llvmpipe) trains ~30–80× slower than wasm here.
    const renderer = webglRenderer();
    if (renderer === null) notes.push('no WebGL');
    else if (/swiftshader|llvmpipe|software|basic render/i.test(renderer)) notes.push(`WebGL is software-rendered (${renderer})`);
  }
  if (pref === 'webgl' || (pref === 'auto' && !notes.length)) {
    try {
      if (await tf.setBackend('webgl')) return { name: 'webgl', threads: 1, note: '' };
      notes.push('WebGL: not available');
    } catch (err) {
      notes.push(`WebGL: ${(err as Error).message.split('\n')[0]}`);
    }
    if (pref === 'webgl') throw new Error(`WebGL requested but ${notes.join('; ')}`);
  }
  if (pref !== 'cpu') {
    try {
      setWasmPaths(wasmBase);
      setThreadsCount(threads);
      if (await tf.setBackend('wasm')) {
        registerWasmTrainingKernels(tfm);
        return { name: 'wasm', threads, note: notes.join('; ') };
      }
      notes.push('wasm: not available');
    } catch (err) {
      notes.push(`wasm: ${(err as Error).message.split('\n')[0]}`);
    }
    if (pref === 'wasm') throw new Error(`wasm requested but ${notes.join('; ')}`);
  }
  await tf.setBackend('cpu');
  registerCpuTrainingKernels(tfm);
  return { name: 'cpu', threads: 1, note: notes.join('; ') };
}

async function run(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const backend = await pickBackend(msg.backend, msg.threads, msg.wasmBase);
  post({ type: 'backend', ...backend });
  const split = splitDenoiser(onnx.ModelProto.decode(msg.model), 'model');
  const head = headToTfjs(tfm, split);
  const d = msg.data;
  const stored = d.kind === 'indexeddb' ? await featureDbRows(d.db, d.count, d.batch, d.inputShapes, d.targetShape) : null;
  const rows = d.kind === 'memory' ? memoryRows(d.rows) : stored!;
  const trainer = new HeadTrainer(tfm, head.model, rows, { seed: msg.seed, batchSize: msg.batchSize, lr: msg.lr });
  const lossBefore = await trainer.evaluate();
  let trainMs = 0;
  for (let s = 0; s < msg.steps && !stopped; s++) {
    await yieldToEvents();
    while (paused && !stopped) await new Promise<void>((r) => (wake = r));
    const t0 = performance.now();
    const loss = await trainer.step();
    const ms = performance.now() - t0;
    trainMs += ms;
    post({ type: 'step', step: s + 1, loss, ms });
  }
  const lossAfter = await trainer.evaluate();
  trainer.dispose();
  stored?.close();
  const model = exportFinetuned(split, head, {
    ...msg.record, steps: trainer.steps, seed: msg.seed, lr: msg.lr, batchSize: msg.batchSize,
    runtime: `page/tfjs-${backend.name}${backend.name === 'wasm' ? `x${backend.threads}` : ''}`,
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  post({ type: 'done', bytes, lossBefore, lossAfter, steps: trainer.steps, msPerStep: trainMs / Math.max(1, trainer.steps) }, [bytes.buffer]);
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === 'pause') paused = true;
  else if (msg.type === 'resume' || msg.type === 'stop') {
    paused = false;
    if (msg.type === 'stop') stopped = true;
    wake?.();
    wake = null;
  } else if (msg.type === 'start') {
    run(msg).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  }
};
