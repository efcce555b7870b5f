/**
 * Classical denoising baselines on float HWC images: Gaussian blur (separable, reflect borders)
 * and median filter. Written here rather than with sharp because sharp works on 8-bit pixels,
 * which would clip and quantize the unclipped noisy inputs of the evaluation protocol.
 */

/** Symmetric ('reflect' with the edge repeated) index, valid for any offset, also when the window exceeds the image. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** Gaussian blur with standard deviation `sigma` pixels (kernel radius ⌈3σ⌉). */
export function gaussianBlur(img: Float32Array, width: number, height: number, channels: number, sigma: number): Float32Array {
  if (sigma <= 0) return img.slice();
  const r = Math.ceil(3 * sigma);
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const tmp = new Float32Array(img.length);
  const out = new Float32Array(img.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let j = -r; j <= r; j++) acc += k[j + r] * img[(y * width + reflect(x + j, width)) * channels + c];
        tmp[(y * width + x) * channels + c] = acc;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let j = -r; j <= r; j++) acc += k[j + r] * tmp[(reflect(y + j, height) * width + x) * channels + c];
        out[(y * width + x) * channels + c] = acc;
      }
    }
  }
  return out;
}

/** Median of each `size`×`size` window (size odd), reflect borders. */
export function medianFilter(img: Float32Array, width: number, height: number, channels: number, size: number): Float32Array {
  if (size < 1 || size % 2 === 0) throw new RangeError(`median window must be odd and ≥ 1, got ${size}`);
  const r = (size - 1) / 2;
  const out = new Float32Array(img.length);
  const win = new Float32Array(size * size);
  const mid = (size * size - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let n = 0;
        for (let dy = -r; dy <= r; dy++) {
          const row = reflect(y + dy, height) * width;
          for (let dx = -r; dx <= r; dx++) win[n++] = img[(row + reflect(x + dx, width)) * channels + c];
        }
        win.sort();
        out[(y * width + x) * channels + c] = win[mid];
      }
    }
  }
  return out;
}

/**
 * Bilateral filter: each pixel is the average of its (2r+1)² neighbours weighted by spatial distance
 * (σ_s pixels) and by intensity difference (σ_r, in [0,1] units; per channel for RGB, joint distance).
 */
export function bilateralFilter(
  img: Float32Array, width: number, height: number, channels: number, sigmaRange: number, sigmaSpace = 1.5,
): Float32Array {
  const r = Math.ceil(2 * sigmaSpace);
  const out = new Float32Array(img.length);
  const spatial = new Float64Array((2 * r + 1) ** 2);
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) spatial[(dy + r) * (2 * r + 1) + dx + r] = Math.exp(-(dx * dx + dy * dy) / (2 * sigmaSpace * sigmaSpace));
  const inv = 1 / (2 * sigmaRange * sigmaRange);
  const acc = new Float64Array(channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      let wsum = 0;
      acc.fill(0);
      for (let dy = -r; dy <= r; dy++) {
        const row = reflect(y + dy, height) * width;
        for (let dx = -r; dx <= r; dx++) {
          const q = (row + reflect(x + dx, width)) * channels;
          let d2 = 0;
          for (let c = 0; c < channels; c++) d2 += (img[q + c] - img[p + c]) ** 2;
          const w = spatial[(dy + r) * (2 * r + 1) + dx + r] * Math.exp(-d2 * inv / channels);
          wsum += w;
          for (let c = 0; c < channels; c++) acc[c] += w * img[q + c];
        }
      }
      for (let c = 0; c < channels; c++) out[p + c] = acc[c] / wsum;
    }
  }
  return out;
}

/**
 * Non-local means (Buades et al.): each pixel is a weighted mean over a (2S+1)² search window, with
 * weights exp(−max(d² − 2σ², 0) / h²) from the mean squared difference d² of (2P+1)² patches. The patch
 * distances are box sums of per-offset squared differences (integral images), so the cost is
 * O(pixels × search window) rather than × patch size. `h` is given as a multiple of the noise σ.
 */
export function nonLocalMeans(
  img: Float32Array, width: number, height: number, channels: number, sigma: number, hFactor = 0.6, patchRadius = 2, searchRadius = 7,
): Float32Array {
  if (!(sigma > 0)) return img.slice(); // no noise: nothing to average away (and h = 0 would divide by 0)
  const W = width;
  const H = height;
  const N = W * H;
  const h2 = (hFactor * sigma) ** 2;
  const twoSigma2 = 2 * sigma * sigma;
  const acc = new Float64Array(img.length);
  const wsum = new Float64Array(N);
  const diff = new Float64Array((W + 1) * (H + 1));
  for (let oy = -searchRadius; oy <= searchRadius; oy++) {
    for (let ox = -searchRadius; ox <= searchRadius; ox++) {
      // Integral image of the squared difference between the image and its (ox, oy) shift.
      for (let y = 0; y < H; y++) {
        let rowSum = 0;
        const qy = reflect(y + oy, H);
        for (let x = 0; x < W; x++) {
          const p = (y * W + x) * channels;
          const q = (qy * W + reflect(x + ox, W)) * channels;
          let d = 0;
          for (let c = 0; c < channels; c++) d += (img[p + c] - img[q + c]) ** 2;
          rowSum += d;
          diff[(y + 1) * (W + 1) + x + 1] = diff[y * (W + 1) + x + 1] + rowSum;
        }
      }
      for (let y = 0; y < H; y++) {
        const y0 = Math.max(0, y - patchRadius);
        const y1 = Math.min(H, y + patchRadius + 1);
        const qy = reflect(y + oy, H);
        for (let x = 0; x < W; x++) {
          const x0 = Math.max(0, x - patchRadius);
          const x1 = Math.min(W, x + patchRadius + 1);
          const box = diff[y1 * (W + 1) + x1] - diff[y0 * (W + 1) + x1] - diff[y1 * (W + 1) + x0] + diff[y0 * (W + 1) + x0];
          const d2 = box / ((y1 - y0) * (x1 - x0) * channels);
          const w = Math.exp(-Math.max(d2 - twoSigma2, 0) / h2);
          const i = y * W + x;
          const q = (qy * W + reflect(x + ox, W)) * channels;
          wsum[i] += w;
          for (let c = 0; c < channels; c++) acc[i * channels + c] += w * img[q + c];
        }
      }
    }
  }
  const out = new Float32Array(img.length);
  for (let i = 0; i < N; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = acc[i * channels + c] / wsum[i];
  return out;
}

/** A baseline with the parameter values it is tried with (the best per σ is reported, as an upper bound). */
export interface Baseline {
  name: string;
  parameter: string;
  grid: readonly number[];
  apply(img: Float32Array, width: number, height: number, channels: number, p: number): Float32Array;
}

export const BASELINES: Readonly<Record<string, Baseline>> = Object.freeze({
  gaussian: { name: 'gaussian', parameter: 'sigma_px', grid: [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3], apply: gaussianBlur },
  median: { name: 'median', parameter: 'window', grid: [3, 5, 7], apply: medianFilter },
  bilateral: {
    name: 'bilateral', parameter: 'sigma_range', grid: [0.1, 0.2, 0.3, 0.4, 0.6],
    apply: (img, w, h, c, p) => bilateralFilter(img, w, h, c, p),
  },
});

/** Baselines whose parameter depends on the noise level they are applied to. */
export interface NoiseAwareBaseline {
  name: string;
  parameter: string;
  grid: readonly number[];
  apply(img: Float32Array, width: number, height: number, channels: number, p: number, sigma: number): Float32Array;
}

export const NOISE_AWARE_BASELINES: Readonly<Record<string, NoiseAwareBaseline>> = Object.freeze({
  nlm: {
    name: 'nlm', parameter: 'h/σ', grid: [0.4, 0.6, 0.8, 1.0],
    apply: (img, w, h, c, p, sigma) => nonLocalMeans(img, w, h, c, sigma / 255, p),
  },
});
