/** Batched decoder inference on cached features (shared by train, evaluate and verify). */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf';
import { gatherRows } from '../../src/tensor/layout';
import type { ArrayInput } from './loop';

/**
 * Runs `model` on rows [0, n) of `inputs` (NHWC arrays) and returns the NHWC output.
 * @param clip clamp the output to [0,1], as the exported model does at inference.
 */
export function predictRows(tf: Tf, model: TfModule.LayersModel, inputs: ArrayInput[], n: number, clip: boolean, batch = 256): Float32Array {
  let out: Float32Array | undefined;
  for (let start = 0; start < n; start += batch) {
    const rows = Array.from({ length: Math.min(batch, n - start) }, (_, i) => start + i);
    const values = tf.tidy(() => {
      const xs = inputs.map((inp) => {
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
