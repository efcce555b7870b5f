/** NCHW ↔ NHWC conversion of dense float32 batches (ONNX is NCHW, TF.js convolutions are NHWC). */

export function nhwcToNchw(src: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  if (c === 1) return src.slice(0, n * h * w);
  const out = new Float32Array(n * h * w * c);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    for (let p = 0; p < hw; p++) {
      for (let k = 0; k < c; k++) out[base + k * hw + p] = src[base + p * c + k];
    }
  }
  return out;
}

export function nchwToNhwc(src: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  if (c === 1) return src.slice(0, n * h * w);
  const out = new Float32Array(n * h * w * c);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    for (let k = 0; k < c; k++) {
      const plane = base + k * hw;
      for (let p = 0; p < hw; p++) out[base + p * c + k] = src[plane + p];
    }
  }
  return out;
}

/** Copies rows `indices` (each `rowSize` values) of `src` into one new array. */
export function gatherRows(src: Float32Array, rowSize: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * rowSize);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    out.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
  }
  return out;
}

/** `parts` copied one after another into `out` (sized to their total length by the caller). */
function concatInto<T extends Float32Array | Uint8Array>(out: T, parts: readonly T[]): T {
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const totalLength = (parts: ReadonlyArray<{ length: number }>) => parts.reduce((a, p) => a + p.length, 0);

/** The arrays one after another in one new array. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  return concatInto(new Float32Array(totalLength(parts)), parts);
}

/** The byte arrays one after another in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concatInto(new Uint8Array(totalLength(parts)), parts);
}
