/**
 * BatchNormalization in inference mode (moving statistics). When the producing convolution
 * folds it (see conv.ts) the layer is an alias; otherwise it becomes an ONNX
 * BatchNormalization on the channel axis (axis −1 of a 2-D or 4-D NHWC tensor only).
 */
import { UnsupportedOpError } from '../../../src/errors';
import { floatAttr } from '../../../src/onnx/builder';
import { requireRank } from '../layout';
import type { EmitContext, LayerMapper, Weight } from '../types';

/** The BN's channel count and per-channel parameters (gamma=1 / beta=0 when scale/center are off). */
export function batchNormParams(ctx: Pick<EmitContext, 'weight' | 'hasWeight'>): {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
} {
  const mean = ctx.weight('moving_mean').data;
  const variance = ctx.weight('moving_variance').data;
  const get = (key: string, fill: number): Float32Array =>
    ctx.hasWeight(key) ? (ctx.weight(key) as Weight).data : new Float32Array(mean.length).fill(fill);
  return { gamma: get('gamma', 1), beta: get('beta', 0), mean, variance };
}

/** Whether a BN config normalizes the last (channel) axis of a rank-`rank` input. */
export function isChannelBatchNorm(config: Record<string, unknown>, rank: number): boolean {
  const axis = config.axis as number | number[] | undefined;
  const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : (axis ?? -1);
  return a === -1 || a === rank - 1;
}

const batchNormalization: LayerMapper = (ctx) => {
  requireRank(ctx, [2, 4]);
  const rank = ctx.inputs[0].shape.length;
  if (!isChannelBatchNorm(ctx.config, rank)) {
    throw new UnsupportedOpError(`BatchNormalization on axis ${JSON.stringify(ctx.config.axis)}`, ctx.layer.name, ['axis -1 (channels)']);
  }
  const { gamma, beta, mean, variance } = batchNormParams(ctx);
  const c = mean.length;
  const inputs = [
    ctx.inputs[0].name,
    ctx.initializer('gamma', [c], gamma),
    ctx.initializer('beta', [c], beta),
    ctx.initializer('moving_mean', [c], mean),
    ctx.initializer('moving_variance', [c], variance),
  ];
  const eps = Number(ctx.config.epsilon ?? 1e-3);
  ctx.b.addNode('BatchNormalization', inputs, [ctx.outputName(0)], { epsilon: floatAttr(eps) }, `${ctx.scope}/BatchNormalization`);
  return [ctx.outputName(0)];
};

export const NORMALIZATION_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['BatchNormalization', batchNormalization],
];
