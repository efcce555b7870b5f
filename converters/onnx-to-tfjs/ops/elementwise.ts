/**
 * Elementwise arithmetic: Add/Sub/Mul/Div/Pow, variadic Sum/Max/Min/Mean, unary Sqrt/Exp/Log/Erf
 * and Clip. Two activations of the same rank map to tfjs Add/Multiply/Maximum/Minimum/Average
 * (or OnnxBinary), an activation and a constant to OnnxConstBinary with the constant re-laid
 * for NHWC broadcasting, and constants fold. Clip(0, ∞) and Clip(0, m) map to ReLU (maxValue
 * m), other bounds to OnnxClip.
 */
import { broadcastBinary, broadcastDims, toFloat32, type ConstTensor } from '../constants';
import { registerOnnxLayers, type BinaryOp } from '../custom-layers';
import type { UnaryOp } from '../custom-layers-nets';
import { broadcastConstToTf } from '../layout';
import { CONST_RULES } from '../../../src/onnx/const-rules';
import { coreFold } from './constant';
import type { BuildContext, OpMapper, SymbolicTensor, Value } from '../types';

function buildBinary(op: BinaryOp) {
  return (ctx: BuildContext): Value[] => {
    const { tf } = ctx;
    const a = ctx.input(0) as Value;
    const b = ctx.input(1) as Value;
    if (a.kind === 'tensor' && b.kind === 'tensor') {
      if (Boolean(a.onnxOrder) !== Boolean(b.onnxOrder)) ctx.unsupported(`${op} of activations in NCHW and NHWC order`, ['activations of one order']);
      if (a.sym.shape.length !== b.sym.shape.length) {
        ctx.unsupported(`${op} of activations of ranks ${a.sym.shape.length} and ${b.sym.shape.length}`, ['activations of equal rank']);
      }
      const name = ctx.layerName();
      const layer =
        op === 'Add' ? tf.layers.add({ name }) : op === 'Mul' ? tf.layers.multiply({ name }) : new (registerOnnxLayers(tf).OnnxBinary)({ name, op });
      return [{ kind: 'tensor', sym: ctx.apply(layer, [a.sym, b.sym]), onnxOrder: a.onnxOrder }];
    }
    const constantFirst = a.kind === 'const';
    const x = (constantFirst ? b : a) as { kind: 'tensor'; sym: ReturnType<BuildContext['tensor']>; onnxOrder?: boolean };
    const c = ((constantFirst ? a : b) as { value: ConstTensor }).value;
    const rank = x.sym.shape.length;
    // In ONNX order the tfjs axes are the ONNX axes: right-align only (rank 4 kept, as tfjs-to-onnx expects).
    const laid = x.onnxOrder ? (c.dims.length > rank ? undefined : c.dims.length === 0 ? c : { ...c, dims: [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims] }) : broadcastConstToTf(c, rank);
    if (!laid) ctx.unsupported(`${op} with a constant of rank ${c.dims.length} on a rank-${rank} activation`, ['constants that broadcast against the activation']);
    const layer = new (registerOnnxLayers(tf).OnnxConstBinary)({ name: ctx.layerName(), op, constantFirst, constantShape: laid!.dims });
    return [{ kind: 'tensor', sym: ctx.apply(layer, x.sym, [{ data: toFloat32(laid!), shape: laid!.dims }]), onnxOrder: x.onnxOrder }];
  };
}

function binary(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow'): OpMapper {
  return {
    onnxOp: op,
    opsets: [7, 21],
    category: 'elementwise',
    inputs: [
      { name: 'A', kind: 'tensor' },
      { name: 'B', kind: 'tensor' },
    ],
    attrs: [],
    onnxOrder: 'handled',
    fold: coreFold,
    build: buildBinary(op),
    notes:
      op === 'Pow'
        ? 'two activations: OnnxBinary; with a constant base or exponent: OnnxConstBinary; constants fold'
        : op === 'Add' || op === 'Mul'
        ? `two activations: ${op === 'Add' ? 'Add' : 'Multiply'}; with a constant: OnnxConstBinary; constants fold`
        : 'two activations: OnnxBinary; with a constant: OnnxConstBinary; constants fold',
  };
}

/** Clip bounds from inputs (opset ≥ 11) or attributes (≤ 10); undefined = unbounded. */
function clipBounds(ctx: Pick<BuildContext, 'opset' | 'attrs'> & { constant(i: number): ConstTensor | undefined }): [number | undefined, number | undefined] {
  if (ctx.opset < 11) return [ctx.attrs.min as number | undefined, ctx.attrs.max as number | undefined];
  const lo = ctx.constant(1);
  const hi = ctx.constant(2);
  return [lo?.data[0], hi?.data[0]];
}

type VariadicOp = 'Sum' | 'Max' | 'Min' | 'Mean';
/** The pairwise op that accumulates a variadic op (Mean sums, then scales). */
const PAIRWISE: Record<VariadicOp, BinaryOp> = { Sum: 'Add', Max: 'Max', Min: 'Min', Mean: 'Add' };

const PAIR_FNS: Record<'Add' | 'Max' | 'Min', (a: number, b: number) => number> = { Add: (a, b) => a + b, Max: Math.max, Min: Math.min };

/** The constants of a variadic op combined into one (Sum for Mean: the 1/n scale is applied once, after the activations). */
function combineConstants(op: Exclude<VariadicOp, 'Mean'>, xs: readonly ConstTensor[]): ConstTensor {
  const f = PAIR_FNS[PAIRWISE[op] as 'Add' | 'Max' | 'Min'];
  return xs.slice(1).reduce((a, b) => ({ ...a, dims: broadcastDims(a.dims, b.dims), data: broadcastBinary(a, b, f) }), xs[0]);
}

/** Sum/Max/Min/Mean of 1..n inputs: a merge layer over the activations, one OnnxConstBinary for the folded constants. */
function buildVariadic(op: VariadicOp) {
  return (ctx: BuildContext): Value[] => {
    const { tf } = ctx;
    const n = (ctx.node.input ?? []).length;
    const values = Array.from({ length: n }, (_, i) => ctx.input(i)).filter((v): v is Value => v !== undefined);
    const acts = values.flatMap((v) => (v.kind === 'tensor' ? [v.sym] : []));
    const consts = values.flatMap((v) => (v.kind === 'const' ? [v.value] : []));
    const rank = acts[0].shape.length;
    if (acts.some((a) => a.shape.length !== rank)) ctx.unsupported(`${op} of activations of different ranks`, ['activations of equal rank']);
    const hasConst = consts.length > 0;
    const scaled = op === 'Mean' && values.length > 1 && (hasConst || acts.length === 1);
    let y = acts[0];
    if (acts.length > 1) {
      const name = ctx.layerName(hasConst || scaled ? 'merge' : undefined);
      // Average only when it is the whole op; with constants Mean is a sum scaled once at the end.
      const layer = op === 'Sum' || (op === 'Mean' && scaled) ? tf.layers.add({ name })
        : op === 'Max' ? tf.layers.maximum({ name }) : op === 'Min' ? tf.layers.minimum({ name }) : tf.layers.average({ name });
      y = ctx.apply(layer, acts);
    }
    const constOp = (c: ConstTensor, binOp: BinaryOp, last: boolean): SymbolicTensor => {
      const laid = broadcastConstToTf(c, rank);
      if (!laid) ctx.unsupported(`${op} with a constant of rank ${c.dims.length} on a rank-${rank} activation`, ['constants that broadcast against the activation']);
      const layer = new (registerOnnxLayers(tf).OnnxConstBinary)({ name: ctx.layerName(last ? undefined : 'const'), op: binOp, constantFirst: false, constantShape: laid!.dims });
      return ctx.apply(layer, y, [{ data: toFloat32(laid!), shape: laid!.dims }]);
    };
    if (hasConst) y = constOp(combineConstants(op === 'Mean' ? 'Sum' : op, consts), PAIRWISE[op], !scaled);
    if (scaled) y = constOp({ dtype: 'float', dims: [], data: Float64Array.of(1 / values.length), onnxType: 1 }, 'Mul', true);
    return [{ kind: 'tensor', sym: y }];
  };
}

function variadic(op: VariadicOp): OpMapper {
  const merge = { Sum: 'Add', Max: 'Maximum', Min: 'Minimum', Mean: 'Average' }[op];
  return {
    onnxOp: op,
    opsets: [6, 21],
    category: 'elementwise',
    inputs: [{ name: 'data_0', kind: 'tensor', variadic: true }],
    attrs: [],
    fold: coreFold,
    build: buildVariadic(op),
    notes: `1..n inputs with broadcasting: ${merge} over the activations; constants folded into one OnnxConstBinary${op === 'Mean' ? ' (then × 1/n)' : ''}; constants fold`,
  };
}

/** Unary math; constants fold where the core has a rule (JS has no erf). */
const UNARY: readonly UnaryOp[] = ['Sqrt', 'Exp', 'Log', 'Erf'];

function unary(op: UnaryOp): OpMapper {
  const f = CONST_RULES.has(op);
  return {
    onnxOp: op,
    opsets: [6, 21],
    category: 'elementwise',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [],
    onnxOrder: 'elementwise',
    ...(f ? { fold: coreFold } : {}),
    build: (ctx) => {
      const layer = new (registerOnnxLayers(ctx.tf).OnnxUnary)({ name: ctx.layerName(), op, alpha: 0, beta: 0 });
      return [{ kind: 'tensor', sym: ctx.apply(layer, ctx.tensor(0)) }];
    },
    notes: `OnnxUnary '${op}'${f ? '; constants fold' : ''}`,
  };
}

export const ELEMENTWISE_OPS: readonly OpMapper[] = [
  binary('Add'),
  binary('Sub'),
  binary('Mul'),
  binary('Div'),
  binary('Pow'),
  variadic('Sum'),
  variadic('Max'),
  variadic('Min'),
  variadic('Mean'),
  ...UNARY.map(unary),
  {
    onnxOp: 'Gelu',
    opsets: [20, 21],
    category: 'elementwise',
    inputs: [{ name: 'X', kind: 'tensor' }],
    attrs: [{ onnxName: 'approximate', type: 'string', default: 'none' }],
    onnxOrder: 'elementwise',
    build: (ctx) => {
      const approximate = ctx.attrs.approximate as string;
      if (approximate !== 'none' && approximate !== 'tanh') ctx.unsupported(`Gelu approximate '${approximate}'`, ['none', 'tanh']);
      const layer = new (registerOnnxLayers(ctx.tf).OnnxUnary)({ name: ctx.layerName(), op: approximate === 'tanh' ? 'GeluTanh' : 'Gelu', alpha: 0, beta: 0 });
      return [{ kind: 'tensor', sym: ctx.apply(layer, ctx.tensor(0)) }];
    },
    notes: "OnnxUnary 'Gelu' (approximate none: erf; tanh)",
  },
  {
    onnxOp: 'Clip',
    opsets: [6, 21],
    category: 'elementwise',
    inputs: [
      { name: 'input', kind: 'tensor' },
      { name: 'min', kind: 'const', optional: true },
      { name: 'max', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'min', type: 'float' },
      { onnxName: 'max', type: 'float' },
    ],
    onnxOrder: 'elementwise',
    fold: coreFold,
    build: (ctx) => {
      const [lo, hi] = clipBounds(ctx);
      const x = ctx.tensor(0);
      const name = ctx.layerName();
      if (lo === 0 && (hi === undefined || Number.isFinite(hi))) {
        return [{ kind: 'tensor', sym: ctx.apply(ctx.tf.layers.reLU({ name, maxValue: hi }), x) }];
      }
      const layer = new (registerOnnxLayers(ctx.tf).OnnxClip)({ name, min: lo ?? null, max: hi ?? null });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
    },
    notes: 'Clip(0, ∞) / Clip(0, m): ReLU (maxValue m); other bounds: OnnxClip; min/max as attributes (≤ 10) or inputs',
  },
];
