/**
 * The evaluation protocol for any denoiser: clean test images in [0,1], seeded Gaussian noise
 * N(0, σ/255) added without clipping, output clipped to [0,1], PSNR (peak 1) and SSIM
 * (scikit-image defaults) per image, means over the set, and the time per image.
 * With real noisy/clean pairs (`evaluatePairs`) the noisy image is the pair's own and the
 * "σ" of the rows and summaries is `'real'`; the rest of the protocol is the same.
 */
import * as path from 'node:path';
import { listImages, loadImageAs, type LoadedImage } from '../data/folder';
import { listPairs, loadPair } from '../data/pairs';
import { quality } from '../metrics/quality';
import { applyNoise } from '../noise';
import { forkRng } from '../random';

/**
 * A denoiser under test. `sigma` (0–255 scale) is the true σ of synthetic noise, or with real pairs
 * the σ of the pair's noise measured against its clean image (RMS of noisy − clean); only
 * noise-aware methods (NLM) use it.
 */
export type DenoiseFn = (noisy: Float32Array, width: number, height: number, channels: number, sigma: number) => Promise<Float32Array>;

/** The noise condition of a row or summary: σ of seeded Gaussian noise (0–255 scale), or `'real'` for real pairs. */
export type EvalNoise = number | 'real';

export interface EvalRow {
  /** The image file name, or with pairs the pair name (the common prefix of its two files). */
  image: string;
  sigma: EvalNoise;
  noisyPsnr: number;
  noisySsim: number;
  psnr: number;
  ssim: number;
  seconds: number;
}

export interface EvalSummary {
  method: string;
  sigma: EvalNoise;
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

/** One image to score: the input the method sees, its clean reference and the σ the method is told. */
export interface EvalCase {
  image: string;
  noisy: Float32Array;
  clean: LoadedImage;
  /** 0–255 scale: the true σ, or for real noise the RMS of noisy − clean. */
  sigma: number;
}

/** One noise condition of an evaluation: its label (σ or `'real'`) and its cases. */
export interface EvalSet {
  sigma: EvalNoise;
  cases: readonly EvalCase[];
}

/** A real noisy/clean pair loaded for evaluation. */
export interface EvalPair {
  name: string;
  noisy: LoadedImage;
  clean: LoadedImage;
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

/** Options for {@link loadTestPairs}. */
export interface PairEvalOptions {
  /** Folder holding both images of every pair. */
  data: string;
  channels: 1 | 3;
  /** File-name suffix of the noisy image (default `_real`, PolyU). */
  noisySuffix?: string;
  /** File-name suffix of the clean image (default `_mean`, PolyU). */
  cleanSuffix?: string;
  limit?: number;
}

/**
 * Loads the first `limit` pairs of `data` (sorted by name; found as the `pairs` data source finds them).
 * @throws InputError naming the folder when it holds no pair, or naming the file for an unmatched,
 *   unreadable, smaller than 7×7 or differently sized image
 */
export async function loadTestPairs(opts: PairEvalOptions): Promise<EvalPair[]> {
  const found = listPairs({ dir: opts.data, noisy_suffix: opts.noisySuffix ?? '_real', clean_suffix: opts.cleanSuffix ?? '_mean' });
  const pairs: EvalPair[] = [];
  for (const p of found.slice(0, opts.limit)) {
    pairs.push({ name: p.name, ...(await loadPair(p, opts.channels, MIN_EVAL_SIDE, 'the 7×7 SSIM window')) });
  }
  return pairs;
}

/** The noisy version of `img` at `sigma`: the same for every method and run with the same seed. */
export function noisyImage(img: LoadedImage, sigma: number, seed: number): Float32Array {
  // Keyed by the name without its extension: a set converted to another format (BMP → PNG) gets the same noise and scores.
  const stem = path.basename(img.name, path.extname(img.name));
  return applyNoise({ type: 'gaussian', sigma, clip: false, realizations: 1 }, img.data, forkRng(seed, 'eval', stem, sigma));
}

/** Scores `fn` on every case of `set`: per-image rows and their mean. */
export async function evaluateSet(method: string, fn: DenoiseFn, set: EvalSet): Promise<{ rows: EvalRow[]; summary: EvalSummary }> {
  const rows: EvalRow[] = [];
  for (const c of set.cases) {
    const img = c.clean;
    const t0 = performance.now();
    const out = await fn(c.noisy, img.width, img.height, img.channels, c.sigma);
    const seconds = (performance.now() - t0) / 1000;
    const before = quality(c.noisy, img.data, img.height, img.width, img.channels);
    const after = quality(out, img.data, img.height, img.width, img.channels);
    rows.push({
      image: c.image, sigma: set.sigma, seconds,
      noisyPsnr: before.psnr, noisySsim: before.ssim, psnr: after.psnr, ssim: after.ssim,
    });
  }
  const mean = (k: 'noisyPsnr' | 'noisySsim' | 'psnr' | 'ssim' | 'seconds') => rows.reduce((a, r) => a + r[k], 0) / Math.max(rows.length, 1);
  const summary: EvalSummary = {
    method, sigma: set.sigma, images: rows.length, noisyPsnr: mean('noisyPsnr'), noisySsim: mean('noisySsim'),
    psnr: mean('psnr'), ssim: mean('ssim'), secondsPerImage: mean('seconds'),
  };
  return { rows, summary };
}

/** The seeded synthetic-noise set of `images` at `sigma` (the same for every method and run with the same seed). */
export function gaussianSet(images: readonly LoadedImage[], sigma: number, seed = 0): EvalSet {
  return { sigma, cases: images.map((img) => ({ image: path.basename(img.name), noisy: noisyImage(img, sigma, seed), clean: img, sigma })) };
}

/**
 * The set of real pairs. Each case's σ (told to noise-aware methods only) is the pair's own noise
 * level measured against its clean image, RMS(noisy − clean) on the 0–255 scale: the real-noise
 * counterpart of telling them the true σ of synthetic noise. (Blind estimates from the noisy image
 * alone, e.g. the MAD of fine wavelet details, see almost none of the spatially correlated,
 * JPEG-compressed noise of camera pairs such as PolyU: 0–0.7 where the RMS is 2–6.)
 */
export function pairSet(pairs: readonly EvalPair[]): EvalSet {
  return {
    sigma: 'real',
    cases: pairs.map((p) => ({ image: p.name, noisy: p.noisy.data, clean: p.clean, sigma: 255 * rms(p.noisy.data, p.clean.data) })),
  };
}

function rms(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / Math.max(a.length, 1));
}

/** Evaluates `fn` on each set (a generator makes one at a time); returns the rows of all sets and one summary per set. */
export async function evaluateSets(method: string, fn: DenoiseFn, sets: Iterable<EvalSet>): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  const rows: EvalRow[] = [];
  const summaries: EvalSummary[] = [];
  for (const set of sets) {
    const r = await evaluateSet(method, fn, set);
    rows.push(...r.rows);
    summaries.push(r.summary);
  }
  return { rows, summaries };
}

/** Evaluates `fn` on `images` at each σ; returns per-image rows and per-σ means. */
export async function evaluateMethod(
  method: string,
  fn: DenoiseFn,
  images: readonly LoadedImage[],
  sigmas: readonly number[],
  seed = 0,
): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  // A generator: one σ's noisy images are made and held at a time.
  function* sets(): Generator<EvalSet> {
    for (const sigma of sigmas) yield gaussianSet(images, sigma, seed);
  }
  return evaluateSets(method, fn, sets());
}

/** Evaluates `fn` on real noisy/clean pairs: rows and one summary with σ `'real'`. */
export async function evaluatePairs(method: string, fn: DenoiseFn, pairs: readonly EvalPair[]): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  return evaluateSets(method, fn, [pairSet(pairs)]);
}

/** Markdown table of summaries (one row per method and σ); `source` describes the data after its path. */
export function summaryTable(data: string, summaries: readonly EvalSummary[], source?: string): string {
  const lines = [
    `Data: ${data}${source ? ` (${source})` : ''}`,
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
