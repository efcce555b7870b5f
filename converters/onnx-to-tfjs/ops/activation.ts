/**
 * Activations: one table row per ONNX op, mapped to a tfjs Activation layer (or ReLU,
 * LeakyReLU, Softmax). Convolutions and Dense layers absorb a following activation from
 * FUSED_ACTIVATIONS into their own `activation` config instead of adding a layer.
 */
import { normAxis } from '../constants';
import { tfAxis } from '../layout';
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

export const ACTIVATION_OPS: readonly OpMapper[] = [
  activationOp('Relu', 'relu'),
  activationOp('Sigmoid', 'sigmoid'),
  activationOp('Tanh', 'tanh'),
  activationOp('Softplus', 'softplus'),
  activationOp('Softsign', 'softsign'),
  activationOp('Elu', 'elu', { alpha: 1 }),
  activationOp('Selu', 'selu', { alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875 }),
  activationOp('HardSigmoid', 'hardSigmoid', { alpha: 0.2, beta: 0.5 }),
  {
    onnxOp: 'LeakyRelu',
    opsets: [6, 21],
    category: 'activation',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [{ onnxName: 'alpha', type: 'float', default: 0.01 }],
    build: (ctx) => [{ kind: 'tensor', sym: ctx.apply(ctx.tf.layers.leakyReLU({ alpha: ctx.attrs.alpha as number, name: ctx.layerName() }), ctx.tensor(0)) }],
    notes: 'LeakyReLU',
  },
  {
    onnxOp: 'Softmax',
    opsets: [1, 21],
    category: 'activation',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [{ onnxName: 'axis', type: 'int' }],
    build: (ctx) => {
      const x = ctx.tensor(0);
      const rank = x.shape.length;
      const axis = normAxis((ctx.attrs.axis as number | undefined) ?? (ctx.opset >= 13 ? -1 : 1), rank);
      // Before opset 13 Softmax flattens the axes from `axis` on; that is one axis only when it is the last.
      const ok = rank === 2 ? axis === 1 : ctx.opset >= 13 && rank === 4 && axis === 1;
      if (!ok) ctx.unsupported(`Softmax over axis ${axis} of a rank-${rank} tensor (opset ${ctx.opset})`, ['axis 1 of [N, C]', 'the channel axis of [N, C, H, W] (opset ≥ 13)']);
      return [{ kind: 'tensor', sym: ctx.apply(ctx.tf.layers.softmax({ axis: tfAxis(axis, rank) === rank - 1 ? -1 : tfAxis(axis, rank), name: ctx.layerName() }), x) }];
    },
    notes: 'Softmax over the channel axis',
  },
];
