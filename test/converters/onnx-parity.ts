/**
 * Shared by the ONNX → tfjs tests: seeded NCHW inputs, onnxruntime runs, tfjs predict on
 * NHWC inputs with outputs brought back to NCHW, and max |diff| over outputs.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { FloatTensor } from '../../src/backends/ort';
import type { Tf } from '../../src/backends/tf';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import { seeded } from '../onnx/fixtures';

/** A seeded input in [-scale, scale). */
export function randomInput(dims: number[], seed: number, scale = 1.5): FloatTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { data: seeded(n, seed).map((v) => v * scale), dims };
}

/** Runs a tfjs model on NCHW feeds (transposed to NHWC at the boundary) and returns NCHW outputs. */
export function predictNchw(tf: Tf, model: TfModule.LayersModel, feeds: FloatTensor[]): FloatTensor[] {
  const xs = feeds.map((f) => {
    if (f.dims.length !== 4) return tf.tensor(f.data, f.dims);
    const [n, c, h, w] = f.dims;
    return tf.tensor(nchwToNhwc(f.data, n, c, h, w), [n, h, w, c]);
  });
  const y = model.predict(xs.length === 1 ? xs[0] : xs) as TfModule.Tensor | TfModule.Tensor[];
  const ys = Array.isArray(y) ? y : [y];
  const out = ys.map((t) => {
    const d = new Float32Array(t.dataSync());
    if (t.rank !== 4) return { data: d, dims: [...t.shape] };
    const [n, h, w, c] = t.shape;
    return { data: nhwcToNchw(d, n, h, w, c), dims: [n, c, h, w] };
  });
  xs.forEach((x) => x.dispose());
  ys.forEach((t) => t.dispose());
  return out;
}

/** Max |a − b| over paired outputs (Infinity for NaN or a shape mismatch). */
export function maxAbsDiff(a: FloatTensor[], b: FloatTensor[]): number {
  let m = 0;
  a.forEach((x, i) => {
    const y = b[i];
    if (!y || x.dims.join(',') !== y.dims.join(',')) {
      m = Infinity;
      return;
    }
    for (let k = 0; k < x.data.length; k++) {
      const d = Math.abs(x.data[k] - y.data[k]);
      if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
    }
  });
  return m;
}
