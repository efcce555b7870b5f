/**
 * Convolution layers: Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D. Kernels are
 * permuted from tfjs HWIO order to ONNX OIHW once, padding reproduces TF's 'same'/'valid'
 * exactly, fused activations follow, and a BatchNormalization that is the convolution's
 * only consumer is folded into its weights.
 */
import { UnsupportedOpError } from '../../../src/errors';
import { log } from '../../../src/log';
import type { AttrValue } from '../../../src/onnx/builder';
import { activationName, applyActivation } from '../activations';
import { pair, paddingAttrs, permute, requireChannelsLast, requireRank } from '../layout';
import type { EmitContext, LayerMapper } from '../types';

/** HWIO → OIHW (Conv2D) and HW(out)(in) → (in)(out)HW (Conv2DTranspose): the same axis order. */
const HWIO_TO_OIHW = [3, 2, 0, 1];

/**
 * Adds the convolution node `op` with weight `w` [outC, …] and optional `bias`, applying a
 * folded BatchNormalization (when the activation is linear and the BN is foldable) and then
 * the activation. Returns the output name.
 */
export function emitConvWithEpilogue(
  ctx: EmitContext,
  op: 'Conv' | 'ConvTranspose',
  x: string,
  w: { data: Float32Array; dims: number[] },
  bias: Float32Array | undefined,
  outChannels: number,
  attrs: Record<string, AttrValue | undefined>,
): string {
  const act = activationName(ctx.config.activation);
  const fold = act === 'linear' ? ctx.takeBatchNormFold() : undefined;
  let wData = w.data;
  let bData = bias;
  let wKey = 'kernel';
  let bKey = 'bias';
  if (fold) {
    // W' = W · s per output channel, b' = b · s + t. Output-channel axis: 0 for Conv, 1 for ConvTranspose.
    wData = new Float32Array(w.data.length);
    const [d0, d1] = w.dims;
    const inner = w.data.length / (d0 * d1);
    for (let i = 0; i < w.data.length; i++) {
      const c = op === 'Conv' ? Math.floor(i / (d1 * inner)) : Math.floor(i / inner) % d1;
      wData[i] = w.data[i] * fold.scale[c];
    }
    bData = new Float32Array(outChannels);
    for (let c = 0; c < outChannels; c++) bData[c] = (bias ? bias[c] : 0) * fold.scale[c] + fold.shift[c];
    wKey = `kernel_folded_${fold.key}`;
    bKey = `bias_folded_${fold.key}`;
  }
  const inputs = [x, ctx.initializer(wKey, w.dims, wData)];
  if (bData) inputs.push(ctx.initializer(bKey, [outChannels], bData));
  const convOut = fold ? fold.outputName : act === 'linear' ? ctx.outputName(0) : ctx.tmp(op === 'Conv' ? 'conv' : 'deconv');
  ctx.b.addNode(op, inputs, [convOut], attrs, `${ctx.scope}/${op}`);
  return act === 'linear' ? convOut : applyActivation(ctx, act, convOut, 4, ctx.outputName(0));
}

function convCommon(ctx: EmitContext): { kernel: [number, number]; strides: [number, number]; dilations: [number, number] } {
  requireChannelsLast(ctx);
  requireRank(ctx, [4]);
  return {
    kernel: pair(ctx.config.kernelSize, `${ctx.layer.name}.kernelSize`),
    strides: pair(ctx.config.strides ?? 1, `${ctx.layer.name}.strides`),
    dilations: pair(ctx.config.dilationRate ?? 1, `${ctx.layer.name}.dilationRate`),
  };
}

const conv2d: LayerMapper = (ctx) => {
  const { kernel, strides, dilations } = convCommon(ctx);
  const k = ctx.weight('kernel');
  const [kh, kw, cin, cout] = k.shape;
  const w = { data: permute(k.data, k.shape, HWIO_TO_OIHW), dims: [cout, cin, kh, kw] };
  const bias = ctx.hasWeight('bias') ? ctx.weight('bias').data : undefined;
  const attrs = {
    kernel_shape: kernel,
    strides,
    dilations,
    ...paddingAttrs(ctx.config.padding, kernel, strides, dilations, ctx.layer.name),
  };
  return [emitConvWithEpilogue(ctx, 'Conv', ctx.inputs[0].name, w, bias, cout, attrs)];
};

const conv2dTranspose: LayerMapper = (ctx) => {
  const { kernel, strides, dilations } = convCommon(ctx);
  if (dilations[0] !== 1 || dilations[1] !== 1) {
    // tfjs 4.x ignores dilationRate in Conv2DTranspose.call(); do the same to match its output.
    log.warn(`${ctx.layer.name}: Conv2DTranspose dilationRate [${dilations}] is ignored (as tfjs does)`);
  }
  const k = ctx.weight('kernel');
  const [kh, kw, cout, cin] = k.shape;
  const w = { data: permute(k.data, k.shape, HWIO_TO_OIHW), dims: [cin, cout, kh, kw] };
  const bias = ctx.hasWeight('bias') ? ctx.weight('bias').data : undefined;
  const padding = ctx.config.padding;
  if (padding !== 'same' && padding !== 'valid') throw new UnsupportedOpError(`padding '${String(padding)}'`, ctx.layer.name, ['same', 'valid']);
  // tfjs output size: valid → in·s + max(k − s, 0); same → in·s. Both are fixed crops of the full
  // transposed convolution, independent of the input size, so explicit pads work for symbolic sizes.
  const pads = [0, 0, 0, 0];
  const outputPadding = [0, 0];
  kernel.forEach((kk, i) => {
    const s = strides[i];
    const total = padding === 'same' ? Math.max(kk - s, 0) : 0;
    pads[i] = Math.floor(total / 2);
    pads[i + 2] = total - pads[i];
    outputPadding[i] = Math.max(s - kk, 0);
  });
  const attrs = {
    kernel_shape: kernel,
    strides,
    pads,
    output_padding: outputPadding.some((p) => p) ? outputPadding : undefined,
  };
  return [emitConvWithEpilogue(ctx, 'ConvTranspose', ctx.inputs[0].name, w, bias, cout, attrs)];
};

/** Depthwise kernel [kh, kw, in, mult] → grouped Conv weight [in·mult, 1, kh, kw]. */
function depthwiseWeight(k: { data: Float32Array; shape: number[] }): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, mult] = k.shape;
  // [kh,kw,in,mult] → [in,mult,kh,kw], then view as [in·mult,1,kh,kw]: channel c·mult+m as in TF.
  return { data: permute(k.data, k.shape, [2, 3, 0, 1]), dims: [cin * mult, 1, kh, kw] };
}

const depthwiseConv2d: LayerMapper = (ctx) => {
  const { kernel, strides, dilations } = convCommon(ctx);
  const k = ctx.weight('depthwise_kernel');
  const w = depthwiseWeight(k);
  const bias = ctx.hasWeight('bias') ? ctx.weight('bias').data : undefined;
  const attrs = {
    kernel_shape: kernel,
    strides,
    dilations,
    group: k.shape[2],
    ...paddingAttrs(ctx.config.padding, kernel, strides, dilations, ctx.layer.name),
  };
  return [emitConvWithEpilogue(ctx, 'Conv', ctx.inputs[0].name, w, bias, w.dims[0], attrs)];
};

const separableConv2d: LayerMapper = (ctx) => {
  const { kernel, strides, dilations } = convCommon(ctx);
  const dk = ctx.weight('depthwise_kernel');
  const dw = depthwiseWeight(dk);
  const mid = ctx.tmp('depthwise');
  ctx.b.addNode(
    'Conv',
    [ctx.inputs[0].name, ctx.initializer('depthwise_kernel', dw.dims, dw.data)],
    [mid],
    {
      kernel_shape: kernel,
      strides,
      dilations,
      group: dk.shape[2],
      ...paddingAttrs(ctx.config.padding, kernel, strides, dilations, ctx.layer.name),
    },
    `${ctx.scope}/depthwise`,
  );
  const pk = ctx.weight('pointwise_kernel');
  const [, , pin, pout] = pk.shape;
  const pw = { data: permute(pk.data, pk.shape, HWIO_TO_OIHW), dims: [pout, pin, 1, 1] };
  const bias = ctx.hasWeight('bias') ? ctx.weight('bias').data : undefined;
  return [emitConvWithEpilogue(ctx, 'Conv', mid, pw, bias, pout, { kernel_shape: [1, 1] })];
};

/** Dense: Gemm on 2-D inputs, a 1×1 Conv on 4-D (NHWC last-axis matmul = NCHW channel mix), MatMul+Add otherwise. */
const dense: LayerMapper = (ctx) => {
  const rank = ctx.inputs[0].shape.length;
  const k = ctx.weight('kernel');
  const [cin, units] = k.shape;
  const bias = ctx.hasWeight('bias') ? ctx.weight('bias').data : undefined;
  const act = activationName(ctx.config.activation);
  if (rank === 4) {
    const w = { data: permute(k.data, k.shape, [1, 0]), dims: [units, cin, 1, 1] };
    return [emitConvWithEpilogue(ctx, 'Conv', ctx.inputs[0].name, w, bias, units, { kernel_shape: [1, 1] })];
  }
  const pre = act === 'linear' ? ctx.outputName(0) : ctx.tmp('dense');
  const x = ctx.inputs[0].name;
  if (rank === 2) {
    const inputs = [x, ctx.initializer('kernel', [cin, units], k.data)];
    if (bias) inputs.push(ctx.initializer('bias', [units], bias));
    ctx.b.addNode('Gemm', inputs, [pre], {}, `${ctx.scope}/Gemm`);
  } else {
    const mm = bias ? ctx.tmp('matmul') : pre;
    ctx.b.addNode('MatMul', [x, ctx.initializer('kernel', [cin, units], k.data)], [mm], {}, `${ctx.scope}/MatMul`);
    if (bias) ctx.b.addNode('Add', [mm, ctx.initializer('bias', [units], bias)], [pre], {}, `${ctx.scope}/BiasAdd`);
  }
  return [applyActivation(ctx, act, pre, rank, ctx.outputName(0))];
};

export const CONV_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['Conv2D', conv2d],
  ['Conv2DTranspose', conv2dTranspose],
  ['DepthwiseConv2D', depthwiseConv2d],
  ['SeparableConv2D', separableConv2d],
  ['Dense', dense],
];
