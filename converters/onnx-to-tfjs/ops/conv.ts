/**
 * Convolutions and matrix products: Conv (group 1 → Conv2D, group = channels →
 * DepthwiseConv2D), ConvTranspose (Conv2DTranspose + Cropping2D when ONNX crops differently
 * from TF), Gemm and MatMul with a constant weight (Dense). Weights are permuted once from
 * ONNX OIHW to tfjs HWIO. ONNX pads that TF 'same'/'valid' cannot express become a
 * ZeroPadding2D before a 'valid' convolution. A following BatchNormalization is folded into
 * the weights, and a following activation becomes the layer's `activation`.
 */
import { transposeConst, type ConstTensor } from '../constants';
import { registerOnnxLayers } from '../custom-layers';
import { convKernel } from '../layout';
import type { BuildContext, OpMapper, SymbolicTensor, Value } from '../types';
import { takeActivation } from './activation';

/** How ONNX window padding maps to tfjs: 'same'/'valid', plus explicit [[top, bottom], [left, right]] padding before a 'valid' op. */
export interface TfPadding {
  padding: 'same' | 'valid';
  explicit?: [[number, number], [number, number]];
}

/**
 * The tfjs padding reproducing ONNX `auto_pad`/`pads` for a window op. 'same' only when TF's
 * rule gives the same pads for every input size (SAME_UPPER, or stride 1 with TF's split).
 */
export function tfPadding(
  ctx: Pick<BuildContext, 'unsupported'>,
  autoPad: string,
  pads: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): TfPadding {
  const total = kernel.map((k, i) => (k - 1) * dilations[i]);
  const stride1 = strides.every((s) => s === 1);
  if (autoPad === 'VALID') return { padding: 'valid' };
  if (autoPad === 'SAME_UPPER') return { padding: 'same' };
  if (autoPad === 'SAME_LOWER') {
    if (!stride1) ctx.unsupported('auto_pad SAME_LOWER with stride > 1', ['SAME_LOWER with stride 1', 'SAME_UPPER', 'explicit pads']);
    const begin = total.map((t) => Math.ceil(t / 2));
    return { padding: 'valid', explicit: [[begin[0], total[0] - begin[0]], [begin[1], total[1] - begin[1]]] };
  }
  if (autoPad !== 'NOTSET' && autoPad !== '') ctx.unsupported(`auto_pad '${autoPad}'`, ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER']);
  const [t, l, b, r] = pads.length === 4 ? pads : [0, 0, 0, 0];
  if ([t, l, b, r].some((p) => p < 0)) ctx.unsupported(`negative pads [${pads.join(', ')}]`, ['pads ≥ 0']);
  if (t === 0 && l === 0 && b === 0 && r === 0) return { padding: 'valid' };
  if (stride1 && t === Math.floor(total[0] / 2) && b === total[0] - t && l === Math.floor(total[1] / 2) && r === total[1] - l) {
    return { padding: 'same' };
  }
  return { padding: 'valid', explicit: [[t, b], [l, r]] };
}

/** Applies a ZeroPadding2D when the padding is explicit; returns the tensor the window op reads. */
export function applyExplicitZeroPad(ctx: BuildContext, x: SymbolicTensor, p: TfPadding): SymbolicTensor {
  if (!p.explicit) return x;
  return ctx.apply(ctx.tf.layers.zeroPadding2d({ padding: p.explicit, name: ctx.layerName('pad') }), x);
}

const pair = (v: unknown, dflt: [number, number]): [number, number] => {
  const a = v as number[] | undefined;
  return a && a.length === 2 ? [a[0], a[1]] : dflt;
};

const WINDOW_ATTRS = [
  { onnxName: 'auto_pad', type: 'string', default: 'NOTSET' },
  { onnxName: 'dilations', type: 'ints' },
  { onnxName: 'kernel_shape', type: 'ints' },
  { onnxName: 'pads', type: 'ints' },
  { onnxName: 'strides', type: 'ints' },
] as const;

function requireRank4(ctx: BuildContext, x: SymbolicTensor, what: string): void {
  if (x.shape.length !== 4) ctx.unsupported(`${what} on a rank-${x.shape.length} input`, ['2-D spatial inputs [N, C, H, W]']);
}

/** The BatchNormalization parameters of node `bn` as scale/shift per channel, or undefined if not foldable. */
function foldableBatchNorm(ctx: BuildContext, bn: BuildContext['node']): { scale: Float64Array; shift: Float64Array } | undefined {
  const inputs = bn.input ?? [];
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => (inputs[k] ? ctx.constantOf(inputs[k]) : undefined));
  if (!gamma || !beta || !mean || !variance || (bn.output ?? []).filter(Boolean).length !== 1) return undefined;
  const attr = (name: string) => (bn.attribute ?? []).find((a) => a.name === name);
  if (Number(attr('training_mode')?.i ?? 0) !== 0) return undefined;
  const eps = attr('epsilon')?.f ?? 1e-5;
  const c = mean.data.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = gamma.data[i] / Math.sqrt(variance.data[i] + eps);
    shift[i] = beta.data[i] - mean.data[i] * scale[i];
  }
  return { scale, shift };
}

function conv(ctx: BuildContext): Value[] {
  const { tf } = ctx;
  const x = ctx.tensor(0);
  requireRank4(ctx, x, 'Conv');
  const w = ctx.constant(1) as ConstTensor;
  if (!w || w.dims.length !== 4) ctx.unsupported(`Conv weight of dims [${w?.dims.join(', ')}]`, ['[O, I, kH, kW]']);
  const bias = ctx.constant(2);
  const [outC, inPerGroup, kh, kw] = w.dims;
  const inC = x.shape[3] as number;
  const group = ctx.attrs.group as number;
  // Checked before the layer is built: tfjs would allocate the kernel for the declared channels first.
  if (inC !== inPerGroup * group) {
    ctx.unsupported(`Conv of a ${String(inC)}-channel input with weights for ${inPerGroup * group} (${inPerGroup} per group × group ${group})`, ['matching channels']);
  }
  const kernel = pair(ctx.attrs.kernel_shape, [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) ctx.unsupported(`Conv kernel_shape [${kernel}] with a ${kh}×${kw} weight`, ['kernel_shape equal to the weight\'s spatial dims']);
  const strides = pair(ctx.attrs.strides, [1, 1]);
  const dilations = pair(ctx.attrs.dilations, [1, 1]);
  if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) {
    ctx.unsupported(`Conv with strides [${strides}] and dilations [${dilations}] together`, ['strides > 1 or dilations > 1, not both (a tfjs limit)']);
  }
  const depthwise = group > 1 && group === inC && inPerGroup === 1;
  if (group < 1 || outC % group !== 0) ctx.unsupported(`Conv with group ${group} and ${outC} output channels`, ['output channels divisible by group']);
  const grouped = group > 1 && !depthwise;
  const pad = tfPadding(ctx, ctx.attrs.auto_pad as string, (ctx.attrs.pads as number[] | undefined) ?? [], kernel, strides, dilations);

  // Folding: W' = W·s per output channel, b' = (b − mean)·s + beta.
  let wData = w.data;
  let bData = bias ? Float64Array.from(bias.data) : undefined;
  const bn = ctx.consumer(['BatchNormalization']);
  const folded = bn ? foldableBatchNorm(ctx, bn) : undefined;
  if (bn && folded) {
    ctx.absorb(bn);
    const inner = inPerGroup * kh * kw;
    wData = Float64Array.from(w.data, (v, i) => v * folded.scale[Math.floor(i / inner)]);
    bData = Float64Array.from({ length: outC }, (_, o) => (bias ? bias.data[o] : 0) * folded.scale[o] + folded.shift[o]);
  }
  // OnnxGroupConv has no fused activation: a following Relu stays its own layer.
  const activation = grouped ? 'linear' : takeActivation(ctx, bn && folded ? bn : ctx.node);
  const input = applyExplicitZeroPad(ctx, x, pad);
  const useBias = bData !== undefined;
  const weights: Array<{ data: Float32Array; shape: number[] }> = [];
  let layer;
  // Zero initializers: the weights are set right after, and random init of large kernels is slow.
  const common = {
    kernelSize: kernel, strides, padding: pad.padding, dilationRate: dilations, useBias, activation: activation as never, name: ctx.layerName(),
    kernelInitializer: 'zeros', depthwiseInitializer: 'zeros', biasInitializer: 'zeros',
  } as const;
  if (grouped) {
    weights.push(convKernel({ ...w, data: wData }));
    if (bData) weights.push({ data: Float32Array.from(bData), shape: [outC] });
    layer = new (registerOnnxLayers(tf).OnnxGroupConv)({
      name: ctx.layerName(), filters: outC, kernelSize: kernel, strides, dilationRate: dilations, groups: group, padding: pad.padding, useBias,
    });
    return [{ kind: 'tensor', sym: ctx.apply(layer, input, weights) }];
  }
  if (depthwise) {
    const mult = outC / inC;
    // [C·mult, 1, kh, kw] → [C, mult, kh, kw] → [kh, kw, C, mult] (output channel c·mult + m, as in TF).
    const k = transposeConst({ ...w, data: wData, dims: [inC, mult, kh, kw] }, [2, 3, 0, 1]);
    weights.push({ data: Float32Array.from(k.data), shape: k.dims });
    const { kernelInitializer: _k, ...args } = common;
    layer = tf.layers.depthwiseConv2d({ ...args, depthMultiplier: mult });
  } else {
    weights.push(convKernel({ ...w, data: wData }));
    const { depthwiseInitializer: _d, ...args } = common;
    layer = tf.layers.conv2d({ ...args, filters: outC });
  }
  if (bData) weights.push({ data: Float32Array.from(bData), shape: [outC] });
  return [{ kind: 'tensor', sym: ctx.apply(layer, input, weights) }];
}

function convTranspose(ctx: BuildContext): Value[] {
  const { tf } = ctx;
  const x = ctx.tensor(0);
  requireRank4(ctx, x, 'ConvTranspose');
  const w = ctx.constant(1) as ConstTensor;
  if (!w || w.dims.length !== 4) ctx.unsupported(`ConvTranspose weight of dims [${w?.dims.join(', ')}]`, ['[I, O, kH, kW]']);
  const bias = ctx.constant(2);
  const [inC, outPerGroup, kh, kw] = w.dims;
  if (x.shape[3] !== inC) ctx.unsupported(`ConvTranspose of a ${String(x.shape[3])}-channel input with weights for ${inC}`, ['matching channels']);
  const group = ctx.attrs.group as number;
  if (group < 1 || inC % group !== 0) ctx.unsupported(`ConvTranspose with group ${group} and ${inC} input channels`, ['input channels divisible by group']);
  const outC = outPerGroup * group;
  if (ctx.attrs.output_shape !== undefined) ctx.unsupported('ConvTranspose with output_shape', ['pads + output_padding']);
  const autoPad = ctx.attrs.auto_pad as string;
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID' && autoPad !== '') ctx.unsupported(`ConvTranspose auto_pad '${autoPad}'`, ['NOTSET', 'VALID']);
  const kernel = pair(ctx.attrs.kernel_shape, [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) ctx.unsupported(`ConvTranspose kernel_shape [${kernel}] with a ${kh}×${kw} weight`, ['kernel_shape equal to the weight\'s spatial dims']);
  const strides = pair(ctx.attrs.strides, [1, 1]);
  const dilations = pair(ctx.attrs.dilations, [1, 1]);
  if (dilations.some((d) => d !== 1)) ctx.unsupported(`ConvTranspose with dilations [${dilations}]`, ['dilations 1']);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : ((ctx.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0]);
  const outPad = pair(ctx.attrs.output_padding, [0, 0]);
  // tfjs 'valid' = the full transposed conv extended by e = max(s − k, 0) rows; ONNX = full + output_padding, minus pads.
  const crop: [[number, number], [number, number]] = [[0, 0], [0, 0]];
  let same = true;
  for (let i = 0; i < 2; i++) {
    const e = Math.max(strides[i] - kernel[i], 0);
    const [pb, pe] = [pads[i], pads[i + 2]];
    if (pb < 0 || pe < 0) ctx.unsupported(`negative pads [${pads.join(', ')}]`, ['pads ≥ 0']);
    // The output_padding rows beyond tfjs's extent would hold only the bias: allowed while the end pad covers them.
    if (outPad[i] > pe + e) ctx.unsupported(`ConvTranspose output_padding ${outPad[i]} > end pad + max(stride − kernel, 0) = ${pe + e}`, ['output_padding ≤ end pad + max(stride − kernel, 0)']);
    crop[i] = [pb, pe + e - outPad[i]];
    const total = Math.max(kernel[i] - strides[i], 0);
    if (!(pb === Math.floor(total / 2) && pe === total - pb && outPad[i] === e)) same = false;
  }
  if (group > 1) {
    // OnnxGroupConvTranspose computes tfjs's 'valid' size; the ONNX pads are then a crop. No fused activation.
    const layer = new (registerOnnxLayers(tf).OnnxGroupConvTranspose)({
      name: ctx.layerName(crop.flat().some((c) => c > 0) ? 'deconv' : undefined), filters: outC, kernelSize: kernel, strides, groups: group, useBias: bias !== undefined,
    });
    const k = transposeConst(w, [2, 3, 1, 0]);
    const weights = [{ data: Float32Array.from(k.data), shape: k.dims }];
    if (bias) weights.push({ data: Float32Array.from(bias.data), shape: [outC] });
    let y = ctx.apply(layer, x, weights);
    if (crop.flat().some((c) => c > 0)) y = ctx.apply(tf.layers.cropping2D({ cropping: crop, name: ctx.layerName() }), y);
    return [{ kind: 'tensor', sym: y }];
  }
  const activation = takeActivation(ctx);
  const needCrop = !same && crop.flat().some((c) => c > 0);
  const layer = tf.layers.conv2dTranspose({
    filters: outC,
    kernelSize: kernel,
    strides,
    padding: same ? 'same' : 'valid',
    useBias: bias !== undefined,
    activation: activation as never,
    name: ctx.layerName(needCrop ? 'deconv' : undefined),
    kernelInitializer: 'zeros',
    biasInitializer: 'zeros',
  });
  const weights = [convKernel(w)];
  if (bias) weights.push({ data: Float32Array.from(bias.data), shape: [outC] });
  let y = ctx.apply(layer, x, weights);
  if (needCrop) y = ctx.apply(tf.layers.cropping2D({ cropping: crop, name: ctx.layerName() }), y);
  return [{ kind: 'tensor', sym: y }];
}

function dense(ctx: BuildContext, kernel: Float32Array, k: number, n: number, bias: Float32Array | undefined): Value[] {
  const x = ctx.tensor(0);
  if (x.shape.length !== 2) ctx.unsupported(`${ctx.node.opType} on a rank-${x.shape.length} input`, ['[N, K] inputs']);
  if (x.shape[1] !== null && x.shape[1] !== k) ctx.unsupported(`${ctx.node.opType} of a [N, ${x.shape[1]}] input with a ${k}-row weight`, ['matching sizes']);
  if (x.shape[1] === null) {
    ctx.unsupported(`${ctx.node.opType} on an input of unknown width`, ['a static input size'], 'A Flatten of a spatial map needs fixed input H and W (inputShapes).');
  }
  const activation = takeActivation(ctx);
  const layer = ctx.tf.layers.dense({
    units: n, useBias: bias !== undefined, activation: activation as never, name: ctx.layerName(), kernelInitializer: 'zeros', biasInitializer: 'zeros',
  });
  const weights = [{ data: kernel, shape: [k, n] }];
  if (bias) weights.push({ data: bias, shape: [n] });
  return [{ kind: 'tensor', sym: ctx.apply(layer, x, weights) }];
}

function gemm(ctx: BuildContext): Value[] {
  const b = ctx.constant(1) as ConstTensor;
  if (!b || b.dims.length !== 2) ctx.unsupported(`Gemm with B of dims [${b?.dims.join(', ')}]`, ['a constant 2-D B']);
  if ((ctx.attrs.transA as number) !== 0) ctx.unsupported('Gemm with transA = 1', ['transA = 0']);
  const alpha = ctx.attrs.alpha as number;
  const beta = ctx.attrs.beta as number;
  const bt = (ctx.attrs.transB as number) ? transposeConst(b, [1, 0]) : b;
  const [k, n] = bt.dims;
  const kernel = Float32Array.from(bt.data, (v) => v * alpha);
  const c = ctx.constant(2);
  let bias: Float32Array | undefined;
  if (c) {
    const ok = c.data.length === 1 || (c.data.length === n && c.dims[c.dims.length - 1] === n);
    if (!ok) ctx.unsupported(`Gemm with C of dims [${c.dims.join(', ')}]`, ['C of [N], [1, N] or a scalar']);
    bias = Float32Array.from({ length: n }, (_, i) => beta * c.data[c.data.length === 1 ? 0 : i]);
  }
  return dense(ctx, kernel, k, n, bias);
}

function matMul(ctx: BuildContext): Value[] {
  if (ctx.input(0)?.kind !== 'tensor') ctx.unsupported('MatMul with a constant first operand', ['activation × constant']);
  const a = ctx.tensor(0);
  const bv = ctx.input(1) as Value;
  if ((ctx.input(0) as { onnxOrder?: boolean }).onnxOrder) {
    // NHWC order (ConvNeXt's MLP block): the product is over channels, a Dense on tfjs's last axis.
    const c = bv.kind === 'const' ? bv.value : undefined;
    if (!c || c.dims.length !== 2 || a.shape[3] !== c.dims[0]) ctx.unsupported('MatMul of an activation in NHWC order', ['a constant [C, K] weight']);
    const activation = takeActivation(ctx);
    const layer = ctx.tf.layers.dense({ units: c!.dims[1], useBias: false, activation: activation as never, name: ctx.layerName(), kernelInitializer: 'zeros' });
    return [{ kind: 'tensor', sym: ctx.apply(layer, a, [{ data: Float32Array.from(c!.data), shape: c!.dims }]), onnxOrder: true }];
  }
  if (a.shape.length === 4) {
    // Batched: ONNX multiplies the last two NCHW axes (H × W); OnnxMatMul does it in ONNX order.
    const Cls = registerOnnxLayers(ctx.tf).OnnxMatMul;
    if (bv.kind === 'tensor') {
      if (bv.sym.shape.length !== 4) ctx.unsupported(`MatMul of rank-4 and rank-${bv.sym.shape.length} activations`, ['two rank-4 activations', 'a rank-4 activation × a 2-D constant']);
      return [{ kind: 'tensor', sym: ctx.apply(new Cls({ name: ctx.layerName(), constantShape: null }), [a, bv.sym]) }];
    }
    const c = bv.value;
    if (c.dims.length !== 2) ctx.unsupported(`MatMul of a rank-4 activation with a constant of dims [${c.dims.join(', ')}]`, ['a 2-D constant']);
    return [{ kind: 'tensor', sym: ctx.apply(new Cls({ name: ctx.layerName(), constantShape: c.dims }), a, [{ data: Float32Array.from(c.data), shape: c.dims }]) }];
  }
  const b = ctx.constant(1) as ConstTensor;
  if (!b || b.dims.length !== 2) ctx.unsupported(`MatMul with B of dims [${b?.dims.join(', ')}]`, ['a constant 2-D B']);
  return dense(ctx, Float32Array.from(b.data), b.dims[0], b.dims[1], undefined);
}

export const CONV_OPS: readonly OpMapper[] = [
  {
    onnxOp: 'Conv',
    opsets: [1, 21],
    category: 'conv',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'W', kind: 'const' },
      { name: 'B', kind: 'const', optional: true },
    ],
    attrs: [...WINDOW_ATTRS, { onnxName: 'group', type: 'int', default: 1 }],
    build: conv,
    notes: 'Conv2D (group 1), DepthwiseConv2D (group = channels) or OnnxGroupConv (other groups); explicit pads TF cannot express → ZeroPadding2D + valid; folds a following BatchNormalization, fuses a following activation',
  },
  {
    onnxOp: 'ConvTranspose',
    opsets: [1, 21],
    category: 'conv',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'W', kind: 'const' },
      { name: 'B', kind: 'const', optional: true },
    ],
    attrs: [
      ...WINDOW_ATTRS,
      { onnxName: 'group', type: 'int', default: 1 },
      { onnxName: 'output_padding', type: 'ints' },
      { onnxName: 'output_shape', type: 'ints' },
    ],
    build: convTranspose,
    notes: 'Conv2DTranspose (same/valid) + Cropping2D for other pads; group > 1: OnnxGroupConvTranspose + Cropping2D; dilation 1, output_padding ≤ end pad + max(stride − kernel, 0)',
  },
  {
    onnxOp: 'Gemm',
    opsets: [7, 21],
    category: 'conv',
    inputs: [
      { name: 'A', kind: 'tensor' },
      { name: 'B', kind: 'const' },
      { name: 'C', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'alpha', type: 'float', default: 1 },
      { onnxName: 'beta', type: 'float', default: 1 },
      { onnxName: 'transA', type: 'int', default: 0 },
      { onnxName: 'transB', type: 'int', default: 0 },
    ],
    build: gemm,
    notes: 'Dense (alpha, beta, transB folded into the weights); fuses a following activation',
  },
  {
    onnxOp: 'MatMul',
    opsets: [1, 21],
    category: 'conv',
    inputs: [
      { name: 'A', kind: 'tensor' },
      { name: 'B', kind: 'tensor' },
    ],
    attrs: [],
    onnxOrder: 'handled',
    build: matMul,
    notes: 'Dense without bias ([N, K] × constant [K, M]); rank-4 (batched, over H × W): OnnxMatMul with a 2-D constant or a second rank-4 activation',
  },
];

