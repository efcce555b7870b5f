/**
 * SSIM with scikit-image `structural_similarity` defaults: 7×7 uniform window, data_range 1,
 * K1 0.01, K2 0.03, sample covariance (× NP/(NP−1)), mean of the SSIM map without the
 * (7−1)/2-pixel border, colour = mean over channels. Row prefix sums plus a sliding column sum
 * (a ring of w rows) give every window sum, so the cost per pixel does not depend on the window.
 */
import { checkSameLength, type NumericArray } from './mse';
import type { BatchShape } from './psnr';

/** Image geometry and SSIM constants; the defaults are scikit-image's. */
export interface SsimOptions {
  width: number;
  height: number;
  /** Interleaved channels (HWC): 1 for gray, 3 for RGB. Default 1. */
  channels?: number;
  /** Dynamic range of the pixel values (default 1). */
  dataRange?: number;
  /** Odd window side (default 7). */
  winSize?: number;
  /** Default 0.01. */
  k1?: number;
  /** Default 0.03. */
  k2?: number;
  /** Clip the first image (the model output) to [0, dataRange] first, as PSNR does (default true). */
  clip?: boolean;
}

/**
 * Mean SSIM of `output` against `clean` (HWC layout). Equals scikit-image's
 * `structural_similarity(clean, output, data_range=1, channel_axis=-1)` on float64 inputs
 * (it is symmetric in its two images); computed in float64.
 * @throws {RangeError} on mismatched lengths, bad geometry, or a window larger than the image
 */
export function ssim(output: NumericArray, clean: NumericArray, opts: SsimOptions): number {
  const { width: W, height: H } = opts;
  const C = opts.channels ?? 1;
  const w = opts.winSize ?? 7;
  checkSameLength(output, clean, 'ssim');
  if (![W, H, C].every((d) => Number.isInteger(d) && d > 0) || W * H * C !== output.length) {
    throw new RangeError(`ssim: ${W}×${H}×${C} does not match ${output.length} values`);
  }
  checkWindow(w, W, H);
  return imageSsim(output, clean, 0, W, H, C, w, opts);
}

function checkWindow(w: number, W: number, H: number): void {
  if (!Number.isInteger(w) || w < 3 || w % 2 === 0) {
    throw new RangeError(`ssim: winSize must be odd and >= 3, got ${w}`);
  }
  if (w > W || w > H) throw new RangeError(`ssim: winSize ${w} exceeds the image size ${W}×${H}`);
}

function imageSsim(
  output: NumericArray,
  clean: NumericArray,
  offset: number,
  W: number,
  H: number,
  C: number,
  w: number,
  opts: SsimOptions,
): number {
  let total = 0;
  for (let c = 0; c < C; c++) total += channelSsim(output, clean, offset + c, W, H, C, w, opts);
  return total / C;
}

function channelSsim(
  out: NumericArray,
  ref: NumericArray,
  first: number,
  W: number,
  H: number,
  C: number,
  w: number,
  opts: SsimOptions,
): number {
  const range = opts.dataRange ?? 1;
  const clip = opts.clip ?? true;
  const c1 = ((opts.k1 ?? 0.01) * range) ** 2;
  const c2 = ((opts.k2 ?? 0.03) * range) ** 2;
  const np = w * w;
  const covNorm = np / (np - 1); // use_sample_covariance=True
  const ow = W - w + 1;
  const oh = H - w + 1;

  // Horizontal window sums of x, y, x², y², xy per row (from row prefix sums) go into a ring of the
  // last w rows; acc holds their column sums, i.e. the w×w window sums for the current output row.
  const rowLen = 5 * ow;
  const ring = new Float64Array(w * rowLen);
  const acc = new Float64Array(rowLen);
  const px = new Float64Array(W + 1);
  const py = new Float64Array(W + 1);
  const pxx = new Float64Array(W + 1);
  const pyy = new Float64Array(W + 1);
  const pxy = new Float64Array(W + 1);
  let sum = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = first + (y * W + x) * C;
      let a = out[i];
      if (clip) a = a < 0 ? 0 : a > range ? range : a;
      const b = ref[i];
      px[x + 1] = px[x] + a;
      py[x + 1] = py[x] + b;
      pxx[x + 1] = pxx[x] + a * a;
      pyy[x + 1] = pyy[x] + b * b;
      pxy[x + 1] = pxy[x] + a * b;
    }
    const base = (y % w) * rowLen; // the slot of row y − w, which leaves the window now
    for (let x = 0; x < ow; x++) {
      const j = base + 5 * x;
      const k = 5 * x;
      const hx = px[x + w] - px[x];
      const hy = py[x + w] - py[x];
      const hxx = pxx[x + w] - pxx[x];
      const hyy = pyy[x + w] - pyy[x];
      const hxy = pxy[x + w] - pxy[x];
      acc[k] += hx - ring[j];
      acc[k + 1] += hy - ring[j + 1];
      acc[k + 2] += hxx - ring[j + 2];
      acc[k + 3] += hyy - ring[j + 3];
      acc[k + 4] += hxy - ring[j + 4];
      ring[j] = hx;
      ring[j + 1] = hy;
      ring[j + 2] = hxx;
      ring[j + 3] = hyy;
      ring[j + 4] = hxy;
    }
    if (y < w - 1) continue;
    for (let x = 0; x < ow; x++) {
      const j = 5 * x;
      const ux = acc[j] / np;
      const uy = acc[j + 1] / np;
      const vx = covNorm * (acc[j + 2] / np - ux * ux);
      const vy = covNorm * (acc[j + 3] / np - uy * uy);
      const vxy = covNorm * (acc[j + 4] / np - ux * uy);
      sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    }
  }
  return sum / (ow * oh);
}

/**
 * SSIM of each image of a batch.
 * @param shape [N, H, W, C] of both flat arrays
 */
export function batchSsim(
  output: NumericArray,
  clean: NumericArray,
  shape: BatchShape,
  opts: Omit<SsimOptions, 'width' | 'height' | 'channels'> = {},
): Float64Array {
  const [n, h, wd, c] = shape;
  checkSameLength(output, clean, 'ssim');
  const size = h * wd * c;
  if (![n, h, wd, c].every((d) => Number.isInteger(d) && d > 0) || n * size !== output.length) {
    throw new RangeError(`ssim: shape [${shape.join(', ')}] does not match ${output.length} values`);
  }
  const w = opts.winSize ?? 7;
  checkWindow(w, wd, h);
  const res = new Float64Array(n);
  for (let i = 0; i < n; i++) res[i] = imageSsim(output, clean, i * size, wd, h, c, w, opts as SsimOptions);
  return res;
}

/**
 * Mean of per-image SSIM over a batch.
 * @param shape [N, H, W, C] of both flat arrays
 */
export function meanSsim(
  output: NumericArray,
  clean: NumericArray,
  shape: BatchShape,
  opts: Omit<SsimOptions, 'width' | 'height' | 'channels'> = {},
): number {
  const values = batchSsim(output, clean, shape, opts);
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
