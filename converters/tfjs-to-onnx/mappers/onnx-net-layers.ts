/**
 * Mappers for the backbone custom layers of converters/onnx-to-tfjs/custom-layers-nets.ts:
 * each becomes the ONNX op it came from (grouped Conv, MaxPool/AveragePool with ONNX pads,
 * LRN, Softmax/LogSoftmax, Sqrt/Exp/Log/Erf/HardSigmoid/HardSwish, ReduceMean/ReduceMax,
 * InstanceNormalization, LayerNormalization, DepthToSpace/SpaceToDepth, MatMul, channel
 * Gather), with tfjs
 * axes renumbered to NCHW and weights permuted back.
 */
import { UnsupportedOpError } from '../../../src/errors';
import { floatAttr } from '../../../src/onnx/builder';
import { onnxAxis, pair, paddingAttrs, permute } from '../layout';
import type { EmitContext, LayerMapper } from '../types';
import { emitConvWithEpilogue } from './conv';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const one = (ctx: EmitContext, op: string, inputs: string[], attrs: Record<string, unknown> = {}): string[] => {
  ctx.b.addNode(op, inputs, [ctx.outputName(0)], attrs as never, `${ctx.scope}/${op}`);
  return [ctx.outputName(0)];
};
/** Sorted ONNX axes of tfjs `axes` on a rank-`rank` tensor. */
const onnxAxes = (axes: readonly number[], rank: number): number[] => axes.map((a) => onnxAxis(a, rank)).sort((a, b) => a - b);

const groupConv: LayerMapper = (ctx) => {
  const kernel = pair(ctx.config.kernelSize, 'kernelSize');
  const strides = pair(ctx.config.strides, 'strides');
  const dilations = pair(ctx.config.dilationRate, 'dilationRate');
  const k = ctx.weight('kernel');
  const [kh, kw, cin, cout] = k.shape;
  const w = { data: permute(k.data, k.shape, [3, 2, 0, 1]), dims: [cout, cin, kh, kw] };
  const bias = ctx.hasWeight('bias') ? ctx.weight('bias').data : undefined;
  const attrs = {
    kernel_shape: kernel, strides, dilations, group: num(ctx.config.groups),
    ...paddingAttrs(ctx.config.padding, kernel, strides, dilations, ctx.layer.name),
  };
  return [emitConvWithEpilogue(ctx, 'Conv', ctx.inputs[0].name, w, bias, cout, attrs)];
};

/** Grouped ConvTranspose with tfjs's 'valid' output size: pads 0 and output_padding max(s − k, 0) (a following crop merges into pads). */
const groupConvTranspose: LayerMapper = (ctx) => {
  const kernel = pair(ctx.config.kernelSize, 'kernelSize');
  const strides = pair(ctx.config.strides, 'strides');
  const k = ctx.weight('kernel');
  const [kh, kw, outPerGroup, cin] = k.shape;
  const inputs = [ctx.inputs[0].name, ctx.initializer('kernel', [cin, outPerGroup, kh, kw], permute(k.data, k.shape, [3, 2, 0, 1]))];
  if (ctx.hasWeight('bias')) inputs.push(ctx.initializer('bias', [outPerGroup * num(ctx.config.groups)], ctx.weight('bias').data));
  const outputPadding = kernel.map((kk, i) => Math.max(strides[i] - kk, 0));
  return one(ctx, 'ConvTranspose', inputs, {
    kernel_shape: kernel, strides, pads: [0, 0, 0, 0], group: num(ctx.config.groups),
    ...(outputPadding.some((p) => p) ? { output_padding: outputPadding } : {}),
  });
};

const pool: LayerMapper = (ctx) => {
  const [t, b, l, r] = (ctx.config.pads as number[]).map(num);
  const attrs: Record<string, unknown> = {
    kernel_shape: pair(ctx.config.poolSize, 'poolSize'),
    strides: pair(ctx.config.strides, 'strides'),
    pads: [t, l, b, r],
    ceil_mode: ctx.config.ceilMode ? 1 : 0,
  };
  const max = ctx.config.mode === 'max';
  if (!max) attrs.count_include_pad = ctx.config.countIncludePad ? 1 : 0;
  return one(ctx, max ? 'MaxPool' : 'AveragePool', [ctx.inputs[0].name], attrs);
};

const lrn: LayerMapper = (ctx) =>
  one(ctx, 'LRN', [ctx.inputs[0].name], {
    size: num(ctx.config.size), alpha: floatAttr(num(ctx.config.alpha)), beta: floatAttr(num(ctx.config.beta)), bias: floatAttr(num(ctx.config.bias)),
  });

/**
 * Softmax/LogSoftmax over ONNX axes: one axis → the op with `axis` (opset ≥ 13); several (a
 * suffix, ONNX's pre-13 coercion) → Flatten from the first, the op on the last axis, Reshape back.
 */
const softmax: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  const op = ctx.config.log ? 'LogSoftmax' : 'Softmax';
  const axes = onnxAxes((ctx.config.axes as number[]).map(num), rank);
  if (axes.length === 1) return one(ctx, op, [x.name], { axis: axes[0] });
  if (axes.some((a, i) => a !== axes[0] + i) || axes[axes.length - 1] !== rank - 1) {
    throw new UnsupportedOpError(`${ctx.className} over ONNX axes [${axes.join(', ')}]`, ctx.layer.name, ['one axis', 'the trailing axes']);
  }
  const shape = ctx.tmp('shape');
  ctx.b.addNode('Shape', [x.name], [shape], {}, `${ctx.scope}/Shape`);
  const flat = ctx.tmp('flat');
  ctx.b.addNode('Flatten', [x.name], [flat], { axis: axes[0] }, `${ctx.scope}/Flatten`);
  const y = ctx.tmp(op.toLowerCase());
  ctx.b.addNode(op, [flat], [y], { axis: 1 }, `${ctx.scope}/${op}`);
  ctx.b.addNode('Reshape', [y, shape], [ctx.outputName(0)], {}, `${ctx.scope}/Reshape`);
  return [ctx.outputName(0)];
};

const UNARY = ['Sqrt', 'Exp', 'Log', 'Erf', 'HardSigmoid', 'HardSwish', 'Gelu', 'GeluTanh', 'Identity'];

/** Gelu: the op from opset 20; below it the exporters' formula (Div, Erf, Add, Mul, Mul; tanh: with Pow and Tanh). */
function gelu(ctx: EmitContext, tanh: boolean): string[] {
  const x = ctx.inputs[0].name;
  if (ctx.opset >= 20) return one(ctx, 'Gelu', [x], { approximate: tanh ? 'tanh' : 'none' });
  const node = (op: string, inputs: string[], out = ctx.tmp(op.toLowerCase())) => {
    ctx.b.addNode(op, inputs, [out], {}, `${ctx.scope}/${op}_${out.split('/').pop()}`);
    return out;
  };
  const k = (v: number) => ctx.constant(`gelu_${v}`, [], [v]);
  const inner = tanh
    ? node('Tanh', [node('Mul', [node('Add', [x, node('Mul', [node('Pow', [x, k(3)]), k(0.044715)])]), k(Math.sqrt(2 / Math.PI))])])
    : node('Erf', [node('Div', [x, k(Math.SQRT2)])]);
  node('Mul', [node('Mul', [x, node('Add', [inner, k(1)])]), k(0.5)], ctx.outputName(0));
  return [ctx.outputName(0)];
}

const unary: LayerMapper = (ctx) => {
  const op = String(ctx.config.op);
  if (!UNARY.includes(op)) throw new UnsupportedOpError(`${ctx.className} op '${op}'`, ctx.layer.name, UNARY);
  if (op === 'Gelu' || op === 'GeluTanh') return gelu(ctx, op === 'GeluTanh');
  if (op === 'HardSwish' && (Math.abs(num(ctx.config.alpha) - 1 / 6) > 1e-7 || num(ctx.config.beta) !== 0.5)) {
    throw new UnsupportedOpError('HardSwish with alpha/beta other than 1/6, 0.5', ctx.layer.name, ['alpha 1/6, beta 0.5']);
  }
  const attrs = op === 'HardSigmoid' ? { alpha: floatAttr(num(ctx.config.alpha)), beta: floatAttr(num(ctx.config.beta)) } : {};
  return one(ctx, op, [ctx.inputs[0].name], attrs);
};

const reduce: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const op = ctx.config.op === 'mean' ? 'ReduceMean' : 'ReduceMax';
  const axes = onnxAxes((ctx.config.axes as number[]).map(num), x.shape.length);
  // ReduceMean's axes became an input at 18 (ReduceMax too).
  if (ctx.opset >= 18) return one(ctx, op, [x.name, ctx.int64Constant(`axes_${axes.join('_')}`, [axes.length], axes)], { keepdims: 1 });
  return one(ctx, op, [x.name], { axes, keepdims: 1 });
};

const instanceNorm: LayerMapper = (ctx) => {
  const s = ctx.weight('scale');
  const b = ctx.weight('bias');
  return one(ctx, 'InstanceNormalization', [ctx.inputs[0].name, ctx.initializer('scale', s.shape, s.data), ctx.initializer('bias', b.shape, b.data)], {
    epsilon: floatAttr(num(ctx.config.epsilon)),
  });
};

/** LayerNormalization: a trailing ONNX axis suffix maps to one node; tfjs channels of a rank-4 map to Transpose → LN → Transpose (ConvNeXt). */
const layerNorm: LayerMapper = (ctx) => {
  if (ctx.opset < 17) throw new UnsupportedOpError(`${ctx.className} at opset ${ctx.opset}`, ctx.layer.name, ['opset ≥ 17']);
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  const tfAxes = (ctx.config.axes as number[]).map(num);
  const eps = floatAttr(num(ctx.config.epsilon));
  const s = ctx.weight('scale');
  const b = ctx.hasWeight('bias') ? ctx.weight('bias') : undefined;
  if (rank === 4 && tfAxes.length === 1 && tfAxes[0] === 3) {
    const c = s.shape[2];
    const inputs = [ctx.tmp('nhwc'), ctx.initializer('scale', [c], s.data), ...(b ? [ctx.initializer('bias', [c], b.data)] : [])];
    ctx.b.addNode('Transpose', [x.name], [inputs[0]], { perm: [0, 2, 3, 1] }, `${ctx.scope}/Transpose`);
    const y = ctx.tmp('ln');
    ctx.b.addNode('LayerNormalization', inputs, [y], { axis: -1, epsilon: eps }, `${ctx.scope}/LayerNormalization`);
    ctx.b.addNode('Transpose', [y], [ctx.outputName(0)], { perm: [0, 3, 1, 2] }, `${ctx.scope}/Transpose_back`);
    return [ctx.outputName(0)];
  }
  const axes = onnxAxes(tfAxes, rank);
  if (axes.some((a, i) => a !== axes[0] + i) || axes[axes.length - 1] !== rank - 1) {
    throw new UnsupportedOpError(`${ctx.className} over ONNX axes [${axes.join(', ')}]`, ctx.layer.name, ['the trailing axes', 'the channels of a rank-4 map']);
  }
  // Parameters are stored in tfjs layout (batch dim dropped); ONNX wants the normalized dims in NCHW order.
  const toOnnx = (w: { data: Float32Array; shape: number[] }) => {
    const full = [1, ...w.shape];
    const data = rank === 4 ? permute(w.data, full, [0, 3, 1, 2]) : w.data;
    const dims = rank === 4 ? [full[0], full[3], full[1], full[2]] : full;
    return { data, dims: dims.slice(axes[0]) };
  };
  const so = toOnnx(s);
  const inputs = [x.name, ctx.initializer('scale', so.dims, so.data)];
  if (b) {
    const bo = toOnnx(b);
    inputs.push(ctx.initializer('bias', bo.dims, bo.data));
  }
  return one(ctx, 'LayerNormalization', inputs, { axis: axes[0], epsilon: eps });
};

const spaceDepth: LayerMapper = (ctx) => {
  const mode = String(ctx.config.mode);
  const blocksize = num(ctx.config.blocksize);
  if (mode === 'SpaceToDepth') return one(ctx, 'SpaceToDepth', [ctx.inputs[0].name], { blocksize });
  return one(ctx, 'DepthToSpace', [ctx.inputs[0].name], { blocksize, mode });
};

const matMul: LayerMapper = (ctx) => {
  const [a, b] = ctx.inputs;
  if (b) return one(ctx, 'MatMul', [a.name, b.name]);
  const c = ctx.weight('constant');
  return one(ctx, 'MatMul', [a.name, ctx.initializer('constant', c.shape, c.data)]);
};

/** A channel permutation: Gather on axis 1 (ONNX → tfjs → ONNX turns Reshape/Transpose/Reshape into this one node). */
const channelGather: LayerMapper = (ctx) => {
  const indices = (ctx.config.indices as number[]).map(num);
  const x = ctx.inputs[0];
  const axis = onnxAxis(x.shape.length - 1, x.shape.length);
  return one(ctx, 'Gather', [x.name, ctx.int64Constant(`gather_${ctx.layer.name}`, [indices.length], indices)], { axis });
};

export const ONNX_NET_LAYER_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['OnnxGroupConv', groupConv],
  ['OnnxGroupConvTranspose', groupConvTranspose],
  ['OnnxPool', pool],
  ['OnnxLRN', lrn],
  ['OnnxSoftmax', softmax],
  ['OnnxUnary', unary],
  ['OnnxReduce', reduce],
  ['OnnxInstanceNorm', instanceNorm],
  ['OnnxLayerNorm', layerNorm],
  ['OnnxSpaceDepth', spaceDepth],
  ['OnnxMatMul', matMul],
  ['OnnxChannelGather', channelGather],
];
