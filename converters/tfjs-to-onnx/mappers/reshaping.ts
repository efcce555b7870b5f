/**
 * Spatial and shape layers: UpSampling2D (Resize, nearest or bilinear with tfjs's
 * asymmetric coordinates), ZeroPadding2D (Pad), Cropping2D (Slice), Flatten and Reshape.
 * Flatten/Reshape of 4-D tensors are the one place NHWC element order is observable, so
 * they transpose back to NHWC around the reshape (the only Transposes the converter emits),
 * except for 1×1 maps, whose element order is the same in both layouts.
 */
import { UnsupportedOpError } from '../../../src/errors';
import { pair, requireChannelsLast, requireRank } from '../layout';
import type { EmitContext, LayerMapper } from '../types';

const INT64_MAX_SAFE = Number.MAX_SAFE_INTEGER;

const upSampling2d: LayerMapper = (ctx) => {
  requireChannelsLast(ctx);
  requireRank(ctx, [4]);
  const [sh, sw] = pair(ctx.config.size ?? 2, `${ctx.layer.name}.size`);
  const interpolation = String(ctx.config.interpolation ?? 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new UnsupportedOpError(`UpSampling2D interpolation '${interpolation}'`, ctx.layer.name, ['nearest', 'bilinear']);
  }
  const scales = ctx.constant(`upsample_scales_${sh}x${sw}`, [4], [1, 1, sh, sw]);
  // tfjs resizes with alignCorners = false, halfPixelCenters = false: source = dest / scale ('asymmetric').
  const attrs =
    interpolation === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
  ctx.b.addNode('Resize', [ctx.inputs[0].name, '', scales], [ctx.outputName(0)], attrs, `${ctx.scope}/Resize`);
  return [ctx.outputName(0)];
};

/** [[top, bottom], [left, right]] from a tfjs padding/cropping config (number, [h, w] or nested pairs). */
function twoSided(v: unknown, what: string): [[number, number], [number, number]] {
  if (typeof v === 'number') return [[v, v], [v, v]];
  if (Array.isArray(v) && v.length === 2) {
    const side = (x: unknown): [number, number] => (typeof x === 'number' ? [x, x] : pair(x, what));
    return [side(v[0]), side(v[1])];
  }
  throw new RangeError(`${what}: cannot read ${JSON.stringify(v)}`);
}

const zeroPadding2d: LayerMapper = (ctx) => {
  requireChannelsLast(ctx);
  requireRank(ctx, [4]);
  const [[t, b], [l, r]] = twoSided(ctx.config.padding ?? 1, `${ctx.layer.name}.padding`);
  const pads = ctx.int64Constant(`pads_${t}_${l}_${b}_${r}`, [8], [0, 0, t, l, 0, 0, b, r]);
  ctx.b.addNode('Pad', [ctx.inputs[0].name, pads], [ctx.outputName(0)], { mode: 'constant' }, `${ctx.scope}/Pad`);
  return [ctx.outputName(0)];
};

const cropping2d: LayerMapper = (ctx) => {
  requireChannelsLast(ctx);
  requireRank(ctx, [4]);
  const [[t, b], [l, r]] = twoSided(ctx.config.cropping ?? 0, `${ctx.layer.name}.cropping`);
  const starts = ctx.int64Constant(`crop_starts_${t}_${l}`, [2], [t, l]);
  const ends = ctx.int64Constant(`crop_ends_${b}_${r}`, [2], [b ? -b : INT64_MAX_SAFE, r ? -r : INT64_MAX_SAFE]);
  const axes = ctx.int64Constant('axes_hw', [2], [2, 3]);
  ctx.b.addNode('Slice', [ctx.inputs[0].name, starts, ends, axes], [ctx.outputName(0)], {}, `${ctx.scope}/Slice`);
  return [ctx.outputName(0)];
};

/** NCHW → NHWC for the tensors whose element order tfjs exposes. */
function toNhwc(ctx: EmitContext, x: string): string {
  const out = ctx.tmp('nhwc');
  ctx.b.addNode('Transpose', [x], [out], { perm: [0, 2, 3, 1] }, `${ctx.scope}/ToNHWC`);
  return out;
}

const flatten: LayerMapper = (ctx) => {
  requireChannelsLast(ctx);
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  if (rank === 2) return [x.name];
  // A 1×1 map flattens to the same [N, C] in both layouts; anything else needs NHWC order.
  const spatialOne = rank === 4 && x.shape[1] === 1 && x.shape[2] === 1;
  const src = rank === 4 && !spatialOne ? toNhwc(ctx, x.name) : x.name;
  ctx.b.addNode('Flatten', [src], [ctx.outputName(0)], { axis: 1 }, `${ctx.scope}/Flatten`);
  return [ctx.outputName(0)];
};

const reshape: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const target = ctx.config.targetShape as Array<number | null> | undefined;
  if (!Array.isArray(target)) throw new UnsupportedOpError('Reshape without targetShape', ctx.layer.name, ['a fixed targetShape']);
  const outRank = target.length + 1;
  // A 1×1 map has the same element order in NHWC and NCHW, so no transpose is needed on that side.
  const inOneByOne = x.shape.length === 4 && x.shape[1] === 1 && x.shape[2] === 1;
  const outOneByOne = outRank === 4 && target[0] === 1 && target[1] === 1;
  const src = x.shape.length === 4 && !inOneByOne ? toNhwc(ctx, x.name) : x.name;
  const dims = [0, ...target.map((d) => (d === null ? -1 : d))];
  const onnxDims = outOneByOne ? [0, dims[3], 1, 1] : dims;
  const shape = ctx.int64Constant(`shape_${onnxDims.join('_')}`, [outRank], onnxDims);
  const reshaped = outRank === 4 && !outOneByOne ? ctx.tmp('nhwc_reshaped') : ctx.outputName(0);
  ctx.b.addNode('Reshape', [src, shape], [reshaped], {}, `${ctx.scope}/Reshape`);
  if (outRank === 4 && !outOneByOne) ctx.b.addNode('Transpose', [reshaped], [ctx.outputName(0)], { perm: [0, 3, 1, 2] }, `${ctx.scope}/ToNCHW`);
  return [ctx.outputName(0)];
};

export const RESHAPING_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['UpSampling2D', upSampling2d],
  ['ZeroPadding2D', zeroPadding2d],
  ['Cropping2D', cropping2d],
  ['Flatten', flatten],
  ['Reshape', reshape],
];
