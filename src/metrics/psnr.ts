/**
 * PSNR per the evaluation protocol: images in [0, 1], the model OUTPUT is clipped to [0, 1]
 * (the reference is used as is), MSE over the whole image (all channels), peak 1.
 * `meanPsnr` averages per-image PSNR over an [N, H, W, C] batch, as papers report it.
 */
import { checkSameLength, type NumericArray } from './mse';

/** Options for {@link psnr}. */
export interface PsnrOptions {
  /** Largest possible pixel value (default 1). */
  peak?: number;
  /** Clip the output to [0, peak] before comparing (default true). */
  clip?: boolean;
}

/**
 * PSNR in dB of `output` against `clean`: 10·log10(peak² / MSE); Infinity when they are identical.
 * @throws {RangeError} when the lengths differ or are zero
 */
export function psnr(output: NumericArray, clean: NumericArray, opts: PsnrOptions = {}): number {
  checkSameLength(output, clean, 'psnr');
  return psnrRange(output, clean, 0, output.length, opts);
}

function psnrRange(output: NumericArray, clean: NumericArray, start: number, end: number, opts: PsnrOptions): number {
  const peak = opts.peak ?? 1;
  const clip = opts.clip ?? true;
  let sum = 0;
  for (let i = start; i < end; i++) {
    let o = output[i];
    if (clip) o = o < 0 ? 0 : o > peak ? peak : o;
    const d = o - clean[i];
    sum += d * d;
  }
  const m = sum / (end - start);
  return m === 0 ? Infinity : 10 * Math.log10((peak * peak) / m);
}

/** A batch shape [N, H, W, C]. */
export type BatchShape = readonly [number, number, number, number];

function imageSize(shape: BatchShape, length: number, what: string): number {
  const [n, h, w, c] = shape;
  const size = h * w * c;
  if (![n, h, w, c].every((d) => Number.isInteger(d) && d > 0) || n * size !== length) {
    throw new RangeError(`${what}: shape [${shape.join(', ')}] does not match ${length} values`);
  }
  return size;
}

/**
 * PSNR of each image of a batch.
 * @param shape [N, H, W, C] of both flat arrays
 * @returns N values in dB
 */
export function batchPsnr(
  output: NumericArray,
  clean: NumericArray,
  shape: BatchShape,
  opts: PsnrOptions = {},
): Float64Array {
  checkSameLength(output, clean, 'psnr');
  const size = imageSize(shape, output.length, 'psnr');
  const out = new Float64Array(shape[0]);
  for (let i = 0; i < shape[0]; i++) out[i] = psnrRange(output, clean, i * size, (i + 1) * size, opts);
  return out;
}

/**
 * Mean of per-image PSNR over a batch (Infinity if any image is reproduced exactly).
 * @param shape [N, H, W, C] of both flat arrays
 */
export function meanPsnr(output: NumericArray, clean: NumericArray, shape: BatchShape, opts: PsnrOptions = {}): number {
  const values = batchPsnr(output, clean, shape, opts);
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
