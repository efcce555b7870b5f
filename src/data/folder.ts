/**
 * Image folders: lists the image files of a folder (sorted, so the order is reproducible) and
 * decodes them to [0,1] HWC float arrays with the channel count a job asks for. Broken, huge,
 * animated or too-small files end in an InputError naming the file (see readImage).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors';
import { INPUT_EXTENSIONS } from '../images/formats';
import { readImage } from '../images/png';

/** Extensions listed from data folders: everything readImage reads (see images/formats). */
export const IMAGE_EXTENSIONS: readonly string[] = INPUT_EXTENSIONS;

export interface LoadedImage {
  name: string;
  data: Float32Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

/**
 * Image files directly in `dir`, sorted by name.
 * @throws InputError when the folder cannot be read, or has no images (unless `opts.allowEmpty`)
 */
export function listImages(dir: string, opts: { allowEmpty?: boolean } = {}): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    throw new InputError(dir, `cannot read folder: ${(err as Error).message}`, { cause: err });
  }
  const files = entries.filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())).sort();
  if (!files.length && !opts.allowEmpty) throw new InputError(dir, `no images (${IMAGE_EXTENSIONS.join(', ')}) in this folder`);
  return files.map((f) => path.join(dir, f));
}

/** RGB → gray with ITU-R BT.601 luma weights (what MATLAB's rgb2gray uses). */
export function rgbToGray(rgb: Float32Array): Float32Array {
  const out = new Float32Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = 0.2989 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  return out;
}

/** Options for {@link loadImageAs}. */
export interface LoadImageOptions {
  /** Refuse images whose width or height is below this (e.g. 7, the SSIM window). */
  minSide?: number;
  /** What needs `minSide`, for the error message (e.g. 'the 7×7 SSIM window'). */
  minSideReason?: string;
}

/**
 * Loads one image as `channels` channels (gray is repeated to RGB; RGB is converted to gray).
 * @throws InputError naming the file when it cannot be read (see readImage) or is smaller than `minSide`
 */
export async function loadImageAs(file: string, channels: 1 | 3, opts: LoadImageOptions = {}): Promise<LoadedImage> {
  const img = await readImage(file);
  if (opts.minSide !== undefined && (img.width < opts.minSide || img.height < opts.minSide)) {
    throw new InputError(
      file,
      `${img.width}×${img.height} is too small: images must be at least ${opts.minSide}×${opts.minSide}` +
        (opts.minSideReason ? ` (${opts.minSideReason})` : ''),
    );
  }
  let data = img.data;
  if (img.channels !== channels) {
    if (channels === 1) data = rgbToGray(img.data);
    else {
      data = new Float32Array(img.data.length * 3);
      for (let i = 0; i < img.data.length; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = img.data[i];
    }
  }
  return { name: path.basename(file), data, height: img.height, width: img.width, channels };
}
