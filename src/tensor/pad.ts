/**
 * Reflect padding at the bottom/right of NHWC batches (what the exported graph's Pad nodes do:
 * reflect, then edge where a side is too short), so images whose sides are not multiples of the
 * encoder's stride can be denoised, and the matching crop back to the original size.
 * No file IO: the page's denoise uses it too.
 */

/** Extra rows/columns that bring `size` up to a multiple of `multiple`. */
export function padAmount(size: number, multiple: number): number {
  return (multiple - (size % multiple)) % multiple;
}

/**
 * Pads [n,h,w,c] to [n,h+ph,w+pw,c] by mirroring without repeating the edge (numpy 'reflect'); where a side is
 * too short to mirror that far (pad ≥ side), the mirror's last value repeats: the exported graph's reflect Pad
 * of min(pad, side − 1) followed by an edge Pad of the rest.
 */
export function reflectPadNhwc(src: Float32Array, n: number, h: number, w: number, c: number, ph: number, pw: number): Float32Array {
  if (!ph && !pw) return src;
  const H = h + ph;
  const W = w + pw;
  const out = new Float32Array(n * H * W * c);
  const mirror = (i: number, size: number) => (i < size ? i : Math.max(0, 2 * (size - 1) - i));
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < H; y++) {
      const sy = mirror(y, h);
      for (let x = 0; x < W; x++) {
        const sx = mirror(x, w);
        const s = ((b * h + sy) * w + sx) * c;
        const d = ((b * H + y) * W + x) * c;
        for (let k = 0; k < c; k++) out[d + k] = src[s + k];
      }
    }
  }
  return out;
}

/** Crops [n,H,W,c] to its top-left [n,h,w,c]. */
export function cropNhwc(src: Float32Array, n: number, H: number, W: number, c: number, h: number, w: number): Float32Array {
  if (H === h && W === w) return src;
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const s = ((b * H + y) * W) * c;
      out.set(src.subarray(s, s + w * c), ((b * h + y) * w) * c);
    }
  }
  return out;
}
