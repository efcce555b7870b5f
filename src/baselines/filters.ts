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
});
