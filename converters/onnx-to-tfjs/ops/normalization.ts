/**
 * BatchNormalization (inference) that no convolution folded: a tfjs BatchNormalization on the
 * channel axis (last in NHWC) with the ONNX statistics and epsilon.
 */
import { toFloat32, type ConstTensor } from '../constants';
import type { OpMapper } from '../types';

export const NORMALIZATION_OPS: readonly OpMapper[] = [
  {
    onnxOp: 'BatchNormalization',
    opsets: [7, 21],
    category: 'normalization',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'scale', kind: 'const' },
      { name: 'B', kind: 'const' },
      { name: 'input_mean', kind: 'const' },
      { name: 'input_var', kind: 'const' },
    ],
    attrs: [
      { onnxName: 'epsilon', type: 'float', default: 1e-5 },
      { onnxName: 'training_mode', type: 'int', default: 0 },
    ],
    build: (ctx) => {
      const x = ctx.tensor(0);
      if (x.shape.length !== 4 && x.shape.length !== 2) ctx.unsupported(`BatchNormalization on rank ${x.shape.length}`, ['rank 2', 'rank 4']);
      if ((ctx.attrs.training_mode as number) !== 0) ctx.unsupported('BatchNormalization with training_mode = 1', ['training_mode = 0']);
      const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => ctx.constant(i) as ConstTensor);
      const c = mean.data.length;
      const layer = ctx.tf.layers.batchNormalization({ axis: -1, epsilon: ctx.attrs.epsilon as number, name: ctx.layerName() });
      const weights = [gamma, beta, mean, variance].map((t) => ({ data: toFloat32(t), shape: [c] }));
      return [{ kind: 'tensor', sym: ctx.apply(layer, x, weights) }];
    },
    notes: 'folded into a preceding Conv; otherwise BatchNormalization (channel axis)',
  },
];
