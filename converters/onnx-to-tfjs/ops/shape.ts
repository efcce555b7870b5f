/**
 * Shape and layout ops: Identity/Dropout (aliases), Flatten/Reshape/Squeeze/Unsqueeze (only
 * the forms that do not depend on NHWC element order, plus Flatten of a spatial map via
 * Permute), Concat (axis renumbered), Slice (Cropping2D, else OnnxStridedSlice), Pad
 * (ZeroPadding2D / Cropping2D, else OnnxPad), Resize/Upsample (UpSampling2D, else OnnxResize),
 * DepthToSpace/SpaceToDepth (OnnxSpaceDepth) and Transpose (constants; on activations only the
 * identity and ConvNeXt's channel LayerNormalization between two Transposes). On constants
 * they fold with the core rules (coreFold).
 */
import { normAxis, toNumbers, type ConstTensor } from '../constants';
import { registerOnnxLayers, type OnnxResizeConfig } from '../custom-layers';
import { tfAxis } from '../layout';
import { coreFold } from './constant';
import type { BuildContext, OpMapper, SymbolicTensor, Value } from '../types';
import { applyLayerNorm } from './normalization';

const tensorOut = (sym: SymbolicTensor): Value[] => [{ kind: 'tensor', sym }];
/** Slice ends at or beyond this mean "to the end" (INT64_MAX and INT32_MAX sentinels). */
const OPEN_END = 2 ** 31 - 1;

/** Squeeze/Unsqueeze/ReduceX axes: an input from `version` on, an attribute before. */
function axesOf(ctx: { opset: number; attrs: Readonly<Record<string, unknown>> }, constInput: ConstTensor | undefined, version: number): number[] | undefined {
  if (ctx.opset >= version) return constInput ? toNumbers(constInput) : undefined;
  return ctx.attrs.axes as number[] | undefined;
}

function staticHW(x: SymbolicTensor): [number, number] | undefined {
  const [, h, w] = x.shape;
  return typeof h === 'number' && typeof w === 'number' ? [h, w] : undefined;
}

/** [N, C, H, W] → [N, C·H·W] in ONNX (NCHW) element order. */
function flattenSpatial(ctx: BuildContext, x: SymbolicTensor): SymbolicTensor {
  const hw = staticHW(x);
  if (hw && hw[0] === 1 && hw[1] === 1) return ctx.apply(ctx.tf.layers.flatten({ name: ctx.layerName() }), x);
  if (!hw) {
    ctx.unsupported(`${ctx.node.opType} of a spatial map of unknown size [N, C, ${String(x.shape[1])}, ${String(x.shape[2])}]`, ['1×1 maps', 'maps of a static size'], 'Pass inputShapes with a fixed H and W.');
  }
  // NCHW flatten order: one Permute (NHWC → NCHW) first, the model's only activation transpose.
  const nchw = ctx.apply(ctx.tf.layers.permute({ dims: [3, 1, 2], name: ctx.layerName('nchw') }), x);
  return ctx.apply(ctx.tf.layers.flatten({ name: ctx.layerName() }), nchw);
}

function sliceParams(
  ctx: { opset: number; attrs: Readonly<Record<string, unknown>> },
  inputs: ReadonlyArray<ConstTensor | undefined>,
  rank: number,
): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } {
  const fromInputs = ctx.opset >= 10;
  const starts = fromInputs ? toNumbers(inputs[1] as ConstTensor) : (ctx.attrs.starts as number[]);
  const ends = fromInputs ? toNumbers(inputs[2] as ConstTensor) : (ctx.attrs.ends as number[]);
  const axesRaw = fromInputs ? (inputs[3] ? toNumbers(inputs[3]) : undefined) : (ctx.attrs.axes as number[] | undefined);
  const axes = (axesRaw ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
  const steps = fromInputs && inputs[4] ? toNumbers(inputs[4]) : starts.map(() => 1);
  return { starts, ends, axes, steps };
}

function buildSlice(ctx: BuildContext): Value[] {
  const x = ctx.tensor(0);
  const rank = x.shape.length;
  const consts = [undefined, ...[1, 2, 3, 4].map((i) => ctx.constant(i))];
  const p = sliceParams(ctx, consts, rank);
  const begin = new Array<number>(rank - 1).fill(0);
  const end = new Array<number | null>(rank - 1).fill(null);
  const strides = new Array<number>(rank - 1).fill(1);
  p.axes.forEach((a, j) => {
    const [s, e, st] = [p.starts[j], p.ends[j], p.steps[j]];
    if (st <= 0) ctx.unsupported(`Slice with step ${st}`, ['positive steps']);
    if (a === 0) {
      if (s !== 0 || e < OPEN_END || st !== 1) ctx.unsupported('Slice of the batch axis', ['slices of non-batch axes']);
      return;
    }
    const t = tfAxis(a, rank) - 1;
    begin[t] = s;
    end[t] = e >= OPEN_END ? null : e;
    strides[t] = st;
  });
  // Spatial crops from both ends are a built-in Cropping2D.
  const cropOk = rank === 4 && strides.every((s) => s === 1) && begin[2] === 0 && end[2] === null && begin.slice(0, 2).every((b) => b >= 0)
    && end.slice(0, 2).every((e) => e === null || e < 0);
  if (cropOk) {
    const cropping: [[number, number], [number, number]] = [[begin[0], end[0] === null ? 0 : -end[0]], [begin[1], end[1] === null ? 0 : -end[1]]];
    if (cropping.flat().every((c) => c === 0)) return [{ kind: 'tensor', sym: x }];
    return tensorOut(ctx.apply(ctx.tf.layers.cropping2D({ cropping, name: ctx.layerName() }), x));
  }
  const layer = new (registerOnnxLayers(ctx.tf).OnnxStridedSlice)({ name: ctx.layerName(), begin, end, strides });
  return tensorOut(ctx.apply(layer, x));
}

/** Split sizes: the `split` input (opset ≥ 13) or attribute, else equal parts (opset 18: the last may be smaller). */
function splitSizes(ctx: BuildContext, size: number, n: number): number[] {
  const given = ctx.opset >= 13 ? ctx.constant(1) : undefined;
  const sizes = given ? toNumbers(given) : (ctx.attrs.split as number[] | undefined);
  if (sizes?.length) return sizes;
  const parts = ctx.opset >= 18 ? ((ctx.attrs.num_outputs as number | undefined) ?? n) : n;
  const chunk = ctx.opset >= 18 ? Math.ceil(size / parts) : size / parts;
  if (!Number.isInteger(chunk)) ctx.unsupported(`Split of ${size} into ${parts} equal parts`, ['sizes that divide the axis']);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, size - i * chunk)));
}

/** Split → one OnnxStridedSlice per output along the (renumbered) axis. */
function buildSplit(ctx: BuildContext): Value[] {
  const x = ctx.tensor(0);
  const rank = x.shape.length;
  const onnxOrder = (ctx.input(0) as { onnxOrder?: boolean }).onnxOrder === true;
  const axis = normAxis(ctx.attrs.axis as number, rank);
  if (axis === 0) ctx.unsupported('Split of the batch axis', ['non-batch axes']);
  const t = onnxOrder ? axis : tfAxis(axis, rank);
  const size = x.shape[t];
  if (size == null) ctx.unsupported('Split of an axis of unknown size', ['axes with a static size']);
  const n = (ctx.node.output ?? []).length;
  const sizes = splitSizes(ctx, size as number, n);
  if (sizes.length !== n || sizes.reduce((a, b) => a + b, 0) !== size) {
    ctx.unsupported(`Split sizes [${sizes.join(', ')}] for ${n} outputs of an axis of ${size}`, ['sizes that sum to the axis, one per output']);
  }
  const Slice = registerOnnxLayers(ctx.tf).OnnxStridedSlice;
  let from = 0;
  return sizes.map((len, k) => {
    const begin = new Array<number>(rank - 1).fill(0);
    const end = new Array<number | null>(rank - 1).fill(null);
    begin[t - 1] = from;
    end[t - 1] = from + len;
    from += len;
    const layer = new Slice({ name: ctx.layerName(String(k)), begin, end, strides: new Array<number>(rank - 1).fill(1) });
    const sym = ctx.apply(layer, x);
    return onnxOrder ? { kind: 'tensor' as const, sym, onnxOrder } : { kind: 'tensor' as const, sym };
  });
}

function buildPad(ctx: BuildContext): Value[] {
  const x = ctx.tensor(0);
  const rank = x.shape.length;
  const mode = ctx.attrs.mode as string;
  const padsRaw = ctx.opset >= 11 ? toNumbers(ctx.constant(1) as ConstTensor) : ((ctx.attrs.pads as number[] | undefined) ?? []);
  const value = ctx.opset >= 11 ? (ctx.constant(2)?.data[0] ?? 0) : ((ctx.attrs.value as number | undefined) ?? 0);
  const axesConst = ctx.opset >= 18 ? ctx.constant(3) : undefined;
  const axes = axesConst ? toNumbers(axesConst).map((a) => normAxis(a, rank)) : Array.from({ length: rank }, (_, i) => i);
  if (padsRaw.length !== 2 * axes.length) ctx.unsupported(`Pad with ${padsRaw.length} pads for ${axes.length} axes`, ['2 pads per axis']);
  const perAxis: Array<[number, number]> = Array.from({ length: rank }, () => [0, 0]);
  axes.forEach((a, j) => (perAxis[a] = [padsRaw[j], padsRaw[j + axes.length]]));
  if (perAxis[0][0] !== 0 || perAxis[0][1] !== 0) ctx.unsupported('Pad of the batch axis', ['pads of non-batch axes']);
  const flat = perAxis.flat();
  // tfjs order of the non-batch axes.
  const tfPads = Array.from({ length: rank - 1 }, (_, t) => perAxis[rank === 4 ? [2, 3, 1][t] : t + 1]);
  if (flat.some((p) => p < 0)) {
    const spatialOnly = rank === 4 && perAxis[1].every((p) => p === 0);
    if (!flat.every((p) => p <= 0) || !spatialOnly) ctx.unsupported(`Pad with mixed or non-spatial negative pads [${padsRaw.join(', ')}]`, ['non-negative pads', 'negative H/W pads only (a crop)']);
    const cropping: [[number, number], [number, number]] = [[-perAxis[2][0], -perAxis[2][1]], [-perAxis[3][0], -perAxis[3][1]]];
    return tensorOut(ctx.apply(ctx.tf.layers.cropping2D({ cropping, name: ctx.layerName() }), x));
  }
  if (mode === 'constant' && value === 0 && rank === 4 && perAxis[1].every((p) => p === 0)) {
    return tensorOut(ctx.apply(ctx.tf.layers.zeroPadding2d({ padding: [perAxis[2], perAxis[3]], name: ctx.layerName() }), x));
  }
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') ctx.unsupported(`Pad mode '${mode}'`, ['constant', 'reflect', 'edge']);
  const layer = new (registerOnnxLayers(ctx.tf).OnnxPad)({
    name: ctx.layerName(),
    paddings: tfPads,
    mode: mode as 'constant' | 'reflect' | 'edge',
    value: Number.isFinite(value) ? value : value > 0 ? 'Infinity' : '-Infinity',
  });
  return tensorOut(ctx.apply(layer, x));
}

/** Resize modes OnnxResize reproduces (checked against onnxruntime in the tests). */
const RESIZE_MODES: ReadonlyArray<readonly [string, string, string]> = [
  ['nearest', 'asymmetric', 'floor'],
  ['nearest', 'half_pixel', 'round_prefer_ceil'],
  ['nearest', 'pytorch_half_pixel', 'round_prefer_ceil'],
  ['nearest', 'align_corners', 'round_prefer_ceil'],
  ['linear', 'asymmetric', '*'],
  ['linear', 'half_pixel', '*'],
  ['linear', 'pytorch_half_pixel', '*'],
  ['linear', 'align_corners', '*'],
];

/** Coordinate modes and nearest modes the exact (gather) path of OnnxResize computes. */
const EXACT_COORDS = ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'align_corners'];
const EXACT_NEAREST = ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil'];

function buildResize(ctx: BuildContext): Value[] {
  const x = ctx.tensor(0);
  if (x.shape.length !== 4) ctx.unsupported(`Resize of a rank-${x.shape.length} tensor`, ['[N, C, H, W]']);
  const mode = ctx.attrs.mode as string;
  const coord = ctx.opset >= 11 ? (ctx.attrs.coordinate_transformation_mode as string) : 'asymmetric';
  const nearest = ctx.opset >= 11 ? (ctx.attrs.nearest_mode as string) : 'floor';
  if ((ctx.attrs.antialias as number) === 1) ctx.unsupported('Resize with antialias = 1', ['antialias = 0']);
  if (ctx.attrs.axes !== undefined) ctx.unsupported('Resize with axes', ['scales/sizes for all 4 axes']);
  const scalesC = ctx.opset >= 11 ? ctx.constant(2) : ctx.constant(1);
  const sizesC = ctx.opset >= 11 ? ctx.constant(3) : undefined;
  return resizeTo(ctx, x, mode, coord, nearest, scalesC, sizesC);
}

/**
 * Upsample (opset 7–9; deprecated by Resize): scales as an attribute (≤ 8) or input (9), ONNX's
 * asymmetric coordinates; nearest takes the floor (onnxruntime's rule for scales ≥ 1).
 */
function buildUpsample(ctx: BuildContext): Value[] {
  const x = ctx.tensor(0);
  if (x.shape.length !== 4) ctx.unsupported(`Upsample of a rank-${x.shape.length} tensor`, ['[N, C, H, W]']);
  const mode = ctx.attrs.mode as string;
  const m = mode === 'bilinear' ? 'linear' : mode;
  const scalesC = ctx.opset >= 9 ? ctx.constant(1) : ctx.attrs.scales ? { dtype: 'float' as const, dims: [4], data: Float64Array.from(ctx.attrs.scales as number[]), onnxType: 1 } : undefined;
  const s = scalesC ? toNumbers(scalesC) : [];
  if (s.slice(2).some((v) => v < 1)) ctx.unsupported(`Upsample scales [${s.join(', ')}] below 1`, ['scales ≥ 1']);
  return resizeTo(ctx, x, m, 'asymmetric', 'floor', scalesC, undefined);
}

function resizeTo(
  ctx: BuildContext, x: SymbolicTensor, mode: string, coord: string, nearest: string, scalesC: ConstTensor | undefined, sizesC: ConstTensor | undefined,
): Value[] {
  let scales: number[];
  if (scalesC && scalesC.data.length) {
    scales = toNumbers(scalesC);
  } else if (sizesC && sizesC.data.length) {
    const hw = staticHW(x);
    if (!hw) ctx.unsupported('Resize by sizes of a map of unknown size', ['scales', 'sizes with a static input size']);
    const sz = toNumbers(sizesC);
    scales = [1, 1, sz[2] / hw![0], sz[3] / hw![1]];
    if (sz[0] !== (x.shape[0] ?? sz[0]) || sz[1] !== x.shape[3]) ctx.unsupported('Resize of N or C', ['H and W']);
  } else {
    return ctx.unsupported('Resize without scales or sizes', ['constant scales or sizes']);
  }
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) ctx.unsupported(`Resize scales [${scales.join(', ')}]`, ['[1, 1, sH, sW]']);
  const [sh, sw] = [scales[2], scales[3]];
  const integral = Number.isInteger(sh) && Number.isInteger(sw) && sh >= 1 && sw >= 1;
  const hw = staticHW(x);
  // ONNX maps coordinates with the given scale, tfjs with in/out sizes: equal only when in·scale is whole.
  const sizesAgree = integral || (hw !== undefined && Number.isInteger(hw[0] * sh) && Number.isInteger(hw[1] * sw));
  const tfImage = sizesAgree && RESIZE_MODES.some(([m, c, n]) => m === mode && c === coord && (n === '*' || n === nearest));
  if (!tfImage && (mode === 'nearest' || mode === 'linear') && EXACT_COORDS.includes(coord) && (mode === 'linear' || EXACT_NEAREST.includes(nearest))) {
    // The exact path computes ONNX's coordinates from the given scales, so any scale works.
    const layer = new (registerOnnxLayers(ctx.tf).OnnxResize)({
      name: ctx.layerName(),
      scales: [sh, sw],
      mode: mode as OnnxResizeConfig['mode'],
      coordinateTransformationMode: coord as OnnxResizeConfig['coordinateTransformationMode'],
      nearestMode: nearest as OnnxResizeConfig['nearestMode'],
      exact: true,
    });
    return tensorOut(ctx.apply(layer, x));
  }
  const name = ctx.layerName();
  if (integral && coord === 'asymmetric' && (mode === 'linear' || (mode === 'nearest' && nearest === 'floor'))) {
    const layer = ctx.tf.layers.upSampling2d({ size: [sh, sw], interpolation: mode === 'linear' ? 'bilinear' : 'nearest', name });
    return tensorOut(ctx.apply(layer, x));
  }
  if (!tfImage) {
    ctx.unsupported(`Resize mode '${mode}', coordinate_transformation_mode '${coord}', nearest_mode '${nearest}'`, ['nearest', 'linear'].flatMap((m) => EXACT_COORDS.map((c) => `${m}/${c}`)));
  }
  const layer = new (registerOnnxLayers(ctx.tf).OnnxResize)({
    name,
    scales: [sh, sw],
    mode: mode as OnnxResizeConfig['mode'],
    coordinateTransformationMode: coord as OnnxResizeConfig['coordinateTransformationMode'],
    nearestMode: nearest as OnnxResizeConfig['nearestMode'],
  });
  return tensorOut(ctx.apply(layer, x));
}

/**
 * ConvNeXt's channel LayerNorm (Transpose to NHWC, LayerNormalization over the last axis,
 * Transpose back): tfjs activations already are NHWC, so it is one OnnxLayerNorm over the
 * channel axis. Absorbs the two following nodes; undefined when the pattern does not match.
 */
function layerNormOverChannels(ctx: BuildContext, x: SymbolicTensor, perm: number[] | undefined): SymbolicTensor | undefined {
  if (x.shape.length !== 4 || perm?.join() !== '0,2,3,1') return undefined;
  const ln = ctx.consumer(['LayerNormalization']);
  if (!ln || ctx.opset < 17) return undefined;
  const lnAttr = (name: string) => (ln.attribute ?? []).find((a) => a.name === name);
  if (![-1, 3].includes(Number(lnAttr('axis')?.i ?? -1)) || (ln.output ?? []).filter(Boolean).length > 1) return undefined;
  const back = ctx.consumer(['Transpose'], ln);
  const backPerm = (back?.attribute ?? []).find((a) => a.name === 'perm')?.ints?.map(Number);
  if (!back || backPerm?.join() !== '0,3,1,2') return undefined;
  const [, scaleName, biasName] = ln.input ?? [];
  const scale = scaleName ? ctx.constantOf(scaleName) : undefined;
  const bias = biasName ? ctx.constantOf(biasName) : undefined;
  const c = x.shape[3] as number;
  if (!scale || scale.data.length !== c || (bias && bias.data.length !== c)) return undefined;
  ctx.absorb(ln);
  ctx.absorb(back);
  const flat = (t: ConstTensor): ConstTensor => ({ ...t, dims: [c, 1, 1] });
  return applyLayerNorm(ctx, x, [3], lnAttr('epsilon')?.f ?? 1e-5, flat(scale), bias ? flat(bias) : undefined);
}

/**
 * ShuffleNet's channel shuffle: Reshape [N, C, H, W] → [N, g, C/g, H, W], Transpose (0, 2, 1, 3, 4),
 * Reshape back to [N, C, H, W]; output channel k reads input channel (k mod g)·C/g + ⌊k/g⌋.
 * Absorbs the Transpose and the second Reshape; undefined when the pattern does not match.
 */
function channelShuffle(ctx: BuildContext, x: SymbolicTensor, target: number[]): SymbolicTensor | undefined {
  const c = x.shape[3];
  if (x.shape.length !== 4 || c === null || target.length !== 5 || target[1] * target[2] !== c || target[1] < 1) return undefined;
  const t = ctx.consumer(['Transpose']);
  const perm = (t?.attribute ?? []).find((a) => a.name === 'perm')?.ints?.map(Number);
  if (!t || perm?.join() !== '0,2,1,3,4') return undefined;
  const back = ctx.consumer(['Reshape'], t);
  const shapeName = back?.input?.[1];
  const backShape = shapeName ? ctx.constantOf(shapeName) : undefined;
  const dims = backShape ? toNumbers(backShape) : [];
  if (!back || dims.length !== 4 || !(dims[1] === c || (dims[1] === -1 && dims.every((d, i) => i === 1 || d !== -1)))) return undefined;
  const g = target[1];
  const per = c / g;
  ctx.absorb(t);
  ctx.absorb(back);
  const indices = Array.from({ length: c }, (_, k) => (k % g) * per + Math.floor(k / g));
  return ctx.apply(new (registerOnnxLayers(ctx.tf).OnnxChannelGather)({ name: ctx.layerName(), indices }), x);
}

/** DepthToSpace (DCR/CRD) and SpaceToDepth on [N, C, H, W]. */
function spaceDepth(op: 'DepthToSpace' | 'SpaceToDepth'): OpMapper {
  return {
    onnxOp: op,
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [
      { onnxName: 'blocksize', type: 'int' },
      ...(op === 'DepthToSpace' ? [{ onnxName: 'mode', type: 'string', default: 'DCR' } as const] : []),
    ],
    build: (ctx) => {
      const x = ctx.tensor(0);
      const b = ctx.attrs.blocksize as number | undefined;
      if (x.shape.length !== 4) ctx.unsupported(`${op} of a rank-${x.shape.length} tensor`, ['[N, C, H, W]']);
      if (!b || b < 1) ctx.unsupported(`${op} blocksize ${String(b)}`, ['blocksize ≥ 1']);
      const mode = op === 'SpaceToDepth' ? 'SpaceToDepth' : (ctx.attrs.mode as string);
      if (mode !== 'DCR' && mode !== 'CRD' && mode !== 'SpaceToDepth') ctx.unsupported(`DepthToSpace mode '${mode}'`, ['DCR', 'CRD']);
      const c = x.shape[3] as number;
      if (op === 'DepthToSpace' && c % (b! * b!) !== 0) ctx.unsupported(`DepthToSpace of ${c} channels with blocksize ${b}`, ['channels divisible by blocksize²']);
      const layer = new (registerOnnxLayers(ctx.tf).OnnxSpaceDepth)({ name: ctx.layerName(), blocksize: b!, mode: mode as 'DCR' | 'CRD' | 'SpaceToDepth' });
      return tensorOut(ctx.apply(layer, x));
    },
    notes: `OnnxSpaceDepth${op === 'DepthToSpace' ? ' (DCR and CRD)' : ''} (rank-6 reshape/transpose in NHWC)`,
  };
}

function alias(ctx: BuildContext): Value[] {
  return [{ kind: 'tensor', sym: ctx.tensor(0) }];
}

export const SHAPE_OPS: readonly OpMapper[] = [
  {
    onnxOp: 'Identity',
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [],
    onnxOrder: 'elementwise',
    fold: coreFold,
    build: alias,
    notes: 'alias (also torchvision\'s Identity on shared initializers)',
  },
  {
    onnxOp: 'Dropout',
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'data', kind: 'tensor' }, { name: 'ratio', kind: 'const', optional: true }, { name: 'training_mode', kind: 'const', optional: true }],
    onnxOrder: 'elementwise',
    attrs: [],
    build: alias,
    notes: 'alias (inference); the mask output must be unused',
  },
  {
    onnxOp: 'Flatten',
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [{ onnxName: 'axis', type: 'int', default: 1 }],
    fold: coreFold,
    build: (ctx) => {
      const x = ctx.tensor(0);
      const rank = x.shape.length;
      if (normAxis(ctx.attrs.axis as number, rank + 1) !== 1) ctx.unsupported(`Flatten with axis ${String(ctx.attrs.axis)}`, ['axis 1']);
      if (rank === 2) return alias(ctx);
      if (rank !== 4) ctx.unsupported(`Flatten of rank ${rank}`, ['rank 2', 'rank 4']);
      return tensorOut(flattenSpatial(ctx, x));
    },
    notes: 'axis 1: alias for [N, C]; Flatten for 1×1 maps; Permute + Flatten for static-size maps',
  },
  {
    onnxOp: 'Reshape',
    opsets: [5, 21],
    category: 'shape',
    inputs: [{ name: 'data', kind: 'tensor' }, { name: 'shape', kind: 'const' }],
    attrs: [{ onnxName: 'allowzero', type: 'int', default: 0 }],
    fold: coreFold,
    build: (ctx) => {
      const x = ctx.tensor(0);
      const target = toNumbers(ctx.constant(1) as ConstTensor);
      const rank = x.shape.length;
      const c = x.shape[rank - 1];
      if (rank === 4 && target.length === 2 && (target[0] === 0 || target[0] === -1) && target[1] === -1) return tensorOut(flattenSpatial(ctx, x));
      if (rank === 4 && target.length === 2 && target[0] === 0) {
        const hw = staticHW(x);
        if (hw && target[1] === (c as number) * hw[0] * hw[1]) return tensorOut(flattenSpatial(ctx, x));
      }
      if (rank === 2 && target.length === 2 && (target[0] === 0 || target[0] === -1) && (target[1] === -1 || target[1] === c)) return alias(ctx);
      const shuffled = channelShuffle(ctx, x, target);
      if (shuffled) return tensorOut(shuffled);
      if (rank === 2 && target.length === 4 && (target[0] === 0 || target[0] === -1) && (target[1] === c || target[1] === -1) && target[2] === 1 && target[3] === 1) {
        return tensorOut(ctx.apply(ctx.tf.layers.reshape({ targetShape: [1, 1, c as number], name: ctx.layerName() }), x));
      }
      return ctx.unsupported(`Reshape of a rank-${rank} activation to [${target.join(', ')}]`, ['[N, C, H, W] → [N, -1]', '[N, C] → [N, C, 1, 1]']);
    },
    notes: 'on activations: flatten [N, C, H, W] → [N, -1] or [N, C] → [N, C, 1, 1]; Reshape [N, g, C/g, H, W] → Transpose (0,2,1,3,4) → Reshape [N, C, H, W] (channel shuffle): OnnxChannelGather; folded on constants',
  },
  {
    onnxOp: 'Squeeze',
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'data', kind: 'tensor' }, { name: 'axes', kind: 'const', optional: true }],
    attrs: [{ onnxName: 'axes', type: 'ints' }],
    fold: coreFold,
    build: (ctx) => {
      const x = ctx.tensor(0);
      const axes = axesOf(ctx, ctx.constant(1), 13)?.map((a) => normAxis(a, x.shape.length));
      const hw = staticHW(x);
      const ok = x.shape.length === 4 && hw && hw[0] === 1 && hw[1] === 1 && (!axes || [...axes].sort().join(',') === '2,3');
      if (!ok) ctx.unsupported(`Squeeze of axes [${axes?.join(', ') ?? 'all 1-dims'}] of a rank-${x.shape.length} activation`, ['axes (2, 3) of a 1×1 map']);
      return tensorOut(ctx.apply(ctx.tf.layers.flatten({ name: ctx.layerName() }), x));
    },
    notes: 'on activations: axes (2, 3) of a 1×1 map (Flatten); axes as attribute (≤ 12) or input (≥ 13); folded on constants',
  },
  {
    onnxOp: 'Unsqueeze',
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'data', kind: 'tensor' }, { name: 'axes', kind: 'const', optional: true }],
    attrs: [{ onnxName: 'axes', type: 'ints' }],
    fold: coreFold,
    build: (ctx) => {
      const x = ctx.tensor(0);
      const axes = (axesOf(ctx, ctx.constant(1), 13) ?? []).map((a) => normAxis(a, x.shape.length + 2));
      if (x.shape.length !== 2 || [...axes].sort().join(',') !== '2,3') {
        ctx.unsupported(`Unsqueeze of axes [${axes.join(', ')}] of a rank-${x.shape.length} activation`, ['axes (2, 3) of [N, C]']);
      }
      return tensorOut(ctx.apply(ctx.tf.layers.reshape({ targetShape: [1, 1, x.shape[1] as number], name: ctx.layerName() }), x));
    },
    notes: 'on activations: [N, C] → [N, C, 1, 1] (Reshape); folded on constants',
  },
  {
    onnxOp: 'Concat',
    opsets: [4, 21],
    category: 'shape',
    inputs: [{ name: 'inputs', kind: 'tensor', variadic: true }],
    attrs: [{ onnxName: 'axis', type: 'int', default: 0 }],
    fold: coreFold,
    build: (ctx) => {
      const n = (ctx.node.input ?? []).length;
      const xs = Array.from({ length: n }, (_, i) => ctx.tensor(i));
      const rank = xs[0].shape.length;
      if (xs.some((x) => x.shape.length !== rank)) ctx.unsupported('Concat of activations of different ranks', ['equal ranks']);
      if (n === 1) return [{ kind: 'tensor', sym: xs[0] }];
      const axis = tfAxis(normAxis(ctx.attrs.axis as number, rank), rank);
      if (axis === 0) ctx.unsupported('Concat along the batch axis', ['non-batch axes']);
      return tensorOut(ctx.apply(ctx.tf.layers.concatenate({ axis: axis === rank - 1 ? -1 : axis, name: ctx.layerName() }), xs));
    },
    notes: 'Concatenate (axis renumbered NCHW → NHWC); folded on constants',
  },
  {
    onnxOp: 'Transpose',
    opsets: [1, 21],
    category: 'shape',
    inputs: [{ name: 'data', kind: 'tensor' }],
    attrs: [{ onnxName: 'perm', type: 'ints' }],
    onnxOrder: 'handled',
    fold: coreFold,
    build: (ctx) => {
      const x = ctx.tensor(0);
      const perm = ctx.attrs.perm as number[] | undefined;
      const ordered = (ctx.input(0) as { onnxOrder?: boolean }).onnxOrder === true;
      if (perm && perm.every((p, i) => p === i)) return [{ kind: 'tensor', sym: x, onnxOrder: ordered }];
      // tfjs holds NCHW as NHWC: to NHWC and back only relabel the axes (ConvNeXt's MLP block in between).
      if (ordered && perm?.join() === '0,3,1,2') return [{ kind: 'tensor', sym: x }];
      if (ordered) ctx.unsupported(`Transpose [${perm?.join(', ') ?? 'reverse'}] of an activation in NHWC order`, ['(0, 3, 1, 2) back to NCHW']);
      const ln = layerNormOverChannels(ctx, x, perm);
      if (ln) return [{ kind: 'tensor', sym: ln }];
      if (x.shape.length === 4 && perm?.join() === '0,2,3,1') return [{ kind: 'tensor', sym: x, onnxOrder: true }];
      return ctx.unsupported(`Transpose [${perm?.join(', ') ?? 'reverse'}] of an activation`, ['constants', 'the identity permutation'], 'A layout change inside the graph has no tfjs equivalent here; cut the model before it.');
    },
    notes: 'folded on constants; identity on activations; (0,2,3,1) and back (0,3,1,2) relabel the axes (no layer; elementwise ops, MatMul and LayerNormalization(−1) run in between); Transpose(0,2,3,1) → LayerNormalization(−1) → Transpose(0,3,1,2): OnnxLayerNorm over channels',
  },
  {
    onnxOp: 'Slice',
    opsets: [1, 21],
    category: 'shape',
    inputs: [
      { name: 'data', kind: 'tensor' },
      { name: 'starts', kind: 'const', optional: true },
      { name: 'ends', kind: 'const', optional: true },
      { name: 'axes', kind: 'const', optional: true },
      { name: 'steps', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'starts', type: 'ints' },
      { onnxName: 'ends', type: 'ints' },
      { onnxName: 'axes', type: 'ints' },
    ],
    fold: coreFold,
    build: buildSlice,
    notes: 'H/W crops: Cropping2D; other non-batch slices with positive steps: OnnxStridedSlice; folded on constants',
  },
  {
    onnxOp: 'Split',
    opsets: [2, 21],
    category: 'shape',
    inputs: [
      { name: 'input', kind: 'tensor' },
      { name: 'split', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'axis', type: 'int', default: 0 },
      { onnxName: 'split', type: 'ints' },
      { onnxName: 'num_outputs', type: 'int' },
    ],
    build: buildSplit,
    onnxOrder: 'handled',
    notes: 'one OnnxStridedSlice per output (sizes from the split input/attribute, else equal parts; ShuffleNet\'s channel split)',
  },
  {
    onnxOp: 'Pad',
    opsets: [2, 21],
    category: 'shape',
    inputs: [
      { name: 'data', kind: 'tensor' },
      { name: 'pads', kind: 'const', optional: true },
      { name: 'constant_value', kind: 'const', optional: true },
      { name: 'axes', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'mode', type: 'string', default: 'constant' },
      { onnxName: 'pads', type: 'ints' },
      { onnxName: 'value', type: 'float', default: 0 },
    ],
    build: buildPad,
    notes: 'zero H/W pads: ZeroPadding2D; negative H/W pads: Cropping2D; other axes/values or reflect: OnnxPad; pads as attribute (≤ 10) or input',
  },
  {
    onnxOp: 'Resize',
    opsets: [10, 21],
    category: 'shape',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'roi', kind: 'const', optional: true },
      { name: 'scales', kind: 'const', optional: true },
      { name: 'sizes', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'mode', type: 'string', default: 'nearest' },
      { onnxName: 'coordinate_transformation_mode', type: 'string', default: 'half_pixel' },
      { onnxName: 'nearest_mode', type: 'string', default: 'round_prefer_floor' },
      { onnxName: 'antialias', type: 'int', default: 0 },
      { onnxName: 'axes', type: 'ints' },
    ],
    build: buildResize,
    notes: 'integer scales, asymmetric (nearest floor / linear): UpSampling2D; nearest (any nearest_mode) and linear with asymmetric/half_pixel/pytorch_half_pixel/align_corners: OnnxResize; scales or sizes',
  },
  {
    onnxOp: 'Upsample',
    opsets: [7, 9],
    category: 'shape',
    inputs: [
      { name: 'X', kind: 'tensor' },
      { name: 'scales', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'mode', type: 'string', default: 'nearest' },
      { onnxName: 'scales', type: 'floats' },
    ],
    build: buildUpsample,
    notes: 'as Resize with asymmetric coordinates (nearest: floor); scales as attribute (7–8) or input (9)',
  },
  spaceDepth('DepthToSpace'),
  spaceDepth('SpaceToDepth'),
];
