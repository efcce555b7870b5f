/**
 * A minimal ONNX ModelProto reader shared by the page and the CLI: it walks the protobuf wire
 * format for metadata_props, opsets and the graph's inputs and outputs (name, element type, dims)
 * and skips everything else (weights included) without decoding it. Pure: no Node or DOM APIs.
 * Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, ValueInfoProto, TypeProto).
 */
import { notOnnxHint } from './not-onnx-hint';

/** A model file the reader cannot make sense of (not protobuf, or not an ONNX ModelProto). */
export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
}

/** ONNX TensorProto.DataType codes → onnxruntime type names (the ones a denoiser may use). */
export const ONNX_ELEM_TYPES: Readonly<Record<number, string>> = Object.freeze({
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
});

/** One graph input or output. `dims` entries: a number (fixed), a string (symbolic) or null (unknown). */
export interface OnnxValueInfo {
  name: string;
  /** onnxruntime type name ('float32', 'float16', …) or `elem_type <n>` for others. */
  type: string;
  /** Undefined when the model declares no shape. */
  dims?: Array<number | string | null>;
}

/** What {@link readOnnxSummary} extracts. */
export interface OnnxModelSummary {
  irVersion: number;
  producer: string;
  opsets: Array<{ domain: string; version: number }>;
  /** metadata_props (a repeated key keeps its last value). */
  metadata: Record<string, string>;
  /** Graph inputs that are not initializers. */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Cursor over one protobuf message (a byte range). */
class Reader {
  constructor(private readonly buf: Uint8Array, public pos: number, private readonly end: number) {}

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ModelFormatError('truncated varint');
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new ModelFormatError('varint longer than 10 bytes');
  }

  /** Reads a field tag; returns [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 0) throw new ModelFormatError('field number 0');
    return [field, wire];
  }

  /** A sub-reader over a length-delimited field. */
  sub(): Reader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new ModelFormatError(`field of ${len} bytes runs past its message`);
    this.pos = start + len;
    return new Reader(this.buf, start, start + len);
  }

  string(): string {
    const r = this.sub();
    return UTF8.decode(this.buf.subarray(r.pos, r.end));
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.advance(8);
    else if (wire === WIRE_LEN) this.sub();
    else if (wire === WIRE_I32) this.advance(4);
    else throw new ModelFormatError(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ModelFormatError('truncated field');
    this.pos += n;
  }
}

const UTF8 = new TextDecoder('utf-8');
/** int64 varints above this are negative numbers in two's complement (e.g. a dim of -1). */
const INT64_SIGN = 2 ** 63;

/** Calls `fn(field, wire)` for each field; `fn` returns true when it consumed the value. */
function eachField(r: Reader, fn: (field: number, wire: number) => boolean): void {
  while (r.more()) {
    const [field, wire] = r.tag();
    if (!fn(field, wire)) r.skip(wire);
  }
}

function readStringPair(r: Reader): [string, string] {
  let key = '';
  let value = '';
  eachField(r, (f, w) => {
    if (w !== WIRE_LEN) return false;
    if (f === 1) key = r.string();
    else if (f === 2) value = r.string();
    else return false;
    return true;
  });
  return [key, value];
}

function readDim(r: Reader): number | string | null {
  let dim: number | string | null = null;
  eachField(r, (f, w) => {
    if (f === 1 && w === WIRE_VARINT) {
      const v = r.varint();
      dim = v >= INT64_SIGN ? null : v;
    } else if (f === 2 && w === WIRE_LEN) dim = r.string();
    else return false;
    return true;
  });
  return dim;
}

/** TypeProto → [type name, dims]; only tensor types (field 1) are described. */
function readType(r: Reader): [string, Array<number | string | null> | undefined] {
  let type = 'non-tensor';
  let dims: Array<number | string | null> | undefined;
  eachField(r, (f, w) => {
    if (f !== 1 || w !== WIRE_LEN) return false;
    const tensor = r.sub();
    type = 'tensor';
    eachField(tensor, (tf, tw) => {
      if (tf === 1 && tw === WIRE_VARINT) {
        const code = tensor.varint();
        type = ONNX_ELEM_TYPES[code] ?? `elem_type ${code}`;
      } else if (tf === 2 && tw === WIRE_LEN) {
        const shape = tensor.sub();
        dims = [];
        eachField(shape, (sf, sw) => {
          if (sf !== 1 || sw !== WIRE_LEN) return false;
          dims!.push(readDim(shape.sub()));
          return true;
        });
      } else return false;
      return true;
    });
    return true;
  });
  return [type, dims];
}

function readValueInfo(r: Reader): OnnxValueInfo {
  const vi: OnnxValueInfo = { name: '', type: 'unknown' };
  eachField(r, (f, w) => {
    if (w !== WIRE_LEN) return false;
    if (f === 1) vi.name = r.string();
    else if (f === 2) [vi.type, vi.dims] = readType(r.sub());
    else return false;
    return true;
  });
  return vi;
}

/** TensorProto.name is field 8; nothing else of an initializer is read. */
function readTensorName(r: Reader): string {
  let name = '';
  eachField(r, (f, w) => {
    if (f !== 8 || w !== WIRE_LEN) return false;
    name = r.string();
    return true;
  });
  return name;
}

/**
 * Reads the summary of an ONNX model without decoding its weights.
 * @param bytes the whole `.onnx` file
 * @throws ModelFormatError when the bytes are not an ONNX ModelProto with a graph
 */
export function readOnnxSummary(bytes: Uint8Array): OnnxModelSummary {
  const out: OnnxModelSummary = { irVersion: 0, producer: '', opsets: [], metadata: {}, inputs: [], outputs: [] };
  let sawGraph = false;
  const rawInputs: OnnxValueInfo[] = [];
  const initializers = new Set<string>();
  try {
    const model = new Reader(bytes, 0, bytes.length);
    eachField(model, (f, w) => {
      if (f === 1 && w === WIRE_VARINT) out.irVersion = model.varint();
      else if (f === 2 && w === WIRE_LEN) out.producer = model.string();
      else if (f === 8 && w === WIRE_LEN) {
        const r = model.sub();
        const opset = { domain: '', version: 0 };
        eachField(r, (of, ow) => {
          if (of === 1 && ow === WIRE_LEN) opset.domain = r.string();
          else if (of === 2 && ow === WIRE_VARINT) opset.version = r.varint();
          else return false;
          return true;
        });
        out.opsets.push(opset);
      } else if (f === 14 && w === WIRE_LEN) {
        const [key, value] = readStringPair(model.sub());
        if (key) out.metadata[key] = value;
      } else if (f === 7 && w === WIRE_LEN) {
        sawGraph = true;
        const g = model.sub();
        eachField(g, (gf, gw) => {
          if (gw !== WIRE_LEN) return false;
          if (gf === 11) rawInputs.push(readValueInfo(g.sub()));
          else if (gf === 12) out.outputs.push(readValueInfo(g.sub()));
          else if (gf === 5) initializers.add(readTensorName(g.sub()));
          else return false;
          return true;
        });
      } else return false;
      return true;
    });
  } catch (err) {
    if (err instanceof ModelFormatError) throw new ModelFormatError(`not an ONNX model (${err.message})${notOnnxHint(bytes)}`);
    throw err;
  }
  if (!sawGraph || out.irVersion === 0) {
    throw new ModelFormatError(`not an ONNX model (${sawGraph ? 'no ir_version' : 'no graph'})${notOnnxHint(bytes)}`);
  }
  out.inputs = rawInputs.filter((i) => !initializers.has(i.name));
  return out;
}
