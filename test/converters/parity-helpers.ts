/**
 * Shared by the converter tests: seeded random weights for any tfjs model, NHWC → NCHW
 * feeds, and a one-call parity check of tfjs `predict` (cpu backend) against onnxruntime on
 * the converted model.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { initTf, type Tf } from '../../src/backends/tf';
import { registerWasmTrainingKernels } from '../../src/backends/wasm-kernels';
import { setLogLevel } from '../../src/log';
import { encodeModel } from '../../src/onnx/model-io';
import type { onnx } from '../../src/onnx/proto';
import { tfjsToOnnx, type TfjsToOnnxOptions } from '../../converters/tfjs-to-onnx';

export async function getTf(): Promise<Tf> {
  setLogLevel('warn');
  return (await initTf({ backend: 'cpu' })).tf;
}

/** tfjs backends a parity suite can run on in one process: they share one engine, switched with tf.setBackend. */
export type ParityBackend = 'cpu' | 'wasm' | 'tensorflow';

/** Why native tfjs-node does not load here, or undefined when it does (synchronous, for describe.each; loads it). */
export function nativeTfUnavailable(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0];
  }
}

/**
 * The cpu tfjs module switched to `backend` (native tfjs-node registers 'tensorflow' on the same
 * engine; wasm gets the project's extra kernels as src/backends/tf.ts does).
 */
export async function useTfBackend(backend: ParityBackend): Promise<Tf> {
  const tf = await getTf();
  if (backend === 'wasm') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels(tf);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  return tf;
}

/** Gives every weight of `model` seeded random values (variances positive, kernels scaled by fan-in). */
export function randomizeWeights(tf: Tf, model: TfModule.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    const values = ws.map((w) => {
      const key = (w.originalName ?? w.name).split('/').pop() as string;
      const shape = w.shape as number[];
      s += 1;
      if (key === 'moving_variance') return tf.randomUniform(shape, 0.5, 1.5, 'float32', s);
      const fanIn = shape.length >= 2 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 4;
      return tf.randomNormal(shape, 0, 1 / Math.sqrt(fanIn), 'float32', s);
    });
    layer.setWeights(values);
    values.forEach((v) => v.dispose());
  }
}

/** NHWC tfjs tensor → NCHW FloatTensor (other ranks as they are). */
export function toOnnxFeed(tf: Tf, t: TfModule.Tensor): FloatTensor {
  const x = t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
  const out = { data: new Float32Array(x.dataSync()), dims: [...x.shape] };
  if (x !== t) x.dispose();
  return out;
}

export interface ParityResult {
  onnxModel: onnx.ModelProto;
  /** Max |tfjs − onnxruntime| over all outputs. */
  maxDiff: number;
  tfOutputs: FloatTensor[];
  ortOutputs: FloatTensor[];
}

/**
 * Converts `model`, runs both runtimes on `inputs` (NHWC tfjs tensors) and returns the outputs
 * (tfjs ones in NCHW) and the largest absolute difference. Shapes must match exactly.
 */
export async function runParity(
  tf: Tf,
  model: TfModule.LayersModel,
  inputs: TfModule.Tensor[],
  opts: TfjsToOnnxOptions = {},
): Promise<ParityResult> {
  const onnxModel = tfjsToOnnx(model, opts);
  const session = await createSession(encodeModel(onnxModel), { device: 'cpu', threads: 1, label: model.name });
  try {
    const feeds: Record<string, FloatTensor> = {};
    session.inputNames.forEach((name) => {
      const idx = (onnxModel.graph?.input ?? []).findIndex((vi) => vi.name === name);
      feeds[name] = toOnnxFeed(tf, inputs[idx]);
    });
    const predicted = model.predict(inputs.length === 1 ? inputs[0] : inputs) as TfModule.Tensor | TfModule.Tensor[];
    const tfList = Array.isArray(predicted) ? predicted : [predicted];
    const tfOutputs = tfList.map((t) => toOnnxFeed(tf, t));
    tfList.forEach((t) => t.dispose());
    const outNames = (onnxModel.graph?.output ?? []).map((o) => o.name as string);
    const result = await session.run(feeds, outNames);
    const ortOutputs = outNames.map((n) => result[n]);
    let maxDiff = 0;
    ortOutputs.forEach((o, i) => {
      expect(o.dims).toEqual(tfOutputs[i].dims);
      for (let k = 0; k < o.data.length; k++) {
        const d = Math.abs(o.data[k] - tfOutputs[i].data[k]);
        if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
      }
    });
    return { onnxModel, maxDiff, tfOutputs, ortOutputs };
  } finally {
    await session.release();
  }
}

/** Op types of a converted model's nodes. */
export function opTypes(model: onnx.ModelProto): string[] {
  return (model.graph?.node ?? []).map((n) => n.opType as string);
}
