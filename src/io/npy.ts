/**
 * NumPy .npy (format 1.0) files for float32/float16 arrays, so users can open any cached
 * tensor of a run with `numpy.load`. Writes are atomic; reads validate the header.
 */
import * as fs from 'node:fs';
import { InputError } from '../errors';
import { float16ToFloat32, float32ToFloat16 } from '../tensor/fp16';
import { writeFileAtomic } from './atomic';

export type NpyDtype = 'float32' | 'float16';
const DESCR: Record<NpyDtype, string> = { float32: '<f4', float16: '<f2' };

export interface NpyArray {
  dims: number[];
  data: Float32Array;
}

/** Serializes `data` with shape `dims`, stored as `dtype` (float16 halves the size). */
export function encodeNpy(dims: number[], data: Float32Array, dtype: NpyDtype = 'float32'): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: dims [${dims}] need ${n} values, got ${data.length}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const body = dtype === 'float32' ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(float32ToFloat16(data).buffer);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

export function writeNpy(file: string, dims: number[], data: Float32Array, dtype: NpyDtype = 'float32'): void {
  writeFileAtomic(file, encodeNpy(dims, data, dtype));
}

/** Reads a float32 or float16 .npy file into float32. @throws InputError on a malformed file. */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(file, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new InputError(file, 'not a .npy file (bad magic)');
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined || /'fortran_order':\s*True/.test(header)) {
    throw new InputError(file, `unsupported .npy header ${header.trim()}`);
  }
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const offset = start + hlen;
  const bytesPer = descr === '<f4' ? 4 : descr === '<f2' ? 2 : 0;
  if (!bytesPer) throw new InputError(file, `unsupported dtype ${descr}; expected <f4 or <f2`);
  if (buf.length - offset !== n * bytesPer) {
    throw new InputError(file, `truncated: shape (${dims}) needs ${n * bytesPer} bytes, file has ${buf.length - offset}`);
  }
  const body = new Uint8Array(n * bytesPer);
  body.set(buf.subarray(offset));
  const data = bytesPer === 4 ? new Float32Array(body.buffer) : float16ToFloat32(new Uint16Array(body.buffer));
  return { dims, data };
}
