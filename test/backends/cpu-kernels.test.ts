/**
 * The fixes registered for the pure-JS cpu backend (registerCpuTrainingKernels): its resize
 * gradients become exact, and Conv2DBackpropFilter (now built on conv2d) still matches cpu's own.
 * A separate file from wasm-kernels.test.ts, which uses the unmodified cpu backend as reference.
 */
import * as tf from '@tensorflow/tfjs';
import { quietCpu, rnd } from '../helpers/tf-cpu';
import { CPU_TRAINING_KERNELS, registerCpuTrainingKernels } from '../../src/backends/wasm-kernels';


function bpfCases(): Array<{ s: number; pad: 'same' | 'valid'; k: number }> {
  const out: Array<{ s: number; pad: 'same' | 'valid'; k: number }> = [];
  for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const k of [3, 4]) out.push({ s, pad, k });
  return out;
}

function bpf(c: { s: number; pad: 'same' | 'valid'; k: number }): Float32Array {
  return tf.tidy(() => {
    const xShape: [number, number, number, number] = [2, 9, 8, 3];
    const fShape: [number, number, number, number] = [c.k, c.k, 3, 5];
    const y = tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, c.s, c.pad);
    const out = tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x: rnd(xShape, 1), dy: rnd(y.shape, 2) },
      { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: fShape } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

let reference: Float32Array[] = [];

beforeAll(async () => {
  await quietCpu();
  reference = bpfCases().map(bpf); // cpu's own kernel, before the replacement
  registerCpuTrainingKernels(tf);
  registerCpuTrainingKernels(tf);
});

it('registers its kernels for cpu', () => {
  for (const k of CPU_TRAINING_KERNELS) expect(tf.getKernel(k, 'cpu')).toBeDefined();
});

it('Conv2DBackpropFilter built on conv2d matches cpu’s own', () => {
  bpfCases().forEach((c, i) => {
    const scale = Math.max(1, ...Array.from(reference[i], Math.abs));
    expect(bpf(c)).toBeCloseToArray(reference[i], { atol: 1e-4 * scale });
  });
});

it.each([
  ['nearest', [3, 4], [6, 8]],
  ['nearest', [4, 3], [7, 5]],
  ['bilinear', [3, 4], [6, 8]],
  ['bilinear', [5, 4], [3, 3]],
] as Array<['nearest' | 'bilinear', [number, number], [number, number]]>)(
  '%s resize gradient, batch 2, %p → %p, is exact',
  (kind, inSize, outSize) => {
    const shape = [2, inSize[0], inSize[1], 3];
    const f = (x: tf.Tensor): tf.Tensor =>
      kind === 'nearest'
        ? tf.image.resizeNearestNeighbor(x as tf.Tensor4D, outSize)
        : tf.image.resizeBilinear(x as tf.Tensor4D, outSize);
    const w = rnd([2, outSize[0], outSize[1], 3], 7);
    // resize is linear: the gradient's i-th entry is Σ w·resize(e_i).
    const n = shape.reduce((a, b) => a * b, 1);
    const ref = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      ref[i] = tf.tidy(() => tf.sum(tf.mul(f(tf.oneHot([i], n).reshape(shape).toFloat()), w)).dataSync()[0]);
    }
    const got = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), w)))(rnd(shape, 1)).dataSync());
    expect(got).toBeCloseToArray(ref, { atol: 1e-5 });
    w.dispose();
  },
);
