/** Batched decoder inference on cached features (shared by train, evaluate and verify). */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { gatherRows } from '../../src/tensor/layout';
import { IMAGE_INPUT } from './decoder';
import type { ArrayInput, TrainSplit } from './loop';

/**
 * Which of the arrays `[tap0…tapK, image]` each model input reads, by input name: a head may use
 * only some of them (the plain head ignores the shallower taps, and the image unless residual),
 * and tfjs drops unused inputs when a model is saved. Models with other input names read by position.
 */
export function inputIndices(model: TfModule.LayersModel, available: number): number[] {
  const names = model.inputLayers.map((l) => l.name);
  if (names.length === available) return names.map((_, i) => i);
  return names.map((name, i) => {
    const tap = /^tap(\d+)$/.exec(name);
    if (tap && Number(tap[1]) < available - 1) return Number(tap[1]);
    if (name === IMAGE_INPUT) return available - 1;
    if (i < available) return i;
    throw new Error(`model input '${name}' has no matching array (${available} given)`);
  });
}

/** The arrays `model` reads, in its input order (see {@link inputIndices}). */
export function inputsFor(model: TfModule.LayersModel, inputs: ArrayInput[]): ArrayInput[] {
  return inputIndices(model, inputs.length).map((k) => inputs[k]);
}

/** A split whose inputs are the ones `model` reads. */
export function splitFor<S extends TrainSplit>(model: TfModule.LayersModel, split: S): S {
  return { ...split, inputs: inputsFor(model, split.inputs) };
}

/**
 * Runs `model` on rows [0, n) of `inputs` (NHWC arrays, all of `[tap0…tapK, image]` or exactly the
 * model's inputs) and returns the NHWC output.
 * @param clip clamp the output to [0,1], as the exported model does at inference.
 */
export function predictRows(tf: Tf, model: TfModule.LayersModel, inputs: ArrayInput[], n: number, clip: boolean, batch = 256): Float32Array {
  const used = inputsFor(model, inputs);
  let out: Float32Array | undefined;
  for (let start = 0; start < n; start += batch) {
    const rows = Array.from({ length: Math.min(batch, n - start) }, (_, i) => start + i);
    const values = tf.tidy(() => {
      const xs = used.map((inp) => {
        const size = inp.shape[0] * inp.shape[1] * inp.shape[2];
        return tf.tensor4d(gatherRows(inp.data, size, rows), [rows.length, ...inp.shape]);
      });
      const y = model.predict(xs) as TfModule.Tensor;
      return (clip ? tf.clipByValue(y, 0, 1) : y).dataSync() as Float32Array;
    });
    out ??= new Float32Array((values.length / rows.length) * n);
    out.set(values, start * (values.length / rows.length));
  }
  return out ?? new Float32Array(0);
}
