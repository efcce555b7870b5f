/**
 * The decoded form shared by the pure-TypeScript decoders (BMP, PNM): integer samples plus the
 * value that means full scale. No `node:` imports: the browser page decodes with the same code.
 */

/** Integer samples, HWC, 1 (gray) or 3 (RGB) channels; `maxval` is full scale (255, 65535, or a PNM's maxval). */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  samples: Uint8Array | Uint16Array;
  maxval: number;
}

/** Thrown by the decoders for a malformed or unsupported file; callers add the file name. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/**
 * Samples scaled to [0, 1] by `maxval`.
 * @returns a new Float32Array of the same length
 */
export function rasterToFloat(r: Raster): Float32Array {
  const out = new Float32Array(r.samples.length);
  const scale = 1 / r.maxval;
  for (let i = 0; i < out.length; i++) out[i] = r.samples[i] * scale;
  return out;
}

/**
 * RGBA bytes for a canvas (8-bit, opaque); deeper samples are rounded to 8 bits.
 * @returns a new Uint8ClampedArray of width × height × 4
 */
export function rasterToRgba(r: Raster): Uint8ClampedArray {
  const n = r.width * r.height;
  const out = new Uint8ClampedArray(n * 4);
  const scale = 255 / r.maxval;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) out[p * 4 + k] = Math.round(r.samples[p * r.channels + (r.channels === 1 ? 0 : k)] * scale);
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** Refuses a declared size before allocating for it. */
export function checkDeclaredSize(width: number, height: number, maxPixels: number): void {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new DecodeError(`the header declares a ${width}×${height} image`);
  }
  if (width * height > maxPixels) {
    throw new DecodeError(
      `the header declares ${width}×${height} pixels (${(width * height / 1e6).toFixed(0)} MP), more than the ` +
        `${(maxPixels / 1e6).toFixed(0)} MP allowed; refused before decoding`,
    );
  }
}
