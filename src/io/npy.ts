/**
 * NumPy .npy (format 1.0) files for float32/float16 arrays, so users can open any cached
 * tensor of a run with `numpy.load`. Writes are atomic; reads validate the header.
 */
import * as fs from 'node:fs';
import { InputError } from '../errors';
import { float16ToFloat32, float32ToFloat16 } from '../tensor/fp16';
import { concatBytes } from '../tensor/layout';
import { AtomicWriter, writeChunksAtomic } from './atomic';

export type NpyDtype = 'float32' | 'float16';
const DESCR: Record<NpyDtype, string> = { float32: '<f4', float16: '<f2' };

export interface NpyArray {
  dims: number[];
  data: Float32Array;
}

/** Bytes moved per read/write call: large caches (several GiB) stream through instead of one Buffer. */
export const NPY_CHUNK_BYTES = 1 << 28;

/** The number of values of a shape. */
const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function npyHeader(dims: number[], data: { length: number }, dtype: NpyDtype): Uint8Array {
  const n = product(dims);
  if (n !== data.length) throw new Error(`npy: dims [${dims}] need ${n} values, got ${data.length}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  return out;
}

/** The header, then the body in chunks of at most `chunkBytes` (float16 converted chunk by chunk). */
function* npyChunks(dims: number[], data: Float32Array, dtype: NpyDtype, chunkBytes: number): Generator<Uint8Array> {
  yield npyHeader(dims, data, dtype);
  yield* bodyChunks(data, dtype, chunkBytes);
}

function* bodyChunks(data: Float32Array, dtype: NpyDtype, chunkBytes: number): Generator<Uint8Array> {
  const bytesPer = dtype === 'float32' ? 4 : 2;
  const step = Math.max(1, Math.floor(chunkBytes / bytesPer));
  for (let at = 0; at < data.length; at += step) {
    const part = data.subarray(at, Math.min(at + step, data.length));
    yield dtype === 'float32' ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength) : new Uint8Array(float32ToFloat16(part).buffer);
  }
}

/** Serializes `data` with shape `dims`, stored as `dtype` (float16 halves the size). */
export function encodeNpy(dims: number[], data: Float32Array, dtype: NpyDtype = 'float32'): Uint8Array {
  return concatBytes([...npyChunks(dims, data, dtype, NPY_CHUNK_BYTES)]);
}

/** Writes `data` atomically, streaming the body (no whole-file buffer: caches may exceed 4 GiB). */
export function writeNpy(file: string, dims: number[], data: Float32Array, dtype: NpyDtype = 'float32', chunkBytes = NPY_CHUNK_BYTES): void {
  writeChunksAtomic(file, npyChunks(dims, data, dtype, chunkBytes));
}

/** Reads exactly `length` bytes at `position` into `into` (read() may return short). @returns bytes read */
function readFully(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = fs.readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** A parsed .npy header: shape, stored dtype and where the values start. */
interface NpyLayout {
  dims: number[];
  bytesPer: 2 | 4;
  offset: number;
}

function readLayout(fd: number, file: string): NpyLayout {
  const size = fs.fstatSync(fd).size;
  const lead = new Uint8Array(Math.min(size, 12));
  readFully(fd, lead, 0);
  const leadBuf = Buffer.from(lead.buffer, lead.byteOffset, lead.length);
  if (size < 10 || leadBuf[0] !== 0x93 || leadBuf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new InputError(file, 'not a .npy file (bad magic)');
  }
  const major = leadBuf[6];
  if (major !== 1 && size < 12) throw new InputError(file, 'not a .npy file (header cut short)');
  const hlen = major === 1 ? leadBuf.readUInt16LE(8) : leadBuf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const headerBytes = new Uint8Array(Math.max(0, Math.min(hlen, size - start)));
  readFully(fd, headerBytes, start);
  const header = Buffer.from(headerBytes).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined || /'fortran_order':\s*True/.test(header)) {
    throw new InputError(file, `unsupported .npy header ${header.trim()}`);
  }
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = product(dims);
  const offset = start + hlen;
  const bytesPer = descr === '<f4' ? 4 : descr === '<f2' ? 2 : 0;
  if (!bytesPer) throw new InputError(file, `unsupported dtype ${descr}; expected <f4 or <f2`);
  if (size - offset !== n * bytesPer) {
    throw new InputError(file, `truncated: shape (${dims}) needs ${n * bytesPer} bytes, file has ${size - offset}`);
  }
  return { dims, bytesPer, offset };
}

/** Reads values [first, first + n) of an opened file's body into float32, `chunkBytes` at a time. */
function readValues(fd: number, file: string, layout: NpyLayout, first: number, n: number, chunkBytes: number): Float32Array {
  const { bytesPer, offset } = layout;
  const data = new Float32Array(n);
  const step = Math.max(1, Math.floor(chunkBytes / bytesPer));
  const scratch = bytesPer === 2 ? new Uint16Array(Math.min(step, n)) : undefined;
  for (let at = 0; at < n; at += step) {
    const count = Math.min(step, n - at);
    const into = scratch ? new Uint8Array(scratch.buffer, 0, count * 2) : new Uint8Array(data.buffer, at * 4, count * 4);
    if (readFully(fd, into, offset + (first + at) * bytesPer) !== into.length) throw new InputError(file, 'truncated while reading');
    if (scratch) float16ToFloat32(scratch.subarray(0, count), data.subarray(at, at + count));
  }
  return data;
}

function withFile<T>(file: string, body: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new InputError(file, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  try {
    return body(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a float32 or float16 .npy file into float32, in chunks of `chunkBytes` (so files past
 * Node's 2 GiB readFile limit load too). @throws InputError on a malformed file.
 */
export function readNpy(file: string, chunkBytes = NPY_CHUNK_BYTES): NpyArray {
  return withFile(file, (fd) => {
    const layout = readLayout(fd, file);
    const n = product(layout.dims);
    return { dims: layout.dims, data: readValues(fd, file, layout, 0, n, chunkBytes) };
  });
}

/** The shape stored in a .npy file's header (the body is not read). */
export function readNpyDims(file: string): number[] {
  return withFile(file, (fd) => readLayout(fd, file).dims);
}

/**
 * Rows [start, start + count) along the first axis, as float32 (`dims` is the row range's shape).
 * @throws InputError on a malformed file or a range outside it
 */
export function readNpyRows(file: string, start: number, count: number, chunkBytes = NPY_CHUNK_BYTES): NpyArray {
  return withFile(file, (fd) => {
    const layout = readLayout(fd, file);
    const [rows, ...rest] = layout.dims;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > (rows ?? 0)) {
      throw new InputError(file, `rows ${start}…${start + count - 1} requested; the file holds ${rows ?? 0}`);
    }
    const rowValues = product(rest);
    return { dims: [count, ...rest], data: readValues(fd, file, layout, start * rowValues, count * rowValues, chunkBytes) };
  });
}

/**
 * Writes a .npy file row block by row block (featurize: one noise realization at a time), so the
 * whole array never has to be in memory. Atomic: `close()` renames the finished temp file into
 * place; `abort()` (or any error in `append`) removes it.
 */
export class NpyRowWriter {
  private readonly out: AtomicWriter;
  private readonly rowValues: number;
  private rows = 0;

  constructor(private readonly file: string, private readonly dims: number[], private readonly dtype: NpyDtype = 'float32') {
    this.rowValues = product(dims.slice(1));
    this.out = new AtomicWriter(file);
    this.out.write(npyHeader(dims, { length: product(dims) }, dtype));
  }

  /** Appends whole rows (a multiple of the row size). */
  append(values: Float32Array): void {
    try {
      if (values.length % this.rowValues !== 0) throw new Error(`npy: ${values.length} values are not whole rows of ${this.rowValues}`);
      if (this.rows + values.length / this.rowValues > this.dims[0]) throw new Error(`npy: more than the ${this.dims[0]} rows declared for ${this.file}`);
      for (const chunk of bodyChunks(values, this.dtype, NPY_CHUNK_BYTES)) this.out.write(chunk);
      this.rows += values.length / this.rowValues;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Checks every declared row was written, then fsyncs and renames into place. */
  close(): void {
    if (this.rows !== this.dims[0]) {
      this.abort();
      throw new Error(`npy: ${this.rows} of ${this.dims[0]} rows written to ${this.file}`);
    }
    this.out.commit();
  }

  abort(): void {
    this.out.abort();
  }
}
