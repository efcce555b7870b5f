/**
 * Activations: one table row per ONNX op, mapped to a tfjs Activation layer (or ReLU,
 * LeakyReLU, PReLU, Softmax), or to OnnxUnary/OnnxSoftmax where Keras differs (HardSigmoid
 * with other constants, HardSwish, softmax over ONNX's flattened axes, LogSoftmax).
 * Convolutions and Dense layers absorb a following activation from FUSED_ACTIVATIONS into
 * their own `activation` config instead of adding a layer.
 */
import { normAxis, toFloat32, type ConstTensor } from '../constants';
import { registerOnnxLayers } from '../custom-layers';
import { broadcastConstToTf, tfAxis } from '../layout';
import type { AttrSpec, BuildContext, OpMapper, Value } from '../types';

/** ONNX ops (with default attributes) that a convolution or Dense layer takes as its `activation`. */
export const FUSED_ACTIVATIONS: Readonly<Record<string, string>> = Object.freeze({
  Relu: 'relu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softplus: 'softplus',
  Softsign: 'softsign',
});

/**
 * When the sole consumer of `ctx.node`'s output is a fusable activation, absorbs it and
 * returns its tfjs name; otherwise 'linear'.
 */
export function takeActivation(ctx: BuildContext, from = ctx.node): string {
  const c = ctx.consumer(Object.keys(FUSED_ACTIVATIONS), from);
  if (!c) return 'linear';
  ctx.absorb(c);
  return FUSED_ACTIVATIONS[c.opType as string];
}

/** An op that is exactly a tfjs activation when its attributes have the listed values. */
function activationOp(op: string, tfName: string, fixed: Record<string, number> = {}): OpMapper {
  const attrs: AttrSpec[] = Object.entries(fixed).map(([onnxName, v]) => ({ onnxName, type: 'float', default: v }));
  return {
    onnxOp: op,
    opsets: [6, 21],
    category: 'activation',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs,
    onnxOrder: 'elementwise',
    build: (ctx): Value[] => {
      for (const [k, v] of Object.entries(fixed)) {
        if (Math.abs((ctx.attrs[k] as number) - v) > 1e-7) ctx.unsupported(`${op} with ${k} = ${String(ctx.attrs[k])}`, [`${k} = ${v}`]);
      }
      const layer = op === 'Relu' ? ctx.tf.layers.reLU({ name: ctx.layerName() }) : ctx.tf.layers.activation({ activation: tfName as never, name: ctx.layerName() });
      return [{ kind: 'tensor', sym: ctx.apply(layer, ctx.tensor(0)) }];
    },
    notes: `${op === 'Relu' ? 'ReLU' : `Activation '${tfName}'`}${Object.keys(fixed).length ? ` (${Object.entries(fixed).map(([k, v]) => `${k} = ${v}`).join(', ')})` : ''}${op in FUSED_ACTIVATIONS ? '; fused into a preceding Conv/Gemm' : ''}`,
  };
}

/** HardSigmoid/HardSwish: tfjs 'hardSigmoid' for ONNX's default HardSigmoid, OnnxUnary otherwise. */
function hardActivation(op: 'HardSigmoid' | 'HardSwish', alpha: number, beta: number): OpMapper {
  return {
    onnxOp: op,
    opsets: [6, 21],
    category: 'activation',
    inputs: [{ name: 'X', kind: 'tensor' }],
    onnxOrder: 'elementwise',
    attrs: op === 'HardSigmoid' ? [{ onnxName: 'alpha', type: 'float', default: alpha }, { onnxName: 'beta', type: 'float', default: beta }] : [],
    build: (ctx) => {
      const a = op === 'HardSigmoid' ? (ctx.attrs.alpha as number) : alpha;
      const b = op === 'HardSigmoid' ? (ctx.attrs.beta as number) : beta;
      const name = ctx.layerName();
      const keras = op === 'HardSigmoid' && Math.abs(a - 0.2) < 1e-7 && Math.abs(b - 0.5) < 1e-7;
      const layer = keras ? ctx.tf.layers.activation({ activation: 'hardSigmoid', name }) : new (registerOnnxLayers(ctx.tf).OnnxUnary)({ name, op, alpha: a, beta: b });
      return [{ kind: 'tensor', sym: ctx.apply(layer, ctx.tensor(0)) }];
    },
    notes: op === 'HardSigmoid' ? "Activation 'hardSigmoid' (alpha = 0.2, beta = 0.5); other alpha/beta (PyTorch's 1/6): OnnxUnary" : 'OnnxUnary (x · HardSigmoid(x) with alpha = 1/6, beta = 0.5)',
  };
}

function buildPRelu(ctx: BuildContext): Value[] {
  const x = ctx.tensor(0);
  const rank = x.shape.length;
  const slope = ctx.constant(1) as ConstTensor;
  const laid = broadcastConstToTf(slope, rank);
  if (!laid) return ctx.unsupported(`PRelu slope of dims [${slope.dims.join(', ')}] on a rank-${rank} input`, ['slopes that broadcast against the input']);
  const full = [...new Array<number>(rank - laid.dims.length).fill(1), ...laid.dims];
  if (full[0] !== 1) ctx.unsupported(`PRelu slope of dims [${slope.dims.join(', ')}] varying over the batch`, ['slopes constant over the batch']);
  // tfjs PReLU keeps one alpha per non-shared axis: axes where the slope is 1 are shared.
  const sharedAxes = full.map((d, i) => i).filter((i) => i > 0 && full[i] === 1);
  for (let i = 1; i < rank; i++) {
    if (full[i] !== 1 && x.shape[i] !== full[i]) ctx.unsupported(`PRelu slope of dims [${slope.dims.join(', ')}] on an input of unknown or other size`, ['a static input size (inputShapes)']);
  }
  const layer = ctx.tf.layers.prelu({ sharedAxes: sharedAxes.length ? sharedAxes : undefined, name: ctx.layerName(), alphaInitializer: 'zeros' });
  return [{ kind: 'tensor', sym: ctx.apply(layer, x, [{ data: toFloat32(laid), shape: full.slice(1) }]) }];
}

/**
 * Softmax/LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1): the
 * (log-)softmax runs jointly over every axis from `axis` on, whatever their tfjs order; from
 * 13 over the single `axis` (default −1).
 */
function softmaxOp(op: 'Softmax' | 'LogSoftmax'): OpMapper {
  return {
    onnxOp: op,
    opsets: [1, 21],
    category: 'activation',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [{ onnxName: 'axis', type: 'int' }],
    build: (ctx) => {
      const x = ctx.tensor(0);
      const rank = x.shape.length;
      const axis = normAxis((ctx.attrs.axis as number | undefined) ?? (ctx.opset >= 13 ? -1 : 1), rank);
      const onnxAxes = ctx.opset >= 13 ? [axis] : Array.from({ length: rank - axis }, (_, i) => axis + i);
      const axes = onnxAxes.map((a) => tfAxis(a, rank)).sort((a, b) => a - b);
      if (axes.includes(0)) ctx.unsupported(`${op} over the batch axis`, ['non-batch axes']);
      const name = ctx.layerName();
      const layer = op === 'Softmax' && axes.length === 1 && axes[0] === rank - 1
        ? ctx.tf.layers.softmax({ axis: -1, name })
        : new (registerOnnxLayers(ctx.tf).OnnxSoftmax)({ name, axes, log: op === 'LogSoftmax' });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
    },
    notes: `${op === 'Softmax' ? 'Softmax over the last tfjs axis (channels of [N, C, H, W], C of [N, C]); other axes: OnnxSoftmax' : 'OnnxSoftmax'} (opset < 13: jointly over the axes from axis on)`,
  };
}

export const ACTIVATION_OPS: readonly OpMapper[] = [
  activationOp('Relu', 'relu'),
  activationOp('Sigmoid', 'sigmoid'),
  activationOp('Tanh', 'tanh'),
  activationOp('Softplus', 'softplus'),
  activationOp('Softsign', 'softsign'),
  activationOp('Elu', 'elu', { alpha: 1 }),
  activationOp('Selu', 'selu', { alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875 }),
  hardActivation('HardSigmoid', 0.2, 0.5),
  hardActivation('HardSwish', 1 / 6, 0.5),
  {
    onnxOp: 'PRelu',
    opsets: [7, 21],
    category: 'activation',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'slope', kind: 'const' },
    ],
    attrs: [],
    build: buildPRelu,
    notes: 'PReLU (slope per channel, scalar or any broadcast shape; shared axes where the slope is 1)',
  },
  softmaxOp('Softmax'),
  softmaxOp('LogSoftmax'),
  {
    onnxOp: 'LeakyRelu',
    opsets: [6, 21],
    category: 'activation',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [{ onnxName: 'alpha', type: 'float', default: 0.01 }],
    onnxOrder: 'elementwise',
    build: (ctx) => [{ kind: 'tensor', sym: ctx.apply(ctx.tf.layers.leakyReLU({ alpha: ctx.attrs.alpha as number, name: ctx.layerName() }), ctx.tensor(0)) }],
    notes: 'LeakyReLU',
  },
];
