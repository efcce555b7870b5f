/** .npy files: header layout per the NumPy format spec, float32/float16 round trips, bad files refused. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpy, NpyRowWriter, readNpy, readNpyDims, readNpyRows, writeNpy } from '../../../src/io/npy';
import { InputError } from '../../../src/errors';
import { tmpDir } from '../../helpers/tmp';

describe('npy', () => {
  const dir = tmpDir();

  it('writes a NumPy 1.0 header padded to 64 bytes', () => {
    const bytes = encodeNpy([2, 3], new Float32Array(6));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = bytes[8] | (bytes[9] << 8);
    expect((10 + hlen) % 64).toBe(0);
    const header = Buffer.from(bytes.subarray(10, 10 + hlen)).toString('latin1');
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \}\s*\n$/);
    expect(bytes.length).toBe(10 + hlen + 24);
  });

  it.each(['float32', 'float16'] as const)('round-trips %s', (dtype) => {
    const data = Float32Array.from([0, 1, -2.5, 0.125, 1000, 3]);
    const file = path.join(dir, `${dtype}.npy`);
    writeNpy(file, [3, 2], data, dtype);
    const back = readNpy(file);
    expect(back.dims).toEqual([3, 2]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('1-D shapes use the (n,) tuple', () => {
    const bytes = encodeNpy([4], new Float32Array(4));
    expect(Buffer.from(bytes).toString('latin1')).toContain("'shape': (4,)");
  });

  it('refuses truncated and foreign files', () => {
    const file = path.join(dir, 'cut.npy');
    fs.writeFileSync(file, encodeNpy([10], new Float32Array(10)).subarray(0, 90));
    expect(() => readNpy(file)).toThrow(/truncated/);
    fs.writeFileSync(file, 'hello');
    expect(() => readNpy(file)).toThrow(InputError);
  });
});

describe('npy in chunks (caches past one Buffer)', () => {
  const dir = tmpDir();
  const data = Float32Array.from({ length: 1001 }, (_, i) => (i % 97) * 0.25 - 7);

  it.each(['float32', 'float16'] as const)('%s written and read 100 bytes at a time equals the one-piece encoding', (dtype) => {
    const file = path.join(dir, `chunked-${dtype}.npy`);
    writeNpy(file, [7, 11, 13], data, dtype, 100);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(encodeNpy([7, 11, 13], data, dtype));
    // Odd chunk sizes split values across reads; 3 bytes is smaller than one float32.
    for (const chunk of [100, 3, 1 << 20]) {
      const back = readNpy(file, chunk);
      expect(back.dims).toEqual([7, 11, 13]);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  it('a file cut inside its body is refused, not zero-filled', () => {
    const file = path.join(dir, 'cut-body.npy');
    fs.writeFileSync(file, encodeNpy([1001], data).subarray(0, 3000));
    expect(() => readNpy(file, 64)).toThrow(/truncated/);
  });
});

describe('npy row ranges and the row writer', () => {
  const dir = tmpDir();
  const rows = (n: number, from = 0) => Float32Array.from({ length: n * 6 }, (_, i) => (from * 6 + i) * 0.5);

  it.each(['float32', 'float16'] as const)('%s: blocks appended one by one read back whole and by row range', (dtype) => {
    const file = path.join(dir, `rows-${dtype}.npy`);
    const w = new NpyRowWriter(file, [5, 2, 3], dtype);
    w.append(rows(2));
    expect(fs.existsSync(file)).toBe(false); // in a temp file until close
    w.append(rows(3, 2));
    w.close();
    const whole = Float32Array.from({ length: 30 }, (_, i) => i * 0.5);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(encodeNpy([5, 2, 3], whole, dtype));
    expect(readNpyDims(file)).toEqual([5, 2, 3]);
    const part = readNpyRows(file, 2, 2, 10);
    expect(part.dims).toEqual([2, 2, 3]);
    expect(Array.from(part.data)).toEqual(Array.from(whole.subarray(12, 24)));
    expect(readNpyRows(file, 5, 0).data.length).toBe(0);
    expect(() => readNpyRows(file, 4, 2)).toThrow(/rows 4…5 requested; the file holds 5/);
  });

  it('a writer closed short, or given a partial row or too many rows, leaves no file behind', () => {
    const file = path.join(dir, 'short.npy');
    const short = new NpyRowWriter(file, [3, 6]);
    short.append(rows(2));
    expect(() => short.close()).toThrow(/2 of 3 rows written/);
    const partial = new NpyRowWriter(file, [3, 6]);
    expect(() => partial.append(new Float32Array(5))).toThrow(/not whole rows of 6/);
    const over = new NpyRowWriter(file, [1, 6]);
    expect(() => over.append(rows(2))).toThrow(/more than the 1 rows declared/);
    expect(fs.readdirSync(dir).filter((f) => f.includes('short.npy'))).toEqual([]);
  });
});
