/**
 * Image files ⇄ Float32Array in [0, 1], HWC layout, 1 (gray) or 3 (RGB) channels, via sharp,
 * plus the built-in BMP and PGM/PPM decoders (./formats) for what libvips does not read.
 * Reading accepts 8- and 16-bit gray/RGB/CMYK (alpha is dropped or, on request, returned apart; palettes expanded, CMYK
 * converted to sRGB, the first frame of an animated or multi-page file taken with a warning) and
 * refuses a file whose header declares more than {@link MAX_IMAGE_PIXELS} before decoding it;
 * writing is 8-bit PNG (clipped and rounded) through an atomic rename.
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { log } from '../log';
import { isBmp } from './bmp';
import { decodeBuiltin, SUPPORTED_INPUT_FORMATS } from './formats';
import { decodePnm, isPnm } from './pnm';
import { rasterToFloat, type Raster } from './raster';

/**
 * The most pixels (width × height of one frame) an image file may declare: 2^27 ≈ 11585², a
 * 1.5 GiB float32 RGB array. Checked against the header before any decoding, so a tiny file
 * claiming 50000×50000 is refused without allocating.
 */
export const MAX_IMAGE_PIXELS = 2 ** 27;

/** A decoded image: values in [0, 1], HWC order. */
export interface DecodedImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** The alpha channel (H×W, [0, 1]), only when asked for ({@link ReadImageOptions.keepAlpha}) and the file has one. */
  alpha?: Float32Array;
}

function checkGeometry(data: ArrayLike<number>, width: number, height: number, channels: number, what: string): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new RangeError(`${what}: channels must be 1 or 3, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`${what}: ${data.length} values do not make a ${width}×${height}×${channels} image`);
  }
}

/**
 * Converts [0, 1] floats to 8-bit: clip, then round half up (NaN becomes 0).
 * @returns a new Uint8Array of the same length
 */
export function toUint8(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}

/**
 * Encodes an image as an 8-bit PNG (gray or RGB).
 * @param data values in [0, 1], HWC; out-of-range values are clipped
 * @throws {RangeError} when the geometry does not match the data
 */
export async function encodePng(
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: 1 | 3,
): Promise<Buffer> {
  checkGeometry(data, width, height, channels, 'encodePng');
  return sharp(toUint8(data), { raw: { width, height, channels } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb') // keep gray as a 1-channel PNG
    .png()
    .toBuffer();
}

/**
 * Writes an 8-bit PNG atomically (temp file + rename), creating parent folders.
 * @param data values in [0, 1], HWC; out-of-range values are clipped, then rounded to 1/255 steps
 * @throws {RangeError} when the geometry does not match the data
 */
export async function writePng(
  file: string,
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: 1 | 3,
): Promise<void> {
  writeFileAtomic(file, await encodePng(data, width, height, channels));
}

/** A libvips error as one line: its distinct lines joined (libvips repeats itself across lines). */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return [...new Set(text.split('\n').map((l) => l.trim()).filter(Boolean))].join('; ');
}

/** 8-bit bytes or 16-bit little-endian samples as floats in [0, 1]. */
function toUnitFloat(data: Buffer, deep: boolean): Float32Array {
  const values = deep ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
  const scale = deep ? 1 / 65535 : 1 / 255;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * scale;
  return out;
}

/** Options for {@link readImage}. */
export interface ReadImageOptions {
  /** Refuse files whose header declares more pixels than this (default {@link MAX_IMAGE_PIXELS}). */
  maxPixels?: number;
  /**
   * Return a file's alpha channel in `alpha` (the colour channels stay as they are, not
   * premultiplied), so an output can keep the transparency (`onnxtune denoise`). Default: dropped.
   */
  keepAlpha?: boolean;
}

/**
 * Reads a PNG/JPEG/TIFF/WebP/GIF/… file as floats in [0, 1] (divided by 255 or 65535 by bit depth).
 * Gray files give 1 channel, anything else 3 (sRGB; CMYK is converted); alpha is dropped (or
 * returned apart with `keepAlpha`); an EXIF
 * orientation (phone photos) is applied, so the pixels are upright as a viewer shows them; an
 * animated or multi-page file gives its first frame (logged as a warning).
 * @throws {InputError} naming the file when it is missing, empty, unreadable, not an image,
 *   truncated, or declares more than `maxPixels` pixels (checked before decoding)
 */
export async function readImage(file: string, opts: ReadImageOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'image file not found' : `cannot read image (${code ?? String(err)})`;
    throw new InputError(file, reason, { cause: err });
  }
  if (bytes.length === 0) throw new InputError(file, 'cannot decode image: the file is empty (0 bytes)');
  let raster: Raster | undefined;
  try {
    raster = decodeBuiltin(bytes, maxPixels);
  } catch (err) {
    throw new InputError(file, `cannot decode image: ${(err as Error).message}`, { cause: err });
  }
  if (raster) return { data: rasterToFloat(raster), width: raster.width, height: raster.height, channels: raster.channels };
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    // Only the header is parsed here; nothing is decoded yet.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    const reason = /unsupported image format/i.test(oneLine(err))
      ? `cannot decode image: unsupported image format; onnxtune reads ${SUPPORTED_INPUT_FORMATS}`
      : `cannot decode image: ${oneLine(err)} (not an image, or a truncated/corrupt file)`;
    throw new InputError(file, reason, { cause: err });
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw new InputError(file, `cannot decode image: the header declares a ${width}×${height} image`);
  if (width * height > maxPixels) {
    throw new InputError(
      file,
      `the header declares ${width}×${height} pixels (${(width * height / 1e6).toFixed(0)} MP), more than the ` +
        `${(maxPixels / 1e6).toFixed(0)} MP allowed; refused before decoding`,
    );
  }
  const pages = meta.pages ?? 1;
  if (pages > 1) log.warn(`${file}: ${meta.format ?? 'image'} with ${pages} frames (animated or multi-page); using the first frame`);
  try {
    const gray = meta.space === 'b-w' || meta.space === 'grey16';
    const deep = meta.depth === 'ushort';
    let img = sharp(bytes, { limitInputPixels: maxPixels, page: 0, pages: 1 });
    // A camera's EXIF orientation: the pixels as a viewer shows them (outputs are written upright, without the tag).
    if ((meta.orientation ?? 1) > 1) img = img.rotate();
    if (meta.hasAlpha) img = img.removeAlpha();
    img = img.toColourspace(gray ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb');
    const { data, info } = await img.raw({ depth: deep ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels !== 1 && channels !== 3) {
      throw new Error(`unexpected ${info.channels} channels after conversion from ${meta.space ?? 'an unknown colour space'}`);
    }
    const out = toUnitFloat(data, deep);
    // A second decode for alpha: libvips' gray conversion drops it, so it cannot ride along with the colour.
    let alpha: Float32Array | undefined;
    if (meta.hasAlpha && opts.keepAlpha) {
      let a = sharp(bytes, { limitInputPixels: maxPixels, page: 0, pages: 1 });
      if ((meta.orientation ?? 1) > 1) a = a.rotate();
      // grey16 keeps a 16-bit alpha at 16 bits (without it the plane comes back scaled to 0–255).
      a = a.extractChannel('alpha').toColourspace(deep ? 'grey16' : 'b-w');
      alpha = toUnitFloat(await a.raw({ depth: deep ? 'ushort' : 'uchar' }).toBuffer(), deep);
    }
    return { data: out, width: info.width, height: info.height, channels, ...(alpha ? { alpha } : {}) };
  } catch (err) {
    throw new InputError(file, `cannot decode image: ${oneLine(err)}`, { cause: err });
  }
}

/**
 * The bits per sample a file stores (16 for 16-bit PNG/TIFF and PGM/PPM with maxval > 255, else
 * 8), so outputs can keep the input's depth. Reads only the header for sharp's formats.
 */
export async function sourceBitDepth(file: string): Promise<8 | 16> {
  const bytes = await fs.promises.readFile(file);
  if (isPnm(bytes)) return decodePnm(bytes).maxval > 255 ? 16 : 8;
  if (isBmp(bytes)) return 8;
  return (await sharp(bytes).metadata()).depth === 'ushort' ? 16 : 8;
}
