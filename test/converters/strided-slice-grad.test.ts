/**
 * OnnxStridedSlice (ONNX Slice with steps, e.g. the stride-2 option-A shortcut of CIFAR ResNets)
 * must have a gradient: fine-tuning an encoder stage that holds one trains through it, and
 * tf.stridedSlice has no gradient in tfjs. Checked against the hand-derived gradient: the
 * upstream gradient scattered back to the picked positions, zero elsewhere.
 */
import { registerOnnxLayers } from '../../converters/onnx-to-tfjs/custom-layers';
import { getTf } from './parity-helpers';

describe('OnnxStridedSlice', () => {
  it('slices like tf.stridedSlice and has the scatter gradient', async () => {
    const tf = await getTf();
    const { OnnxStridedSlice } = registerOnnxLayers(tf);
    // x[:, 1::2, 0:5:2, 1:] on a [1, 5, 6, 3] NHWC tensor.
    const layer = new OnnxStridedSlice({ begin: [1, 0, 1], end: [null, 5, null], strides: [2, 2, 1] });
    const shape = [1, 5, 6, 3];
    const xData = Float32Array.from({ length: 90 }, (_, i) => Math.sin(i) * 3);
    const x = tf.tensor4d(xData, shape as [number, number, number, number]);
    const y = layer.apply(x) as import('@tensorflow/tfjs').Tensor;
    expect(y.shape).toEqual([1, 2, 3, 2]);
    const ref = tf.stridedSlice(x, [0, 1, 0, 1], [1, 5, 5, 3], [1, 2, 2, 1]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(ref.dataSync()));

    const w = tf.tensor4d(Float32Array.from({ length: 12 }, (_, i) => i + 1), [1, 2, 3, 2]);
    const grad = tf.grad((t: import('@tensorflow/tfjs').Tensor) => tf.sum(tf.mul(layer.apply(t) as import('@tensorflow/tfjs').Tensor, w)))(x);
    const g = grad.dataSync();
    const expected = new Float32Array(90);
    const wData = w.dataSync();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let c = 0; c < 2; c++) {
      const h = 1 + 2 * i;
      const ww = 2 * j;
      expected[(h * 6 + ww) * 3 + (c + 1)] = wData[(i * 3 + j) * 2 + c];
    }
    expect(Array.from(g)).toEqual(Array.from(expected));
    tf.dispose([x, y, ref, w, grad]);
  });
});
