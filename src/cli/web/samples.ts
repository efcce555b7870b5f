/**
 * Sample images for the page, generated (never downloaded) from the `mnist` package's digits:
 * a 256×256 grid of digits at their native 28 px, one digit enlarged ×8, and a 1024×768 grid
 * that the page denoises in tiles. Gray 8-bit PNGs, deterministic.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SampleEntry } from '../../../web/src/site-config';
import { loadMnistPackage, type ImageSet } from '../../data/mnist';
import { encodePng } from '../../images/png';

const DIGIT = 28;

/** Digit `k` of a spread-out sequence (the package stores digits grouped by class). */
function digit(set: ImageSet, k: number): Float32Array {
  const i = (k * 997 + 13) % set.count;
  return set.images.subarray(i * DIGIT * DIGIT, (i + 1) * DIGIT * DIGIT);
}

/** A black width×height image with a centered grid of native-size digits. */
export function digitGrid(set: ImageSet, width: number, height: number, first = 0): Float32Array {
  const out = new Float32Array(width * height);
  const cols = Math.floor(width / DIGIT);
  const rows = Math.floor(height / DIGIT);
  const x0 = Math.floor((width - cols * DIGIT) / 2);
  const y0 = Math.floor((height - rows * DIGIT) / 2);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const d = digit(set, first + r * cols + c);
      for (let y = 0; y < DIGIT; y++) out.set(d.subarray(y * DIGIT, (y + 1) * DIGIT), (y0 + r * DIGIT + y) * width + x0 + c * DIGIT);
    }
  }
  return out;
}

/** Bilinear enlargement of a gray image by an integer factor (pixel centers aligned). */
export function enlarge(src: Float32Array, width: number, height: number, factor: number): Float32Array {
  const W = width * factor;
  const H = height * factor;
  const out = new Float32Array(W * H);
  const at = (x: number, y: number) => src[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))];
  for (let Y = 0; Y < H; Y++) {
    const fy = (Y + 0.5) / factor - 0.5;
    const y = Math.floor(fy);
    const ty = fy - y;
    for (let X = 0; X < W; X++) {
      const fx = (X + 0.5) / factor - 0.5;
      const x = Math.floor(fx);
      const tx = fx - x;
      const top = at(x, y) * (1 - tx) + at(x + 1, y) * tx;
      const bottom = at(x, y + 1) * (1 - tx) + at(x + 1, y + 1) * tx;
      out[Y * W + X] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/**
 * Writes the sample PNGs into `<dir>/samples/` and returns their index entries (URLs relative to `dir`).
 */
export async function writeSamples(dir: string): Promise<SampleEntry[]> {
  const set = loadMnistPackage();
  const specs: Array<{ id: string; label: string; width: number; height: number; data: () => Float32Array }> = [
    { id: 'digits-256', label: 'MNIST digits, 256×256', width: 256, height: 256, data: () => digitGrid(set, 256, 256) },
    { id: 'digit-x8', label: 'one digit enlarged ×8, 224×224', width: 224, height: 224, data: () => enlarge(digit(set, 4), DIGIT, DIGIT, 8) },
    { id: 'digits-1024x768', label: 'MNIST digits, 1024×768 (tiled)', width: 1024, height: 768, data: () => digitGrid(set, 1024, 768, 100) },
  ];
  fs.mkdirSync(path.join(dir, 'samples'), { recursive: true });
  const entries: SampleEntry[] = [];
  for (const s of specs) {
    const url = `samples/${s.id}.png`;
    fs.writeFileSync(path.join(dir, url), await encodePng(s.data(), s.width, s.height, 1));
    entries.push({ id: s.id, label: s.label, url, width: s.width, height: s.height });
  }
  return entries;
}
