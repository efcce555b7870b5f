/**
 * Mappers for the custom layers that converters/onnx-to-tfjs creates for ONNX ops without a
 * built-in tfjs layer (see onnx-to-tfjs/custom-layers.ts), and for Permute: each becomes the
 * one ONNX node it came from, so ONNX → tfjs → ONNX keeps the node count.
 */
import { UnsupportedOpError } from '../../../src/errors';
import { onnxAxis, permute } from '../layout';
import type { EmitContext, LayerMapper } from '../types';

const INT64_MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** tfjs axis → NCHW axis for rank 4. */
const NHWC_TO_NCHW = [0, 2, 3, 1];
/** NCHW axis → tfjs axis for rank 4. */
const NCHW_TO_NHWC = [0, 3, 1, 2];

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** Per ONNX axis [begin, end] pads from per-tfjs-axis (non-batch) paddings. */
function onnxPads(paddings: Array<[number, number]>, rank: number): number[] {
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  paddings.forEach(([b, e], t) => {
    const a = onnxAxis(t + 1, rank);
    begin[a] = b;
    end[a] = e;
  });
  return [...begin, ...end];
}

const onnxPad: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  const paddings = ctx.config.paddings as Array<[number, number]>;
  const mode = String(ctx.config.mode ?? 'constant');
  const value = num(ctx.config.value ?? 0);
  const pads = onnxPads(paddings, rank);
  const inputs = [x.name, ctx.int64Constant(`pads_${pads.join('_')}`, [pads.length], pads)];
  if (mode === 'constant' && value !== 0) inputs.push(ctx.constant(`pad_value_${String(value)}`, [], [value]));
  ctx.b.addNode('Pad', inputs, [ctx.outputName(0)], { mode }, `${ctx.scope}/Pad`);
  return [ctx.outputName(0)];
};

const onnxStridedSlice: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  const begin = ctx.config.begin as number[];
  const end = ctx.config.end as Array<number | null>;
  const strides = ctx.config.strides as number[];
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  begin.forEach((b, t) => {
    if (b === 0 && end[t] === null && strides[t] === 1) return;
    axes.push(onnxAxis(t + 1, rank));
    starts.push(b);
    ends.push(end[t] ?? INT64_MAX_SAFE);
    steps.push(strides[t]);
  });
  if (!axes.length) return [x.name];
  const key = `${starts.join('_')}__${ends.join('_')}__${axes.join('_')}`;
  const inputs = [
    x.name,
    ctx.int64Constant(`slice_starts_${key}`, [starts.length], starts),
    ctx.int64Constant(`slice_ends_${key}`, [ends.length], ends),
    ctx.int64Constant(`slice_axes_${axes.join('_')}`, [axes.length], axes),
  ];
  if (steps.some((s) => s !== 1)) inputs.push(ctx.int64Constant(`slice_steps_${steps.join('_')}`, [steps.length], steps));
  ctx.b.addNode('Slice', inputs, [ctx.outputName(0)], {}, `${ctx.scope}/Slice`);
  return [ctx.outputName(0)];
};

const onnxClip: LayerMapper = (ctx) => {
  const lo = ctx.config.min;
  const hi = ctx.config.max;
  const inputs = [
    ctx.inputs[0].name,
    lo === null || lo === undefined ? '' : ctx.constant(`clip_min_${String(lo)}`, [], [num(lo)]),
    hi === null || hi === undefined ? '' : ctx.constant(`clip_max_${String(hi)}`, [], [num(hi)]),
  ];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  ctx.b.addNode('Clip', inputs, [ctx.outputName(0)], {}, `${ctx.scope}/Clip`);
  return [ctx.outputName(0)];
};

const BINARY_OPS = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min'];

function binaryOp(ctx: EmitContext): string {
  const op = String(ctx.config.op);
  if (!BINARY_OPS.includes(op)) throw new UnsupportedOpError(`${ctx.className} op '${op}'`, ctx.layer.name, BINARY_OPS);
  return op;
}

const onnxBinary: LayerMapper = (ctx) => {
  const op = binaryOp(ctx);
  const [a, b] = ctx.inputs;
  if (a.shape.length !== b.shape.length) {
    throw new UnsupportedOpError(`${op} of inputs of ranks ${a.shape.length} and ${b.shape.length}`, ctx.layer.name, ['inputs of equal rank']);
  }
  ctx.b.addNode(op, [a.name, b.name], [ctx.outputName(0)], {}, `${ctx.scope}/${op}`);
  return [ctx.outputName(0)];
};

const onnxConstBinary: LayerMapper = (ctx) => {
  const op = binaryOp(ctx);
  const x = ctx.inputs[0];
  const c = ctx.weight('constant');
  let data = c.data;
  let dims = c.shape;
  if (x.shape.length === 4 && dims.length === 4) {
    // Stored NHWC-broadcastable; NCHW broadcasting needs [N, C, H, W] order.
    data = permute(c.data, c.shape, [0, 3, 1, 2]);
    dims = [c.shape[0], c.shape[3], c.shape[1], c.shape[2]];
  } else if (x.shape.length === 4 && dims.length > 0) {
    throw new UnsupportedOpError(`${ctx.className} constant of rank ${dims.length} on a 4-D input`, ctx.layer.name, ['scalars', 'rank-4 constants']);
  }
  const k = ctx.initializer('constant', dims, data);
  const inputs = ctx.config.constantFirst ? [k, x.name] : [x.name, k];
  ctx.b.addNode(op, inputs, [ctx.outputName(0)], {}, `${ctx.scope}/${op}`);
  return [ctx.outputName(0)];
};

const onnxResize: LayerMapper = (ctx) => {
  const [sh, sw] = ctx.config.scales as [number, number];
  const scales = ctx.constant(`resize_scales_${sh}x${sw}`, [4], [1, 1, sh, sw]);
  const mode = String(ctx.config.mode);
  const attrs: Record<string, string> = { mode, coordinate_transformation_mode: String(ctx.config.coordinateTransformationMode) };
  if (mode === 'nearest') attrs.nearest_mode = String(ctx.config.nearestMode);
  ctx.b.addNode('Resize', [ctx.inputs[0].name, '', scales], [ctx.outputName(0)], attrs, `${ctx.scope}/Resize`);
  return [ctx.outputName(0)];
};

const permuteLayer: LayerMapper = (ctx) => {
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  const dims = ctx.config.dims as number[];
  const p = [0, ...dims];
  // Output ONNX axis i shows tfjs output axis NCHW_TO_NHWC[i], which reads tfjs input axis p[…], i.e. ONNX axis NHWC_TO_NCHW[p[…]].
  const perm = rank === 4 ? NCHW_TO_NHWC.map((t) => NHWC_TO_NCHW[p[t]]) : p;
  ctx.b.addNode('Transpose', [x.name], [ctx.outputName(0)], { perm }, `${ctx.scope}/Transpose`);
  return [ctx.outputName(0)];
};

export const ONNX_LAYER_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['OnnxPad', onnxPad],
  ['OnnxStridedSlice', onnxStridedSlice],
  ['OnnxClip', onnxClip],
  ['OnnxBinary', onnxBinary],
  ['OnnxConstBinary', onnxConstBinary],
  ['OnnxResize', onnxResize],
  ['Permute', permuteLayer],
];
