/**
 * tfjs activation functions (the `activation` config of Conv2D/Dense/Activation layers) as
 * ONNX subgraphs, one entry per tfjs activation class name in a frozen table. 'linear' emits
 * nothing. Softmax-style activations use the tensor's channel (last tfjs) axis by default.
 */
import { UnsupportedOpError } from '../../src/errors';
import { floatAttr } from '../../src/onnx/builder';
import { onnxAxis } from './layout';
import type { EmitContext } from './types';

/** Emits `activation(x)` into tensor `out`. `rank` is the tfjs rank of x. */
type ActivationEmitter = (ctx: EmitContext, x: string, out: string, rank: number) => void;

const SQRT2 = Math.SQRT2;
const GELU_TANH_C = Math.sqrt(2 / Math.PI);

const ACTIVATIONS: Readonly<Record<string, ActivationEmitter>> = Object.freeze({
  relu: (ctx, x, out) => void ctx.b.addNode('Relu', [x], [out]),
  relu6: (ctx, x, out) =>
    void ctx.b.addNode('Clip', [x, ctx.constant('zero', [], [0]), ctx.constant('six', [], [6])], [out]),
  sigmoid: (ctx, x, out) => void ctx.b.addNode('Sigmoid', [x], [out]),
  hardSigmoid: (ctx, x, out) => void ctx.b.addNode('HardSigmoid', [x], [out], { alpha: floatAttr(0.2), beta: floatAttr(0.5) }),
  tanh: (ctx, x, out) => void ctx.b.addNode('Tanh', [x], [out]),
  elu: (ctx, x, out) => void ctx.b.addNode('Elu', [x], [out], { alpha: floatAttr(1) }),
  selu: (ctx, x, out) => void ctx.b.addNode('Selu', [x], [out]),
  softplus: (ctx, x, out) => void ctx.b.addNode('Softplus', [x], [out]),
  softsign: (ctx, x, out) => void ctx.b.addNode('Softsign', [x], [out]),
  softmax: (ctx, x, out, rank) => void ctx.b.addNode('Softmax', [x], [out], { axis: onnxAxis(-1, rank) }),
  logSoftmax: (ctx, x, out, rank) => void ctx.b.addNode('LogSoftmax', [x], [out], { axis: onnxAxis(-1, rank) }),
  swish: (ctx, x, out) => {
    const s = ctx.tmp('swish_sigmoid');
    ctx.b.addNode('Sigmoid', [x], [s]);
    ctx.b.addNode('Mul', [s, x], [out]);
  },
  mish: (ctx, x, out) => {
    const sp = ctx.tmp('mish_softplus');
    const th = ctx.tmp('mish_tanh');
    ctx.b.addNode('Softplus', [x], [sp]);
    ctx.b.addNode('Tanh', [sp], [th]);
    ctx.b.addNode('Mul', [x, th], [out]);
  },
  gelu: (ctx, x, out) => {
    // 0.5 · x · (1 + erf(x / √2)), in tfjs's order of operations.
    const d = ctx.tmp('gelu_div');
    const e = ctx.tmp('gelu_erf');
    const a = ctx.tmp('gelu_add');
    const h = ctx.tmp('gelu_half');
    ctx.b.addNode('Div', [x, ctx.constant('sqrt2', [], [SQRT2])], [d]);
    ctx.b.addNode('Erf', [d], [e]);
    ctx.b.addNode('Add', [e, ctx.constant('one', [], [1])], [a]);
    ctx.b.addNode('Mul', [a, ctx.constant('half', [], [0.5])], [h]);
    ctx.b.addNode('Mul', [x, h], [out]);
  },
  gelu_new: (ctx, x, out) => {
    // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
    const cube = ctx.tmp('gelu_cube');
    const sc = ctx.tmp('gelu_cube_scaled');
    const inner = ctx.tmp('gelu_inner');
    const arg = ctx.tmp('gelu_arg');
    const th = ctx.tmp('gelu_tanh');
    const one = ctx.tmp('gelu_one_plus');
    const xs = ctx.tmp('gelu_x_times');
    ctx.b.addNode('Pow', [x, ctx.constant('three', [], [3])], [cube]);
    ctx.b.addNode('Mul', [cube, ctx.constant('gelu_c', [], [0.044715])], [sc]);
    ctx.b.addNode('Add', [x, sc], [inner]);
    ctx.b.addNode('Mul', [inner, ctx.constant('gelu_sqrt_2_pi', [], [GELU_TANH_C])], [arg]);
    ctx.b.addNode('Tanh', [arg], [th]);
    ctx.b.addNode('Add', [th, ctx.constant('one', [], [1])], [one]);
    ctx.b.addNode('Mul', [x, one], [xs]);
    ctx.b.addNode('Mul', [xs, ctx.constant('half', [], [0.5])], [out]);
  },
});

/** tfjs activation names the converter supports ('linear' included). */
export const SUPPORTED_ACTIVATIONS: readonly string[] = Object.freeze(['linear', ...Object.keys(ACTIVATIONS)].sort());

/** The activation name of a config value ('relu', or a serialized {className}); undefined/null → 'linear'. */
export function activationName(value: unknown): string {
  if (value === undefined || value === null) return 'linear';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'className' in value) return String((value as { className: unknown }).className);
  return String(value);
}

/**
 * Applies activation `name` to `x`. 'linear' returns `x` untouched; otherwise the result is
 * written to `out` (or a fresh name) and that name is returned.
 * @throws UnsupportedOpError for an unknown activation.
 */
export function applyActivation(ctx: EmitContext, name: string, x: string, rank: number, out?: string): string {
  if (name === 'linear') return x;
  const emit = ACTIVATIONS[name];
  if (!emit) throw new UnsupportedOpError(`activation '${name}'`, ctx.layer.name, SUPPORTED_ACTIVATIONS);
  const target = out ?? ctx.tmp(name);
  emit(ctx, x, target, rank);
  return target;
}
