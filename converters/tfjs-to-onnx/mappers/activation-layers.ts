/**
 * Activation layers: Activation (any supported tfjs activation), ReLU (optional maxValue),
 * LeakyReLU, ELU, ThresholdedReLU, Softmax (tfjs axis renumbered) and PReLU (slopes
 * permuted to the NCHW broadcast shape).
 */
import { UnsupportedOpError } from '../../../src/errors';
import { floatAttr } from '../../../src/onnx/builder';
import { activationName, applyActivation } from '../activations';
import { onnxAxis, permute } from '../layout';
import type { LayerMapper } from '../types';

const activation: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const name = activationName(ctx.config.activation);
  return [name === 'linear' ? x.name : applyActivation(ctx, name, x.name, x.shape.length, ctx.outputName(0))];
};

const relu: LayerMapper = (ctx) => {
  const x = ctx.inputs[0].name;
  const max = ctx.config.maxValue;
  if (max === undefined || max === null) {
    ctx.b.addNode('Relu', [x], [ctx.outputName(0)], {}, `${ctx.scope}/Relu`);
  } else {
    const lo = ctx.constant('zero', [], [0]);
    const hi = ctx.initializer('max_value', [], new Float32Array([Number(max)]));
    ctx.b.addNode('Clip', [x, lo, hi], [ctx.outputName(0)], {}, `${ctx.scope}/Clip`);
  }
  return [ctx.outputName(0)];
};

const leakyRelu: LayerMapper = (ctx) => {
  const alpha = Number(ctx.config.alpha ?? 0.3);
  ctx.b.addNode('LeakyRelu', [ctx.inputs[0].name], [ctx.outputName(0)], { alpha: floatAttr(alpha) }, `${ctx.scope}/LeakyRelu`);
  return [ctx.outputName(0)];
};

const elu: LayerMapper = (ctx) => {
  const alpha = Number(ctx.config.alpha ?? 1);
  ctx.b.addNode('Elu', [ctx.inputs[0].name], [ctx.outputName(0)], { alpha: floatAttr(alpha) }, `${ctx.scope}/Elu`);
  return [ctx.outputName(0)];
};

const thresholdedRelu: LayerMapper = (ctx) => {
  const theta = Number(ctx.config.theta ?? 1);
  ctx.b.addNode('ThresholdedRelu', [ctx.inputs[0].name], [ctx.outputName(0)], { alpha: floatAttr(theta) }, `${ctx.scope}/ThresholdedRelu`);
  return [ctx.outputName(0)];
};

const softmax: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const cfg = ctx.config.axis;
  const axis = Array.isArray(cfg) ? (cfg.length === 1 ? Number(cfg[0]) : NaN) : Number(cfg ?? 1);
  if (!Number.isInteger(axis)) throw new UnsupportedOpError(`Softmax over axes ${JSON.stringify(cfg)}`, ctx.layer.name, ['a single axis']);
  ctx.b.addNode('Softmax', [x.name], [ctx.outputName(0)], { axis: onnxAxis(axis, x.shape.length) }, `${ctx.scope}/Softmax`);
  return [ctx.outputName(0)];
};

const prelu: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const a = ctx.weight('alpha');
  let data = a.data;
  let dims = a.shape;
  if (x.shape.length === 4) {
    if (a.shape.length !== 3) throw new UnsupportedOpError(`PReLU alpha of shape [${a.shape}]`, ctx.layer.name, ['[H, W, C] alpha']);
    // alpha is [H, W, C] (1 on shared axes); NCHW broadcasting needs [C, H, W].
    data = permute(a.data, a.shape, [2, 0, 1]);
    dims = [a.shape[2], a.shape[0], a.shape[1]];
  }
  ctx.b.addNode('PRelu', [x.name, ctx.initializer('alpha', dims, data)], [ctx.outputName(0)], {}, `${ctx.scope}/PRelu`);
  return [ctx.outputName(0)];
};

export const ACTIVATION_LAYER_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['Activation', activation],
  ['ReLU', relu],
  ['LeakyReLU', leakyRelu],
  ['ELU', elu],
  ['ThresholdedReLU', thresholdedRelu],
  ['Softmax', softmax],
  ['PReLU', prelu],
];
