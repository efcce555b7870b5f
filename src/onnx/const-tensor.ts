/**
 * Constant tensors of an ONNX graph as plain JS data (initializers, Constant nodes and
 * everything folded from them), with the few array helpers the folding rules and the op
 * mappers need. Integers are kept as JS numbers, clamped to ±(2^53 − 1): int64 sentinels
 * such as INT64_MAX in Slice ends keep their meaning ("to the end") after clamping.
 */
import { InputError } from '../errors';
import { DataType, dataTypeName, onnx, type TensorProto } from './proto';
import { tensorDims, tensorToFloat32 } from './tensor';

/** Element class of a constant: float (any width), integer (any width) or bool. */
export type ConstDtype = 'float' | 'int' | 'bool';

/** A constant tensor, row-major. */
export interface ConstTensor {
  dtype: ConstDtype;
  dims: number[];
  data: Float64Array;
  /** The ONNX element type it came from (FLOAT, INT64, …), for Cast and re-export. */
  onnxType: number;
}

const SAFE = Number.MAX_SAFE_INTEGER;
// Aliased for per-element loops (a `Math` lookup per element is slow where globals are proxied, as in jest).
const { max, min, trunc } = Math;

/** Clamps an integer (number or bigint) into the safe JS range. */
export function clampInt(v: number | bigint): number {
  if (typeof v === 'bigint') {
    if (v > BigInt(SAFE)) return SAFE;
    if (v < BigInt(-SAFE)) return -SAFE;
    return Number(v);
  }
  return max(-SAFE, min(SAFE, trunc(v)));
}

/** The number of elements of `dims`. */
export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A constant from values. */
export function makeConst(dtype: ConstDtype, dims: readonly number[], data: ArrayLike<number>, onnxType?: number): ConstTensor {
  if (numel(dims) !== data.length) throw new RangeError(`constant of dims [${dims.join(',')}] needs ${numel(dims)} values, got ${data.length}`);
  const type = onnxType ?? (dtype === 'float' ? DataType.FLOAT : dtype === 'int' ? DataType.INT64 : DataType.BOOL);
  return { dtype, dims: [...dims], data: Float64Array.from(data), onnxType: type };
}

/** The element class of an ONNX element type; undefined for strings/complex types. */
export function dtypeOf(onnxType: number): ConstDtype | undefined {
  switch (onnxType) {
    case DataType.FLOAT:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.DOUBLE:
      return 'float';
    case DataType.INT8:
    case DataType.INT16:
    case DataType.INT32:
    case DataType.INT64:
    case DataType.UINT8:
    case DataType.UINT16:
    case DataType.UINT32:
    case DataType.UINT64:
      return 'int';
    case DataType.BOOL:
      return 'bool';
    default:
      return undefined;
  }
}

function readInts(t: TensorProto, n: number): number[] {
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  if (raw) {
    const size = type === DataType.INT64 || type === DataType.UINT64 ? 8 : type === DataType.INT32 || type === DataType.UINT32 ? 4
      : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 1;
    if (raw.length !== n * size) {
      throw new InputError(`tensor '${t.name ?? ''}'`, `raw_data has ${raw.length} bytes; ${n} ${dataTypeName(type)} values need ${n * size}`);
    }
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      switch (type) {
        case DataType.INT64: out[i] = clampInt(v.getBigInt64(i * 8, true)); break;
        case DataType.UINT64: out[i] = clampInt(v.getBigUint64(i * 8, true)); break;
        case DataType.INT32: out[i] = v.getInt32(i * 4, true); break;
        case DataType.UINT32: out[i] = v.getUint32(i * 4, true); break;
        case DataType.INT16: out[i] = v.getInt16(i * 2, true); break;
        case DataType.UINT16: out[i] = v.getUint16(i * 2, true); break;
        case DataType.INT8: out[i] = v.getInt8(i); break;
        default: out[i] = v.getUint8(i); // UINT8, BOOL
      }
    }
    return out;
  }
  const list = type === DataType.INT64 ? t.int64Data : type === DataType.UINT64 ? t.uint64Data : t.int32Data;
  return (list ?? []).map((x) => clampInt(typeof x === 'number' ? x : BigInt(String(x))));
}

/**
 * Reads a TensorProto (initializer or Constant value) into a ConstTensor.
 * @throws InputError for element types that are neither float, integer nor bool, or bad sizes.
 */
export function constFromTensorProto(t: TensorProto, label: string): ConstTensor {
  const dims = tensorDims(t);
  const type = t.dataType ?? DataType.UNDEFINED;
  const dtype = dtypeOf(type);
  if (!dtype) throw new InputError(label, `tensor '${t.name ?? ''}' has element type ${dataTypeName(type)}, which cannot be converted`);
  const n = numel(dims);
  if (dtype === 'float') return { dtype, dims, data: Float64Array.from(tensorToFloat32(t)), onnxType: type };
  const values = readInts(t, n);
  if (values.length !== n) throw new InputError(label, `tensor '${t.name ?? ''}': dims [${dims.join(',')}] need ${n} values, found ${values.length}`);
  return { dtype, dims, data: Float64Array.from(values), onnxType: type };
}

/** A float32 copy of a constant's data (for weights). */
export function toFloat32(c: ConstTensor): Float32Array {
  return Float32Array.from(c.data);
}

/** A constant as a plain number list. */
export function toNumbers(c: ConstTensor): number[] {
  return Array.from(c.data);
}

/** The single value of a one-element constant. @throws RangeError otherwise. */
export function scalarOf(c: ConstTensor, what: string): number {
  if (c.data.length !== 1) throw new RangeError(`${what} must have one element, has ${c.data.length}`);
  return c.data[0];
}

/** Row-major strides of `dims`. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Transposes a constant: out dims = dims[perm[i]]. */
export function transposeConst(c: ConstTensor, perm: readonly number[]): ConstTensor {
  const rank = c.dims.length;
  if (perm.length !== rank) throw new RangeError(`perm [${perm.join(',')}] does not fit rank ${rank}`);
  const outDims = perm.map((p) => c.dims[p]);
  const inStrides = strides(c.dims);
  const byOut = perm.map((p) => inStrides[p]);
  const out = new Float64Array(c.data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * byOut[k];
    out[o] = c.data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k]) break;
      idx[k] = 0;
    }
  }
  return { ...c, dims: outDims, data: out };
}

/** The broadcast shape of two shapes (numpy rules). @throws RangeError when incompatible. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new RangeError(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Elementwise `f(a, b)` with numpy broadcasting. */
export function broadcastBinary(a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number): Float64Array {
  const dims = broadcastDims(a.dims, b.dims);
  const rank = dims.length;
  const pad = (d: readonly number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const ad = pad(a.dims);
  const bd = pad(b.dims);
  const as = strides(ad).map((s, i) => (ad[i] === 1 ? 0 : s));
  const bs = strides(bd).map((s, i) => (bd[i] === 1 ? 0 : s));
  const out = new Float64Array(numel(dims));
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < rank; k++) {
      ia += idx[k] * as[k];
      ib += idx[k] * bs[k];
    }
    out[o] = f(a.data[ia], b.data[ib]);
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Normalizes a possibly negative axis for rank `rank`. @throws RangeError when out of range. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * ONNX Slice index arithmetic for one axis (opset 10+ semantics): clamps start/end to the
 * axis and returns the selected indices.
 */
export function sliceIndices(dim: number, start: number, end: number, step: number): number[] {
  if (step === 0) throw new RangeError('Slice step must not be 0');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.max(0, Math.min(dim, s));
    e = Math.max(0, Math.min(dim, e));
  } else {
    s = Math.max(-1, Math.min(dim - 1, s));
    e = Math.max(-1, Math.min(dim - 1, e));
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

/** Gathers a sub-block: `picks[k]` lists the indices kept on axis k. */
export function gatherBlock(c: ConstTensor, picks: readonly number[][]): ConstTensor {
  const dims = picks.map((p) => p.length);
  const st = strides(c.dims);
  const out = new Float64Array(numel(dims));
  const rank = dims.length;
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += picks[k][idx[k]] * st[k];
    out[o] = c.data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return { ...c, dims, data: out };
}

/** Wraps a ConstTensor back into a TensorProto (float → FLOAT, int → INT64, bool → BOOL). */
export function constToTensorProto(name: string, c: ConstTensor): onnx.TensorProto {
  if (c.dtype === 'float') {
    return onnx.TensorProto.create({ name, dims: c.dims, dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(c.data).buffer) });
  }
  if (c.dtype === 'bool') {
    return onnx.TensorProto.create({ name, dims: c.dims, dataType: DataType.BOOL, rawData: Uint8Array.from(c.data, (v) => (v ? 1 : 0)) });
  }
  const raw = new Uint8Array(c.data.length * 8);
  const v = new DataView(raw.buffer);
  c.data.forEach((x, i) => v.setBigInt64(i * 8, BigInt(x), true));
  return onnx.TensorProto.create({ name, dims: c.dims, dataType: DataType.INT64, rawData: raw });
}
