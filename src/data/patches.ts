/** Seeded random square patches with dihedral augmentation (flips and 90° rotations), drawn once. */
import type { Rng } from '../random';

/**
 * Copies a `size`×`size` patch at (y, x) from an HWC image, transformed by one of the 8
 * dihedral transforms (`t` in 0..7: bit 0 flips horizontally, bit 1 flips vertically, bit 2 transposes).
 */
export function extractPatch(
  img: Float32Array, width: number, channels: number, y: number, x: number, size: number, t: number, out: Float32Array, offset: number,
): void {
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let a = i;
      let b = j;
      if (t & 4) [a, b] = [b, a];
      if (t & 1) b = size - 1 - b;
      if (t & 2) a = size - 1 - a;
      const src = ((y + a) * width + (x + b)) * channels;
      const dst = offset + (i * size + j) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = img[src + c];
    }
  }
}

/** Position and transform of one random patch. */
export function drawPatch(rng: Rng, height: number, width: number, size: number, augment: boolean): { y: number; x: number; t: number } {
  return { y: rng.int(height - size + 1), x: rng.int(width - size + 1), t: augment ? rng.int(8) : 0 };
}
