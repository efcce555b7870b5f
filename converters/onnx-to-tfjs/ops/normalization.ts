/**
 * Normalizations: BatchNormalization (inference) that no convolution folded (a tfjs
 * BatchNormalization on the channel axis, last in NHWC), LRN across channels (OnnxLRN),
 * InstanceNormalization (OnnxInstanceNorm) and LayerNormalization over the axes from `axis` on
 * (OnnxLayerNorm; the channel-only form that ConvNeXt exports as Transpose → LayerNormalization
 * → Transpose is matched by the Transpose mapper, see layerNormOverChannels).
 */
import { normAxis, toFloat32, type ConstTensor } from '../constants';
import { registerOnnxLayers } from '../custom-layers';
import { broadcastConstToTf, tfAxis } from '../layout';
import type { BuildContext, OpMapper, SymbolicTensor, Value } from '../types';

/** An OnnxLayerNorm over tfjs `axes` with ONNX scale/bias constants broadcast to the rank-`rank` ONNX input. */
export function applyLayerNorm(
  ctx: BuildContext, x: SymbolicTensor, axes: number[], epsilon: number, scale: ConstTensor, bias: ConstTensor | undefined, onnxOrder = false,
): SymbolicTensor {
  const rank = x.shape.length;
  const lay = (c: ConstTensor) => {
    const laid = onnxOrder ? (c.dims.length <= rank ? c : undefined) : broadcastConstToTf(c, rank);
    if (!laid) return ctx.unsupported(`LayerNormalization parameter of dims [${c.dims.join(', ')}]`, ['dims of the normalized axes']);
    const full = [...new Array<number>(rank - laid.dims.length).fill(1), ...laid.dims];
    return { data: toFloat32(laid), shape: full.slice(1) };
  };
  const s = lay(scale);
  const b = bias ? lay(bias) : undefined;
  if (b && b.shape.join() !== s.shape.join()) ctx.unsupported('LayerNormalization with scale and bias of different shapes', ['equal shapes']);
  for (let i = 1; i < rank; i++) {
    if (s.shape[i - 1] !== 1 && x.shape[i] !== s.shape[i - 1]) ctx.unsupported('LayerNormalization scale over an axis of unknown size', ['a static input size (inputShapes)']);
  }
  const layer = new (registerOnnxLayers(ctx.tf).OnnxLayerNorm)({ name: ctx.layerName(), axes, epsilon, paramShape: s.shape, useBias: b !== undefined });
  return ctx.apply(layer, x, b ? [s, b] : [s]);
}

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
  {
    onnxOp: 'LRN',
    opsets: [1, 21],
    category: 'normalization',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [
      { onnxName: 'size', type: 'int' },
      { onnxName: 'alpha', type: 'float', default: 1e-4 },
      { onnxName: 'beta', type: 'float', default: 0.75 },
      { onnxName: 'bias', type: 'float', default: 1 },
    ],
    build: (ctx): Value[] => {
      const x = ctx.tensor(0);
      if (x.shape.length !== 4) ctx.unsupported(`LRN on rank ${x.shape.length}`, ['[N, C, H, W]']);
      const size = ctx.attrs.size as number | undefined;
      // Even sizes make ONNX's window asymmetric; onnxruntime refuses them too, so there is no reference to match.
      if (!size || size < 1 || size % 2 === 0) ctx.unsupported(`LRN size ${String(size)}`, ['odd sizes ≥ 1']);
      const layer = new (registerOnnxLayers(ctx.tf).OnnxLRN)({
        name: ctx.layerName(), size: size!, alpha: ctx.attrs.alpha as number, beta: ctx.attrs.beta as number, bias: ctx.attrs.bias as number,
      });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
    },
    notes: 'OnnxLRN across channels (tf LRN with radius (size − 1)/2 and alpha / size as in ONNX); odd sizes',
  },
  {
    onnxOp: 'InstanceNormalization',
    opsets: [6, 21],
    category: 'normalization',
    inputs: [
      { name: 'input', kind: 'tensor' },
      { name: 'scale', kind: 'const' },
      { name: 'B', kind: 'const' },
    ],
    attrs: [{ onnxName: 'epsilon', type: 'float', default: 1e-5 }],
    build: (ctx): Value[] => {
      const x = ctx.tensor(0);
      if (x.shape.length !== 4) ctx.unsupported(`InstanceNormalization on rank ${x.shape.length}`, ['[N, C, H, W]']);
      const [scale, bias] = [ctx.constant(1) as ConstTensor, ctx.constant(2) as ConstTensor];
      const c = x.shape[3] as number;
      if (scale.data.length !== c || bias.data.length !== c) ctx.unsupported(`InstanceNormalization scale/B of ${scale.data.length}/${bias.data.length} values for ${c} channels`, ['one value per channel']);
      const layer = new (registerOnnxLayers(ctx.tf).OnnxInstanceNorm)({ name: ctx.layerName(), epsilon: ctx.attrs.epsilon as number, channels: c });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x, [scale, bias].map((t) => ({ data: toFloat32(t), shape: [c] }))) }];
    },
    notes: 'OnnxInstanceNorm (per sample and channel over H, W)',
  },
  {
    onnxOp: 'LayerNormalization',
    opsets: [17, 21],
    category: 'normalization',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'Scale', kind: 'const' },
      { name: 'B', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'axis', type: 'int', default: -1 },
      { onnxName: 'epsilon', type: 'float', default: 1e-5 },
      { onnxName: 'stash_type', type: 'int', default: 1 },
    ],
    onnxOrder: 'handled',
    build: (ctx): Value[] => {
      const x = ctx.tensor(0);
      const rank = x.shape.length;
      const axis = normAxis(ctx.attrs.axis as number, rank);
      if (axis === 0) ctx.unsupported('LayerNormalization from the batch axis', ['axis ≥ 1']);
      if ((ctx.input(0) as { onnxOrder?: boolean }).onnxOrder) {
        // NHWC order (ConvNeXt's MLP block): only the channel axis, which is tfjs's last.
        if (axis !== rank - 1) ctx.unsupported(`LayerNormalization from axis ${axis} of an activation in NHWC order`, ['the last axis (channels)']);
        return [{ kind: 'tensor', sym: applyLayerNorm(ctx, x, [rank - 1], ctx.attrs.epsilon as number, ctx.constant(1) as ConstTensor, ctx.constant(2), true), onnxOrder: true }];
      }
      const axes = Array.from({ length: rank - axis }, (_, i) => tfAxis(axis + i, rank)).sort((a, b) => a - b);
      return [{ kind: 'tensor', sym: applyLayerNorm(ctx, x, axes, ctx.attrs.epsilon as number, ctx.constant(1) as ConstTensor, ctx.constant(2)) }];
    },
    notes: 'OnnxLayerNorm over the axes from axis on; Transpose(0,2,3,1) → LayerNormalization(−1) → Transpose(0,3,1,2) (ConvNeXt): over channels; Mean/InvStdDev outputs unused',
  },
];
