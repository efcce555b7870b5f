/**
 * Making and reading ONNX TensorProtos: float32/int64 constants with little-endian raw_data,
 * and float32 views of stored tensors whatever their encoding (raw_data, float_data,
 * float16/bfloat16/double). Dims come back as plain numbers.
 */
import { fromHalf } from '../tensor/fp16';
import { InputError } from '../errors';
import { DataType, dataTypeName, onnx, toNumber, type TensorProto } from './proto';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function checkDims(name: string, dims: readonly number[], count: number): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`tensor '${name}': bad dim ${d} in [${dims.join(',')}]`);
  }
  if (numel(dims) !== count) {
    throw new RangeError(`tensor '${name}': dims [${dims.join(',')}] need ${numel(dims)} values, got ${count}`);
  }
}

/** Little-endian bytes of a float32 array (a fresh copy). */
function float32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/**
 * A FLOAT tensor stored as little-endian raw_data.
 * @throws RangeError when `dims` do not match `data.length`.
 */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): onnx.TensorProto {
  checkDims(name, dims, data.length);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: float32Bytes(data) });
}

/**
 * An INT64 tensor stored as little-endian raw_data.
 * @throws RangeError when `dims` do not match the value count or a value is not an integer.
 */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<number | bigint> | BigInt64Array,
): onnx.TensorProto {
  checkDims(name, dims, values.length);
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`tensor '${name}': ${v} is not an integer`);
    view.setBigInt64(i * 8, BigInt(v), true);
  }
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.INT64, rawData: out });
}

/** A tensor's dims as plain numbers (int64 `Long`s converted). */
export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d));
}

function rawView(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * The tensor's values as a new Float32Array. Reads FLOAT (raw_data or float_data), FLOAT16
 * and BFLOAT16 (raw_data or int32_data) and DOUBLE (raw_data or double_data).
 * @throws InputError for other element types, unresolved external data, or a size that
 *   does not match the dims.
 */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const label = `tensor '${t.name ?? ''}'`;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new InputError(label, 'its data is stored in an external file that was not loaded (use loadModel)');
  }
  let dims: number[];
  try {
    dims = tensorDims(t);
  } catch (err) {
    throw new InputError(label, `has a dim that is not a representable integer (${(err as Error).message})`);
  }
  if (dims.some((d) => d < 0)) throw new InputError(label, `has a negative dim in [${dims.join(',')}]`);
  const n = numel(dims);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  const type = t.dataType ?? DataType.UNDEFINED;
  const sizeError = (got: number, what: string) =>
    new InputError(label, `dims [${dims.join(',')}] need ${n} values, ${what} holds ${got}`);
  // Every size is checked against the stored data before the output is allocated, so hostile
  // dims cannot make us allocate more than the data that is actually there.
  switch (type) {
    case DataType.FLOAT: {
      if (raw) {
        if (raw.length !== n * 4) throw sizeError(raw.length / 4, 'raw_data');
        const out = new Float32Array(n);
        if (LITTLE_ENDIAN) {
          new Uint8Array(out.buffer).set(raw);
        } else {
          const v = rawView(raw);
          for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
        }
        return out;
      }
      const f = t.floatData ?? [];
      if (f.length !== n) throw sizeError(f.length, 'float_data');
      return Float32Array.from(f);
    }
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      const read = (bits: number) => (type === DataType.FLOAT16 ? fromHalf(bits) : bf16ToFloat(bits));
      if (raw) {
        if (raw.length !== n * 2) throw sizeError(raw.length / 2, 'raw_data');
        const out = new Float32Array(n);
        const v = rawView(raw);
        for (let i = 0; i < n; i++) out[i] = read(v.getUint16(i * 2, true));
        return out;
      }
      const d = t.int32Data ?? [];
      if (d.length !== n) throw sizeError(d.length, 'int32_data');
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = read(d[i] & 0xffff);
      return out;
    }
    case DataType.DOUBLE: {
      if (raw) {
        if (raw.length !== n * 8) throw sizeError(raw.length / 8, 'raw_data');
        const out = new Float32Array(n);
        const v = rawView(raw);
        for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, true);
        return out;
      }
      const d = t.doubleData ?? [];
      if (d.length !== n) throw sizeError(d.length, 'double_data');
      return Float32Array.from(d);
    }
    default:
      throw new InputError(label, `element type ${dataTypeName(type)} cannot be read as float32`);
  }
}

function bf16ToFloat(bits: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, bits << 16);
  return buf.getFloat32(0);
}

/** Bytes per element for fixed-size element types; undefined for STRING and unknown codes. */
export function elementSize(dataType: number | null | undefined): number | undefined {
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 4;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    case DataType.UINT16:
    case DataType.INT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 2;
    case DataType.INT64:
    case DataType.UINT64:
    case DataType.DOUBLE:
    case DataType.COMPLEX64:
      return 8;
    case DataType.COMPLEX128:
      return 16;
    default:
      return undefined;
  }
}

/** The number of elements the tensor's dims describe. */
export function tensorNumel(t: TensorProto): number {
  return numel(tensorDims(t));
}
