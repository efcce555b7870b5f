/**
 * Before/after grids for reports: one row per series (e.g. clean | noisy | denoised), one image
 * per column, each scaled up by an integer factor (nearest neighbour) so 28×28 digits are
 * visible, separated by `pad` pixels. No text is drawn; the row label order is returned for captions.
 */
import { writePng } from './png';

/** One row of the grid. */
export interface GridRow {
  label: string;
  /** HWC images of the size given in the options, values in [0, 1]. */
  images: ArrayLike<number>[];
}

/** Cell geometry and spacing. */
export interface GridOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Integer upscaling factor (default 2). */
  scale?: number;
  /** Pixels between cells and around the border (default 2). */
  pad?: number;
  /** Value of padding and empty cells (default 1, white). */
  background?: number;
}

/** A composed grid image. */
export interface Grid {
  data: Float32Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** Row labels top to bottom. */
  labels: string[];
  rows: number;
  cols: number;
}

/**
 * Top-left pixel of cell (row, col) in a grid built with these options.
 * @returns x and y in grid pixels
 */
export function cellOrigin(row: number, col: number, opts: GridOptions): { x: number; y: number } {
  const scale = opts.scale ?? 2;
  const pad = opts.pad ?? 2;
  return { x: pad + col * (opts.width * scale + pad), y: pad + row * (opts.height * scale + pad) };
}

/**
 * Lays out rows of images in one picture.
 * @throws {RangeError} on a non-integer scale, negative pad, no rows, or an image of the wrong size
 */
export function makeGrid(rows: readonly GridRow[], opts: GridOptions): Grid {
  const { width: w, height: h, channels: c } = opts;
  const scale = opts.scale ?? 2;
  const pad = opts.pad ?? 2;
  const background = opts.background ?? 1;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`makeGrid: scale must be a positive integer, got ${scale}`);
  }
  if (!Number.isInteger(pad) || pad < 0) {
    throw new RangeError(`makeGrid: pad must be a non-negative integer, got ${pad}`);
  }
  if (rows.length === 0) throw new RangeError('makeGrid: no rows');
  const cols = Math.max(1, ...rows.map((r) => r.images.length));
  const gw = cols * w * scale + (cols + 1) * pad;
  const gh = rows.length * h * scale + (rows.length + 1) * pad;
  const data = new Float32Array(gw * gh * c).fill(background);
  rows.forEach((row, r) => {
    row.images.forEach((img, col) => {
      if (img.length !== w * h * c) {
        const got = `row '${row.label}' image ${col} has ${img.length} values`;
        throw new RangeError(`makeGrid: ${got}, expected ${w}×${h}×${c}`);
      }
      const { x: x0, y: y0 } = cellOrigin(r, col, opts);
      for (let y = 0; y < h * scale; y++) {
        const sy = Math.floor(y / scale);
        for (let x = 0; x < w * scale; x++) {
          const src = (sy * w + Math.floor(x / scale)) * c;
          const dst = ((y0 + y) * gw + x0 + x) * c;
          for (let k = 0; k < c; k++) data[dst + k] = img[src + k];
        }
      }
    });
  });
  return { data, width: gw, height: gh, channels: c, labels: rows.map((r) => r.label), rows: rows.length, cols };
}

/**
 * Builds a grid and writes it as an 8-bit PNG (atomically).
 * @returns the grid's size and row label order (for a caption)
 */
export async function writeGrid(
  file: string,
  rows: readonly GridRow[],
  opts: GridOptions,
): Promise<{ width: number; height: number; labels: string[] }> {
  const g = makeGrid(rows, opts);
  await writePng(file, g.data, g.width, g.height, g.channels);
  return { width: g.width, height: g.height, labels: g.labels };
}
