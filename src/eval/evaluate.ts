/**
 * The evaluation protocol for any denoiser: clean test images in [0,1], seeded Gaussian noise
 * N(0, σ/255) added without clipping, output clipped to [0,1], PSNR (peak 1) and SSIM
 * (scikit-image defaults) per image, means over the set, and the time per image.
 */
import * as path from 'node:path';
import { listImages, loadImageAs, type LoadedImage } from '../data/folder';
import { quality } from '../metrics/quality';
import { applyNoise } from '../noise';
import { forkRng } from '../random';

export type DenoiseFn = (noisy: Float32Array, width: number, height: number, channels: number, sigma: number) => Promise<Float32Array>;

export interface EvalRow {
  image: string;
  sigma: number;
  noisyPsnr: number;
  noisySsim: number;
  psnr: number;
  ssim: number;
  seconds: number;
}

export interface EvalSummary {
  method: string;
  sigma: number;
  images: number;
  noisyPsnr: number;
  noisySsim: number;
  psnr: number;
  ssim: number;
  secondsPerImage: number;
  /** Extra facts, e.g. the baseline parameter chosen. */
  note?: string;
}

export interface EvalOptions {
  data: string;
  sigmas: readonly number[];
  channels: 1 | 3;
  seed?: number;
  limit?: number;
}

/** The smallest side SSIM can measure: its default 7×7 window (scikit-image). */
export const MIN_EVAL_SIDE = 7;

/**
 * Loads the test images once (they are reused for every σ and method).
 * @throws InputError naming the file for an unreadable, huge, or smaller than 7×7 image
 */
export async function loadTestImages(opts: EvalOptions): Promise<LoadedImage[]> {
  const files = listImages(opts.data).slice(0, opts.limit);
  return Promise.all(files.map((f) => loadImageAs(f, opts.channels, { minSide: MIN_EVAL_SIDE, minSideReason: 'the 7×7 SSIM window' })));
}

/** The noisy version of `img` at `sigma`: the same for every method and run with the same seed. */
export function noisyImage(img: LoadedImage, sigma: number, seed: number): Float32Array {
  return applyNoise({ type: 'gaussian', sigma, clip: false, realizations: 1 }, img.data, forkRng(seed, 'eval', img.name, sigma));
}

/** Evaluates `fn` on `images` at each σ; returns per-image rows and per-σ means. */
export async function evaluateMethod(
  method: string,
  fn: DenoiseFn,
  images: readonly LoadedImage[],
  sigmas: readonly number[],
  seed = 0,
): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  const rows: EvalRow[] = [];
  const summaries: EvalSummary[] = [];
  for (const sigma of sigmas) {
    const mine: EvalRow[] = [];
    for (const img of images) {
      const noisy = noisyImage(img, sigma, seed);
      const t0 = performance.now();
      const out = await fn(noisy, img.width, img.height, img.channels, sigma);
      const seconds = (performance.now() - t0) / 1000;
      const before = quality(noisy, img.data, img.height, img.width, img.channels);
      const after = quality(out, img.data, img.height, img.width, img.channels);
      mine.push({
        image: path.basename(img.name), sigma, seconds,
        noisyPsnr: before.psnr, noisySsim: before.ssim, psnr: after.psnr, ssim: after.ssim,
      });
    }
    const mean = (k: keyof EvalRow) => mine.reduce((a, r) => a + (r[k] as number), 0) / Math.max(mine.length, 1);
    summaries.push({
      method, sigma, images: mine.length, noisyPsnr: mean('noisyPsnr'), noisySsim: mean('noisySsim'),
      psnr: mean('psnr'), ssim: mean('ssim'), secondsPerImage: mean('seconds'),
    });
    rows.push(...mine);
  }
  return { rows, summaries };
}

/** Markdown table of summaries (one row per method and σ). */
export function summaryTable(data: string, summaries: readonly EvalSummary[]): string {
  const lines = [
    `Data: ${data}`,
    '',
    '| method | σ | images | PSNR (dB) | SSIM | noisy PSNR | noisy SSIM | s/image | note |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summaries) {
    lines.push(
      `| ${s.method} | ${s.sigma} | ${s.images} | ${s.psnr.toFixed(3)} | ${s.ssim.toFixed(4)} | ${s.noisyPsnr.toFixed(2)} | ${s.noisySsim.toFixed(3)} | ${s.secondsPerImage.toFixed(3)} | ${s.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}
