/**
 * Pooling: MaxPool/AveragePool (MaxPooling2D/AveragePooling2D; pads TF cannot express become
 * an explicit pad first: −∞ for max, 0 for average with count_include_pad; ceil_mode and
 * average pools that exclude explicit pads: OnnxPool), the global poolings and
 * ReduceMean/ReduceMax over H and W (GlobalAveragePooling2D/GlobalMaxPooling2D, which also
 * absorb a following Flatten) or over other axes with keepdims (OnnxReduce).
 */
import { normAxis, toNumbers } from '../constants';
import { registerOnnxLayers } from '../custom-layers';
import { tfAxis } from '../layout';
import type { BuildContext, OpMapper, SymbolicTensor, Value } from '../types';
import { applyExplicitZeroPad, tfPadding } from './conv';

const pair = (v: unknown, dflt: [number, number]): [number, number] => {
  const a = v as number[] | undefined;
  return a && a.length === 2 ? [a[0], a[1]] : dflt;
};

function pool(kind: 'max' | 'avg') {
  return (ctx: BuildContext): Value[] => {
    const { tf } = ctx;
    const x = ctx.tensor(0);
    if (x.shape.length !== 4) ctx.unsupported(`${ctx.node.opType} on rank ${x.shape.length}`, ['[N, C, H, W] inputs']);
    const kernel = pair(ctx.attrs.kernel_shape, [1, 1]);
    if (!ctx.attrs.kernel_shape) ctx.unsupported(`${ctx.node.opType} without kernel_shape`, ['kernel_shape']);
    const strides = pair(ctx.attrs.strides, [1, 1]);
    const dilations = pair(ctx.attrs.dilations, [1, 1]);
    if (dilations.some((d) => d !== 1)) ctx.unsupported(`${ctx.node.opType} with dilations [${dilations}]`, ['dilations 1']);
    const ceilMode = (ctx.attrs.ceil_mode as number) !== 0;
    const includePad = (ctx.attrs.count_include_pad as number) === 1;
    const autoPad = ctx.attrs.auto_pad as string;
    const explicitPads = autoPad === 'NOTSET' || autoPad === '' || autoPad === 'VALID';
    const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : ((ctx.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0]);
    const onnxPool = ceilMode || (kind === 'avg' && !includePad && pads.some((p) => p !== 0) && !(strides.every((v) => v === 1) && pads.every((p) => p === pads[0]) && kernel.every((k) => pads[0] === (k - 1) / 2)));
    if (onnxPool) {
      if (!explicitPads) ctx.unsupported(`${ctx.node.opType} with ceil_mode = 1 and auto_pad '${autoPad}'`, ['explicit pads with ceil_mode']);
      if (pads.length !== 4 || pads.some((p) => p < 0)) ctx.unsupported(`${ctx.node.opType} pads [${pads.join(', ')}]`, ['4 pads ≥ 0']);
      const layer = new (registerOnnxLayers(tf).OnnxPool)({
        name: ctx.layerName(), mode: kind, poolSize: kernel, strides, pads: [pads[0], pads[2], pads[1], pads[3]], ceilMode, countIncludePad: includePad,
      });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
    }
    let pad = tfPadding(ctx, ctx.attrs.auto_pad as string, (ctx.attrs.pads as number[] | undefined) ?? [], kernel, strides, [1, 1]);
    let input: SymbolicTensor = x;
    if (kind === 'max') {
      if (pad.explicit) {
        const [[t, b], [l, r]] = pad.explicit;
        // Max pooling ignores padding, i.e. pads with −∞.
        const layer = new (registerOnnxLayers(tf).OnnxPad)({ name: ctx.layerName('pad'), paddings: [[t, b], [l, r], [0, 0]], mode: 'constant', value: '-Infinity' });
        input = ctx.apply(layer, x);
      }
    } else {
      if (includePad && pad.padding === 'same') {
        if (!strides.every((s) => s === 1)) ctx.unsupported('AveragePool SAME padding with stride > 1 and count_include_pad = 1', ['explicit pads']);
        const total = kernel.map((k) => k - 1);
        const begin = total.map((t) => Math.floor(t / 2));
        pad = { padding: 'valid', explicit: [[begin[0], total[0] - begin[0]], [begin[1], total[1] - begin[1]]] };
      }
      if (pad.explicit && !includePad) {
        ctx.unsupported(`AveragePool pads [${String(ctx.attrs.pads)}] with count_include_pad = 0 and stride [${strides}]`, ['pads TF "same" would choose', 'count_include_pad = 1']);
      }
      input = applyExplicitZeroPad(ctx, x, pad);
    }
    const args = { poolSize: kernel, strides, padding: pad.padding, name: ctx.layerName() };
    const layer = kind === 'max' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    return [{ kind: 'tensor', sym: ctx.apply(layer, input) }];
  };
}

/**
 * A global pooling. tfjs 4.x global poolings always drop H and W, so keepDims is a Reshape to
 * [1, 1, C] after it, unless a following Flatten (axis 1) is absorbed instead.
 */
function globalPool(ctx: BuildContext, kind: 'max' | 'avg', keepDims: boolean): Value[] {
  const x = ctx.tensor(0);
  if (x.shape.length !== 4) ctx.unsupported(`${ctx.node.opType} on rank ${x.shape.length}`, ['[N, C, H, W] inputs']);
  let keep = keepDims;
  if (keep) {
    const flatten = ctx.consumer(['Flatten']);
    const axis = flatten ? Number((flatten.attribute ?? []).find((a) => a.name === 'axis')?.i ?? 1) : -1;
    if (flatten && axis === 1) {
      ctx.absorb(flatten);
      keep = false;
    }
  }
  const args = { name: ctx.layerName(keep ? 'pool' : undefined) };
  const layer = kind === 'max' ? ctx.tf.layers.globalMaxPooling2d(args) : ctx.tf.layers.globalAveragePooling2d(args);
  const pooled = ctx.apply(layer, x);
  if (!keep) return [{ kind: 'tensor', sym: pooled }];
  const c = x.shape[3] as number;
  return [{ kind: 'tensor', sym: ctx.apply(ctx.tf.layers.reshape({ targetShape: [1, 1, c], name: ctx.layerName() }), pooled) }];
}

function reduce(kind: 'max' | 'avg') {
  return (ctx: BuildContext): Value[] => {
    const x = ctx.tensor(0);
    const rank = x.shape.length;
    const fromInput = ctx.opset >= 18;
    const axesConst = fromInput ? ctx.constant(1) : undefined;
    const axes = (fromInput ? (axesConst ? toNumbers(axesConst) : undefined) : (ctx.attrs.axes as number[] | undefined)) ?? [];
    const norm = [...new Set(axes.map((a) => normAxis(a, rank)))].sort();
    const keepDims = (ctx.attrs.keepdims as number) !== 0;
    if (rank === 4 && norm.join(',') === '2,3') return globalPool(ctx, kind, keepDims);
    // Other axes keep the rank only with keepdims (a rank change would leave the NHWC layout).
    if (!keepDims || norm.length === 0 || norm.includes(0)) {
      ctx.unsupported(`${ctx.node.opType} over axes [${axes.join(', ')}] of a rank-${rank} tensor (keepdims ${keepDims ? 1 : 0})`, ['axes (2, 3) of [N, C, H, W] (a global pooling)', 'non-batch axes with keepdims = 1']);
    }
    const layer = new (registerOnnxLayers(ctx.tf).OnnxReduce)({ name: ctx.layerName(), op: kind === 'avg' ? 'mean' : 'max', axes: norm.map((a) => tfAxis(a, rank)).sort((a, b) => a - b) });
    return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
  };
}

const WINDOW = [
  { onnxName: 'auto_pad', type: 'string', default: 'NOTSET' },
  { onnxName: 'ceil_mode', type: 'int', default: 0 },
  { onnxName: 'dilations', type: 'ints' },
  { onnxName: 'kernel_shape', type: 'ints' },
  { onnxName: 'pads', type: 'ints' },
  { onnxName: 'strides', type: 'ints' },
] as const;

export const POOLING_OPS: readonly OpMapper[] = [
  {
    onnxOp: 'MaxPool',
    opsets: [1, 21],
    category: 'pooling',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [...WINDOW, { onnxName: 'storage_order', type: 'int', default: 0 }],
    build: pool('max'),
    notes: 'MaxPooling2D; other pads → OnnxPad(−∞) + valid; ceil_mode = 1: OnnxPool; dilation 1, Indices output unused',
  },
  {
    onnxOp: 'AveragePool',
    opsets: [1, 21],
    category: 'pooling',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [...WINDOW, { onnxName: 'count_include_pad', type: 'int', default: 0 }],
    build: pool('avg'),
    notes: 'AveragePooling2D; count_include_pad = 1 pads → ZeroPadding2D + valid; count_include_pad = 0 with other pads, or ceil_mode = 1: OnnxPool',
  },
  {
    onnxOp: 'GlobalAveragePool',
    opsets: [1, 21],
    category: 'pooling',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [],
    build: (ctx) => globalPool(ctx, 'avg', true),
    notes: 'GlobalAveragePooling2D + Reshape to 1×1 (absorbs a following Flatten instead)',
  },
  {
    onnxOp: 'GlobalMaxPool',
    opsets: [1, 21],
    category: 'pooling',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [],
    build: (ctx) => globalPool(ctx, 'max', true),
    notes: 'GlobalMaxPooling2D + Reshape to 1×1 (absorbs a following Flatten instead)',
  },
  {
    onnxOp: 'ReduceMean',
    opsets: [1, 21],
    category: 'pooling',
    inputs: [
      { name: 'data', kind: 'tensor' },
      { name: 'axes', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'axes', type: 'ints' },
      { onnxName: 'keepdims', type: 'int', default: 1 },
    ],
    build: reduce('avg'),
    notes: 'axes (2, 3): GlobalAveragePooling2D; other non-batch axes with keepdims: OnnxReduce; axes as attribute (≤ 17) or input (≥ 18)',
  },
  {
    onnxOp: 'ReduceMax',
    opsets: [1, 21],
    category: 'pooling',
    inputs: [
      { name: 'data', kind: 'tensor' },
      { name: 'axes', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'axes', type: 'ints' },
      { onnxName: 'keepdims', type: 'int', default: 1 },
    ],
    build: reduce('max'),
    notes: 'axes (2, 3): GlobalMaxPooling2D; other non-batch axes with keepdims: OnnxReduce; axes as attribute (≤ 17) or input (≥ 18)',
  },
];
