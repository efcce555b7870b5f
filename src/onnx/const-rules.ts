/**
 * How each ONNX op is evaluated on constant inputs: the one rule set behind the constant
 * resolver (stage detection, tap cutting, inspect) and the ONNX → tfjs converter's folding pass.
 * Covers what exporters put in front of weights and shape arguments (Constant, ConstantOfShape,
 * Identity/Cast/Reshape/Squeeze/Unsqueeze/Flatten/Transpose, Concat/Gather/Slice/Shape/Range,
 * Add/Sub/Mul/Div/Clip, QuantizeLinear/DequantizeLinear), in their opset 7–21 attribute/input forms.
 */
import { InputError } from '../errors';
import {
  broadcastBinary, broadcastDims, clampInt, constFromTensorProto, dtypeOf, gatherBlock, makeConst, normAxis, numel,
  sliceIndices, strides, transposeConst, type ConstTensor,
} from './const-tensor';
import { AttributeType, DataType, type Int64Like, type NodeProto, type TensorProto } from './proto';

/**
 * Most elements one computed constant may hold (2^25, 256 MiB as float64). Like the limits
 * `checkModelLimits` puts on stored tensors, it keeps a hostile ConstantOfShape/Range/broadcast from
 * allocating what the file does not justify; conv backbone weights are far below it (ResNet-50's
 * largest is 2.4M elements).
 */
export const MAX_CONSTANT_ELEMENTS = 2 ** 25;

// Module-level aliases for the per-element loops: a global lookup of `Math` per element is slow
// where globals are proxied (jest's sandbox: ~40× on a 25M-element weight).
const { abs, floor, fround, max, min, round, trunc } = Math;

/** What a rule sees. */
export interface ConstRuleContext {
  readonly node: NodeProto;
  readonly opset: number;
  /** Inputs by position; undefined for omitted optional inputs. */
  readonly inputs: ReadonlyArray<ConstTensor | undefined>;
  /** Throws InputError when a result of `dims` would exceed the element cap; call before allocating. */
  reserve(dims: readonly number[], what: string): void;
}

/** Evaluates one node whose inputs are all constants. Throws RangeError for arguments the op does not accept. */
export type ConstRule = (ctx: ConstRuleContext) => ConstTensor[];

// ---------------------------------------------------------------- attributes

function attribute(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function int64(v: Int64Like): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? clampInt(v) : clampInt(BigInt(v.toString()));
}

/** An INT attribute (or `dflt`). */
export function attrInt(node: NodeProto, name: string, dflt?: number): number | undefined {
  const a = attribute(node, name);
  return a && (a.type === AttributeType.INT || (a.type === undefined && a.i !== undefined && a.i !== null)) ? int64(a.i) : dflt;
}

/** An INTS attribute; undefined when absent. */
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a && (a.type === AttributeType.INTS || (a.ints && a.ints.length)) ? (a.ints ?? []).map(int64) : undefined;
}

function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return attribute(node, name)?.t ?? undefined;
}

// ---------------------------------------------------------------- helpers

const ints = (c: ConstTensor | undefined, what: string): number[] => {
  if (!c) throw new RangeError(`${what} is missing`);
  if (c.dtype !== 'int') throw new RangeError(`${what} must be an integer tensor`);
  return Array.from(c.data);
};

const required = (ctx: ConstRuleContext, i: number, what: string): ConstTensor => {
  const c = ctx.inputs[i];
  if (!c) throw new RangeError(`input ${i} (${what}) is missing`);
  return c;
};

/** Cast (floats → ints truncate toward zero, like C; → bool is v ≠ 0). */
export function castConst(c: ConstTensor, to: number): ConstTensor {
  const dtype = dtypeOf(to);
  if (!dtype) throw new RangeError(`Cast to element type ${to} is not supported`);
  const data = Float64Array.from(c.data, (v) => {
    if (dtype === 'bool') return v ? 1 : 0;
    if (dtype === 'int') return trunc(v);
    return to === DataType.FLOAT ? fround(v) : v;
  });
  return { dtype, dims: [...c.dims], data, onnxType: to };
}

/** ONNX Reshape target dims for an input of `dims` (0 copies unless allowzero, −1 infers). */
export function resolveReshape(dims: readonly number[], target: readonly number[], allowZero: boolean): number[] {
  const out = target.map((t, i) => (t === 0 && !allowZero ? dims[i] : t));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const inferIdx = out.indexOf(-1);
  if (inferIdx >= 0) out[inferIdx] = known === 0 ? 0 : numel(dims) / known;
  if (numel(out) !== numel(dims) || out.some((d) => d === undefined || !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`cannot reshape [${dims.join(',')}] to [${target.join(',')}]`);
  }
  return out;
}

/** Squeeze/Unsqueeze axes: an input from opset 13, an attribute before. */
function axesArg(ctx: ConstRuleContext): number[] | undefined {
  if (ctx.opset >= 13) return ctx.inputs[1] ? ints(ctx.inputs[1], 'axes') : undefined;
  return attrInts(ctx.node, 'axes');
}

/** Slice starts/ends/axes/steps: attributes before opset 10, inputs from 10. */
export function sliceArgs(node: NodeProto, opset: number, inputs: ReadonlyArray<ConstTensor | undefined>, rank: number) {
  const starts = opset < 10 ? attrInts(node, 'starts') ?? [] : ints(inputs[1], 'starts');
  const ends = opset < 10 ? attrInts(node, 'ends') ?? [] : ints(inputs[2], 'ends');
  const axesIn = opset < 10 ? attrInts(node, 'axes') : inputs[3] ? ints(inputs[3], 'axes') : undefined;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
  const steps = opset >= 10 && inputs[4] ? ints(inputs[4], 'steps') : starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new RangeError(`Slice starts/ends/axes/steps have different lengths (${starts.length}/${ends.length}/${axes.length}/${steps.length})`);
  }
  return { starts, ends, axes, steps };
}

/** Round half to even, as onnxruntime's QuantizeLinear rounds. */
export function roundHalfEven(v: number): number {
  const r = round(v);
  return abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Integer range of a quantized element type. */
export function quantRange(onnxType: number): [number, number] {
  switch (onnxType) {
    case DataType.INT8: return [-128, 127];
    case DataType.UINT8: return [0, 255];
    case DataType.INT16: return [-32768, 32767];
    case DataType.UINT16: return [0, 65535];
    case DataType.INT32: return [-(2 ** 31), 2 ** 31 - 1];
    default: throw new RangeError(`quantized element type ${onnxType} is not supported (int8/uint8/int16/uint16/int32)`);
  }
}

/**
 * For each element of `x`, the index of its scale/zero point: one for all (per-tensor), along
 * `axis` (per-axis, 1-D scale), or per block of `blockSize` along `axis` (opset 21 blocked form).
 */
function quantParamIndex(x: ConstTensor, scale: ConstTensor, axisAttr: number, blockSize: number): (i: number) => number {
  if (numel(scale.dims) === 1 && blockSize === 0) return () => 0;
  const rank = x.dims.length;
  const axis = normAxis(axisAttr, rank);
  const st = strides(x.dims);
  if (blockSize === 0) {
    if (scale.dims.length !== 1 || scale.dims[0] !== x.dims[axis]) {
      throw new RangeError(`per-axis scale of dims [${scale.dims.join(',')}] does not fit axis ${axis} of [${x.dims.join(',')}]`);
    }
    return (i) => floor(i / st[axis]) % x.dims[axis];
  }
  const want = x.dims.map((d, k) => (k === axis ? Math.ceil(d / blockSize) : d));
  if (scale.dims.join(',') !== want.join(',')) {
    throw new RangeError(`blocked scale of dims [${scale.dims.join(',')}] does not fit [${x.dims.join(',')}] with block_size ${blockSize} (want [${want.join(',')}])`);
  }
  const ss = strides(want);
  return (i) => {
    let s = 0;
    for (let k = 0; k < rank; k++) {
      const j = floor(i / st[k]) % x.dims[k];
      s += (k === axis ? floor(j / blockSize) : j) * ss[k];
    }
    return s;
  };
}

function checkQuantParams(scale: ConstTensor, zp: ConstTensor | undefined): void {
  if (scale.dtype !== 'float') throw new RangeError('the scale must be a float tensor');
  if (zp && zp.dims.join(',') !== scale.dims.join(',')) {
    throw new RangeError(`zero point dims [${zp.dims.join(',')}] differ from scale dims [${scale.dims.join(',')}]`);
  }
}

/** DequantizeLinear: (x − zero_point) · scale, per tensor, per axis or per block. */
export function dequantize(x: ConstTensor, scale: ConstTensor, zp: ConstTensor | undefined, axis: number, blockSize = 0): ConstTensor {
  if (x.dtype !== 'int') throw new RangeError(`DequantizeLinear of a ${x.dtype} tensor (only integer types are supported)`);
  checkQuantParams(scale, zp);
  const at = quantParamIndex(x, scale, axis, blockSize);
  const data = Float64Array.from(x.data, (v, i) => {
    const k = at(i);
    return fround((v - (zp ? zp.data[k] : 0)) * scale.data[k]);
  });
  return { dtype: 'float', dims: [...x.dims], data, onnxType: DataType.FLOAT };
}

/** QuantizeLinear: saturate(round_half_even(x / scale) + zero_point) to the zero point's type (default uint8). */
export function quantize(x: ConstTensor, scale: ConstTensor, zp: ConstTensor | undefined, axis: number, blockSize = 0, outType?: number): ConstTensor {
  checkQuantParams(scale, zp);
  const type = zp?.onnxType ?? (outType || DataType.UINT8);
  const [lo, hi] = quantRange(type);
  const at = quantParamIndex(x, scale, axis, blockSize);
  const data = Float64Array.from(x.data, (v, i) => {
    const k = at(i);
    const q = roundHalfEven(fround(v / scale.data[k])) + (zp ? zp.data[k] : 0);
    return min(hi, max(lo, q));
  });
  return { dtype: 'int', dims: [...x.dims], data, onnxType: type };
}

const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
};

/** Sum/Max/Min/Mean of 1..n constants with broadcasting (Mean sums, then divides by n). */
function variadicRule(op: 'Sum' | 'Max' | 'Min' | 'Mean'): ConstRule {
  const pair = op === 'Sum' || op === 'Mean' ? 'Add' : op;
  return (ctx) => {
    const xs = ctx.inputs.filter((x): x is ConstTensor => x !== undefined);
    if (!xs.length) throw new RangeError(`${op} needs at least one input`);
    let acc = xs[0];
    for (const b of xs.slice(1)) {
      const dims = broadcastDims(acc.dims, b.dims);
      ctx.reserve(dims, `${op} result`);
      acc = { ...acc, dims, data: broadcastBinary(acc, b, BINARY[pair]) };
    }
    const round = acc.dtype === 'float' && acc.onnxType === DataType.FLOAT ? Math.fround : (v: number) => v;
    return [{ ...acc, data: acc.data.map((v) => round(op === 'Mean' ? v / xs.length : v)) }];
  };
}

/** Float unary math with a JS function. */
function unaryRule(f: (v: number) => number): ConstRule {
  return (ctx) => {
    const x = required(ctx, 0, 'X');
    const round = x.onnxType === DataType.FLOAT ? Math.fround : (v: number) => v;
    return [{ ...x, data: x.data.map((v) => round(f(v))) }];
  };
}

function binaryRule(op: string, fn?: (a: number, b: number) => number): ConstRule {
  return (ctx) => {
    const a = required(ctx, 0, 'A');
    const b = required(ctx, 1, 'B');
    const dims = broadcastDims(a.dims, b.dims);
    ctx.reserve(dims, `${op} result`);
    const isInt = a.dtype === 'int' && b.dtype === 'int';
    const f = fn ?? (isInt && op === 'Div' ? (x: number, y: number) => trunc(x / y) : BINARY[op]);
    const round = a.dtype === 'float' && a.onnxType === DataType.FLOAT ? fround : (v: number) => v;
    return [{ dtype: a.dtype, dims, data: broadcastBinary(a, b, (x, y) => round(f(x, y))), onnxType: a.onnxType }];
  };
}

// ---------------------------------------------------------------- the rules

const RULES: Record<string, ConstRule> = {
  Constant: ({ node }) => {
    const label = `Constant '${node.name ?? ''}'`;
    const t = attrTensor(node, 'value');
    if (t) return [constFromTensorProto(t, label)];
    const a = (name: string) => attribute(node, name);
    if (a('value_float')) return [makeConst('float', [], [fround(a('value_float')?.f ?? 0)], DataType.FLOAT)];
    if (a('value_floats')) {
      const f = a('value_floats')?.floats ?? [];
      return [makeConst('float', [f.length], f, DataType.FLOAT)];
    }
    if (a('value_int')) return [makeConst('int', [], [int64(a('value_int')?.i)])];
    if (a('value_ints')) {
      const v = (a('value_ints')?.ints ?? []).map(int64);
      return [makeConst('int', [v.length], v)];
    }
    throw new RangeError('Constant without a numeric value attribute (sparse and string values are not supported)');
  },
  ConstantOfShape: (ctx) => {
    const dims = ints(required(ctx, 0, 'shape'), 'shape');
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new RangeError(`ConstantOfShape dims [${dims.join(',')}] must be non-negative integers`);
    const t = attrTensor(ctx.node, 'value');
    const v = t ? constFromTensorProto(t, `ConstantOfShape '${ctx.node.name ?? ''}' value`) : makeConst('float', [1], [0], DataType.FLOAT);
    if (v.data.length !== 1) throw new RangeError(`ConstantOfShape value must have one element, has ${v.data.length}`);
    ctx.reserve(dims, 'ConstantOfShape output');
    return [{ dtype: v.dtype, dims, data: new Float64Array(numel(dims)).fill(v.data[0]), onnxType: v.onnxType }];
  },
  Identity: (ctx) => [required(ctx, 0, 'input')],
  Cast: (ctx) => [castConst(required(ctx, 0, 'input'), attrInt(ctx.node, 'to', DataType.FLOAT) as number)],
  CastLike: (ctx) => [castConst(required(ctx, 0, 'input'), required(ctx, 1, 'target_type').onnxType)],
  Reshape: (ctx) => {
    const c = required(ctx, 0, 'data');
    const target = ctx.opset < 5 ? attrInts(ctx.node, 'shape') ?? [] : ints(ctx.inputs[1], 'shape');
    return [{ ...c, dims: resolveReshape(c.dims, target, attrInt(ctx.node, 'allowzero', 0) === 1) }];
  },
  Flatten: (ctx) => {
    const c = required(ctx, 0, 'input');
    const a = normAxis(attrInt(ctx.node, 'axis', 1) as number, c.dims.length + 1);
    return [{ ...c, dims: [numel(c.dims.slice(0, a)), numel(c.dims.slice(a))] }];
  },
  Squeeze: (ctx) => {
    const c = required(ctx, 0, 'data');
    const axes = axesArg(ctx)?.map((a) => normAxis(a, c.dims.length));
    if (axes?.some((a) => c.dims[a] !== 1)) throw new RangeError(`Squeeze of axes [${axes.join(',')}] of dims [${c.dims.join(',')}]: not all are 1`);
    return [{ ...c, dims: c.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
  },
  Unsqueeze: (ctx) => {
    const c = required(ctx, 0, 'data');
    const axes = axesArg(ctx) ?? [];
    const rank = c.dims.length + axes.length;
    const norm = axes.map((a) => normAxis(a, rank));
    if (new Set(norm).size !== norm.length) throw new RangeError(`Unsqueeze axes [${axes.join(',')}] repeat an axis`);
    const dims: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) dims.push(norm.includes(i) ? 1 : c.dims[k++]);
    return [{ ...c, dims }];
  },
  Transpose: (ctx) => {
    const c = required(ctx, 0, 'data');
    const perm = attrInts(ctx.node, 'perm') ?? c.dims.map((_, i) => c.dims.length - 1 - i);
    if ([...perm].sort().some((p, i) => p !== i)) throw new RangeError(`perm [${perm.join(',')}] is not a permutation of rank ${c.dims.length}`);
    return [transposeConst(c, perm)];
  },
  Concat: (ctx) => {
    const parts = ctx.inputs.filter((c): c is ConstTensor => c !== undefined);
    if (!parts.length) throw new RangeError('Concat of no inputs');
    const rank = parts[0].dims.length;
    const axis = normAxis(attrInt(ctx.node, 'axis', 0) as number, rank);
    if (parts.some((p) => p.dims.length !== rank || p.dims.some((d, k) => k !== axis && d !== parts[0].dims[k]))) {
      throw new RangeError(`Concat inputs of dims ${parts.map((p) => `[${p.dims.join(',')}]`).join(' ')} differ off axis ${axis}`);
    }
    const dims = [...parts[0].dims];
    dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
    ctx.reserve(dims, 'Concat output');
    const outer = numel(parts[0].dims.slice(0, axis));
    const data = new Float64Array(numel(dims));
    let o = 0;
    for (let i = 0; i < outer; i++) {
      for (const p of parts) {
        const block = numel(p.dims.slice(axis));
        data.set(p.data.subarray(i * block, (i + 1) * block), o);
        o += block;
      }
    }
    return [{ dtype: parts[0].dtype, dims, data, onnxType: parts[0].onnxType }];
  },
  Gather: (ctx) => {
    const data = required(ctx, 0, 'data');
    const indices = required(ctx, 1, 'indices');
    const axis = normAxis(attrInt(ctx.node, 'axis', 0) as number, data.dims.length);
    const idx = ints(indices, 'indices').map((i) => (i < 0 ? i + data.dims[axis] : i));
    if (idx.some((i) => i < 0 || i >= data.dims[axis])) throw new RangeError(`Gather index out of range for dim ${data.dims[axis]}`);
    const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
    ctx.reserve(dims, 'Gather output');
    const picks = data.dims.map((d, k) => (k === axis ? idx : Array.from({ length: d }, (_, j) => j)));
    return [{ ...gatherBlock(data, picks), dims }];
  },
  Slice: (ctx) => {
    const data = required(ctx, 0, 'data');
    const p = sliceArgs(ctx.node, ctx.opset, ctx.inputs, data.dims.length);
    const picks = data.dims.map((d, k) => {
      const j = p.axes.indexOf(k);
      return j < 0 ? Array.from({ length: d }, (_, i) => i) : sliceIndices(d, p.starts[j], p.ends[j], p.steps[j]);
    });
    return [gatherBlock(data, picks)];
  },
  Shape: (ctx) => {
    const dims = required(ctx, 0, 'data').dims;
    const r = dims.length;
    const clamp = (v: number) => max(0, min(r, v < 0 ? v + r : v));
    const s = clamp(attrInt(ctx.node, 'start', 0) as number);
    const e = clamp(attrInt(ctx.node, 'end', r) as number);
    const out = dims.slice(s, max(s, e));
    return [makeConst('int', [out.length], out)];
  },
  Range: (ctx) => {
    const [s, l, d] = [0, 1, 2].map((i) => required(ctx, i, ['start', 'limit', 'delta'][i]).data[0]);
    if (!d) throw new RangeError('Range delta must not be 0');
    const n = max(Math.ceil((l - s) / d), 0);
    ctx.reserve([n], 'Range output');
    const c = required(ctx, 0, 'start');
    return [makeConst(c.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d), c.onnxType)];
  },
  Add: binaryRule('Add'),
  Sub: binaryRule('Sub'),
  Mod: (ctx) => {
    // fmod = 0 (integers only): the sign of the divisor, as Python's %; fmod = 1: the sign of the dividend, as C's fmod.
    const fmod = attrInt(ctx.node, 'fmod', 0) === 1;
    const a = required(ctx, 0, 'A');
    if (!fmod && a.dtype === 'float') throw new RangeError('Mod of floats needs fmod = 1');
    return binaryRule('Mod', fmod ? (x, y) => x % y : (x, y) => x - y * Math.floor(x / y))(ctx);
  },
  Mul: binaryRule('Mul'),
  Div: binaryRule('Div'),
  Pow: binaryRule('Pow'),
  Sum: variadicRule('Sum'),
  Max: variadicRule('Max'),
  Min: variadicRule('Min'),
  Mean: variadicRule('Mean'),
  Sqrt: unaryRule(Math.sqrt),
  Exp: unaryRule(Math.exp),
  Log: unaryRule(Math.log),
  Clip: (ctx) => {
    const x = required(ctx, 0, 'input');
    const bound = (i: number, name: string) => {
      if (ctx.opset < 11) {
        const a = attribute(ctx.node, name);
        return a ? a.f ?? undefined : undefined;
      }
      return ctx.inputs[i]?.data[0];
    };
    const lo = bound(1, 'min') ?? -Infinity;
    const hi = bound(2, 'max') ?? Infinity;
    return [{ ...x, data: x.data.map((v) => min(hi, max(lo, v))) }];
  },
  DequantizeLinear: (ctx) => [
    dequantize(required(ctx, 0, 'x'), required(ctx, 1, 'x_scale'), ctx.inputs[2], attrInt(ctx.node, 'axis', 1) as number, attrInt(ctx.node, 'block_size', 0)),
  ],
  QuantizeLinear: (ctx) => [
    quantize(
      required(ctx, 0, 'x'), required(ctx, 1, 'y_scale'), ctx.inputs[2], attrInt(ctx.node, 'axis', 1) as number,
      attrInt(ctx.node, 'block_size', 0), attrInt(ctx.node, 'output_dtype', 0),
    ),
  ],
};

/** Op type → evaluation rule (default domain only). */
export const CONST_RULES: ReadonlyMap<string, ConstRule> = new Map(Object.entries(RULES));

/** Op types the rules evaluate, sorted. */
export const CONST_OPS: readonly string[] = Object.freeze([...CONST_RULES.keys()].sort());

/** Options of {@link evaluateConstNode}. */
export interface EvaluateOptions {
  /** Cap on one result's elements (default {@link MAX_CONSTANT_ELEMENTS}). */
  maxElements?: number;
  /** Name for error messages (the file). */
  label?: string;
}

/**
 * Evaluates `node` on constant inputs with its rule.
 * @returns one constant per output, or undefined when the op has no rule.
 * @throws InputError when a result would exceed the element cap or the node's arguments are invalid.
 */
export function evaluateConstNode(
  node: NodeProto, inputs: ReadonlyArray<ConstTensor | undefined>, opset: number, opts: EvaluateOptions = {},
): ConstTensor[] | undefined {
  const rule = CONST_RULES.get(node.opType ?? '');
  if (!rule) return undefined;
  const label = opts.label ?? 'model';
  const where = `node '${node.name || node.output?.[0] || node.opType}' (${node.opType})`;
  const max = opts.maxElements ?? MAX_CONSTANT_ELEMENTS;
  const reserve = (dims: readonly number[], what: string) => {
    const n = dims.reduce((a, b) => a * b, 1);
    if (!(n <= max)) {
      throw new InputError(label, `${where}: ${what} of dims [${dims.join(',')}] would hold ${n} elements, more than the ${max} a computed constant may hold; refusing to allocate it`);
    }
  };
  try {
    return rule({ node, opset, inputs, reserve });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(label, `${where} cannot be evaluated: ${(err as Error).message}`, { cause: err });
  }
}
