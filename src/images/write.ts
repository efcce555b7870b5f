/**
 * Writes [0,1] HWC float images as PNG, TIFF, JPEG or WebP (by file extension) at 8 or 16 bits
 * per channel (JPEG and WebP are 8-bit only; WebP is written lossless), atomically, via sharp,
 * with an optional alpha channel (kept by every format but JPEG, which cannot hold one).
 */
import * as path from 'node:path';
import sharp from 'sharp';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';

export type BitDepth = 8 | 16;
export const OUTPUT_FORMATS = Object.freeze(['.png', '.tif', '.tiff', '.jpg', '.jpeg', '.webp'] as const);

function quantize(data: ArrayLike<number>, bitDepth: BitDepth): Uint8Array | Uint16Array {
  const max = bitDepth === 16 ? 65535 : 255;
  const out = bitDepth === 16 ? new Uint16Array(data.length) : new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * max);
  }
  return out;
}

/** Interleaves an H×W alpha plane after the colour channels of an HWC image. */
function withAlphaChannel(data: ArrayLike<number>, alpha: ArrayLike<number>, channels: number): Float32Array {
  const pixels = alpha.length;
  if (data.length !== pixels * channels) throw new Error(`alpha has ${pixels} values for an image of ${data.length / channels} pixels`);
  const out = new Float32Array(pixels * (channels + 1));
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) out[p * (channels + 1) + c] = data[p * channels + c];
    out[p * (channels + 1) + channels] = alpha[p];
  }
  return out;
}

/** An image to write: HWC [0, 1] data, its geometry, the bit depth (8 by default) and an optional H×W alpha plane. */
export type ImageArgs = [data: ArrayLike<number>, width: number, height: number, channels: 1 | 3, bitDepth?: BitDepth, alpha?: ArrayLike<number>];

/**
 * Encodes an image for `file`'s extension; `alpha` (H×W in [0, 1]) is stored as its alpha channel
 * except in JPEG. @throws InputError for an unsupported extension.
 */
export async function encodeImage(file: string, ...[data, width, height, channels, bitDepth = 8, alpha]: ImageArgs): Promise<Buffer> {
  const ext = path.extname(file).toLowerCase();
  if (!(OUTPUT_FORMATS as readonly string[]).includes(ext)) {
    throw new InputError(file, `cannot write '${ext}' images; use one of ${OUTPUT_FORMATS.join(', ')}`);
  }
  const jpeg = ext === '.jpg' || ext === '.jpeg';
  const webp = ext === '.webp';
  const depth: BitDepth = jpeg || webp ? 8 : bitDepth;
  const keepAlpha = alpha !== undefined && !jpeg;
  const pixels = quantize(keepAlpha ? withAlphaChannel(data, alpha, channels) : data, depth);
  const space = channels === 1 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb';
  // NOTE: sharp infers 16-bit raw input from a Uint16Array; a Buffer would be read as 8-bit.
  let img = sharp(pixels, { raw: { width, height, channels: (keepAlpha ? channels + 1 : channels) as 1 | 2 | 3 | 4 } }).toColourspace(space);
  if (jpeg) img = img.jpeg({ quality: 95 });
  else if (webp) img = img.webp({ lossless: true }); // a denoised output should not gain codec noise
  else img = ext === '.png' ? img.png() : img.tiff({ compression: 'lzw' });
  return img.toBuffer();
}

/** {@link encodeImage}, written atomically to `file`. */
export async function writeImage(file: string, ...image: ImageArgs): Promise<void> {
  writeFileAtomic(file, await encodeImage(file, ...image));
}
