/**
 * Before/after grids with captions: one column per sample, rows clean | noisy | denoised, the
 * PSNR (dB) of the noisy and denoised tiles printed under them and row labels on the left,
 * drawn with a built-in 5×7 pixel font (no system fonts needed). `ImageGrid` is the training
 * callback that writes one such PNG per epoch from the validation split and hands it to TensorBoard.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { encodePng } from '../../src/images/png';
import { writeFileAtomic } from '../../src/io/atomic';
import { psnr } from '../../src/metrics/psnr';
import { cropNhwc } from '../../src/tensor/pad';
import { Callback, type Logs } from './callbacks';
import type { TrainSplit } from './loop';
import { predictRows } from './predict';
import type { TensorBoardWriter } from './tensorboard';

/** 5×7 glyphs, 7 rows of 5 columns per character ('#' = ink): digits and the letters the grids use. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  '-': ['.....', '.....', '.....', '.###.', '.....', '.....', '.....'],
  'a': ['.....', '.....', '.###.', '....#', '.####', '#...#', '.####'],
  'c': ['.....', '.....', '.###.', '#....', '#....', '#...#', '.###.'],
  'd': ['....#', '....#', '.##.#', '#..##', '#...#', '#...#', '.####'],
  'e': ['.....', '.....', '.###.', '#...#', '#####', '#....', '.###.'],
  'i': ['..#..', '.....', '.##..', '..#..', '..#..', '..#..', '.###.'],
  'l': ['.##..', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  'n': ['.....', '.....', '#.##.', '##..#', '#...#', '#...#', '#...#'],
  'o': ['.....', '.....', '.###.', '#...#', '#...#', '#...#', '.###.'],
  's': ['.....', '.....', '.####', '#....', '.###.', '....#', '####.'],
  'y': ['.....', '.....', '#...#', '#...#', '.####', '....#', '.###.'],
  'B': ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
});

const GLYPH_W = 5;
const GLYPH_H = 7;

/** Width in pixels of `text` at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length * (GLYPH_W + 1) * scale;
}

/** Draws `text` into an HWC image (ink value `ink` on every channel); unknown characters are skipped. */
export function drawText(img: Float32Array, width: number, channels: number, x0: number, y0: number, text: string, ink = 0, scale = 1): void {
  const height = img.length / (width * channels);
  [...text].forEach((ch, k) => {
    const g = GLYPHS[ch];
    if (!g) return;
    for (let gy = 0; gy < GLYPH_H; gy++) {
      for (let gx = 0; gx < GLYPH_W; gx++) {
        if (g[gy][gx] !== '#') continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const x = x0 + (k * (GLYPH_W + 1) + gx) * scale + sx;
            const y = y0 + gy * scale + sy;
            if (x < 0 || y < 0 || x >= width || y >= height) continue;
            for (let c = 0; c < channels; c++) img[(y * width + x) * channels + c] = ink;
          }
        }
      }
    }
  });
}

export interface GridTiles {
  clean: Float32Array[];
  noisy: Float32Array[];
  denoised: Float32Array[];
  /** Tile size (HWC, values in [0,1]). */
  width: number;
  height: number;
  channels: 1 | 3;
}

/** A composed grid image plus the per-tile PSNRs printed on it. */
export interface AnnotatedGrid {
  data: Float32Array;
  width: number;
  height: number;
  channels: 1 | 3;
  psnr: { noisy: number[]; denoised: number[] };
}

/**
 * Lays out clean | noisy | denoised rows with PSNR captions under the noisy and denoised tiles.
 * @param scale integer upscaling of the tiles (default: 3 for tiles under 64 px, else 1)
 */
export function annotatedGrid(t: GridTiles, scale = t.width < 64 ? 3 : 1): AnnotatedGrid {
  const pad = 4;
  const caption = GLYPH_H + 4;
  const rows = [
    { label: 'clean', tiles: t.clean, captions: null as number[] | null },
    { label: 'noisy', tiles: t.noisy, captions: t.noisy.map((x, i) => psnr(x, t.clean[i])) },
    { label: 'denoised', tiles: t.denoised, captions: t.denoised.map((x, i) => psnr(x, t.clean[i])) },
  ];
  const labelW = textWidth('denoised') + pad;
  const cellW = Math.max(t.width * scale, textWidth('00.00 dB'));
  const cellH = t.height * scale + caption;
  const cols = Math.max(1, t.clean.length);
  const W = labelW + cols * (cellW + pad) + pad;
  const H = rows.length * (cellH + pad) + pad;
  const C = t.channels;
  const img = new Float32Array(W * H * C).fill(1);
  rows.forEach((row, r) => {
    const y0 = pad + r * (cellH + pad);
    drawText(img, W, C, 2, y0 + Math.floor((t.height * scale - GLYPH_H) / 2), row.label);
    row.tiles.forEach((tile, col) => {
      const x0 = labelW + pad + col * (cellW + pad) + Math.floor((cellW - t.width * scale) / 2);
      for (let y = 0; y < t.height * scale; y++) {
        const sy = Math.floor(y / scale);
        for (let x = 0; x < t.width * scale; x++) {
          const s = (sy * t.width + Math.floor(x / scale)) * C;
          const d = ((y0 + y) * W + x0 + x) * C;
          for (let k = 0; k < C; k++) img[d + k] = Math.min(1, Math.max(0, tile[s + k]));
        }
      }
      const p = row.captions?.[col];
      if (p !== undefined) {
        const text = `${Number.isFinite(p) ? p.toFixed(2) : 'inf'} dB`.replace('inf', '-');
        drawText(img, W, C, labelW + pad + col * (cellW + pad) + Math.floor((cellW - textWidth(text)) / 2), y0 + t.height * scale + 2, text);
      }
    });
  });
  return { data: img, width: W, height: H, channels: C, psnr: { noisy: rows[1].captions ?? [], denoised: rows[2].captions ?? [] } };
}

/** Writes an annotated grid as PNG (atomically); returns the PNG bytes and the grid. */
export async function writeAnnotatedGrid(file: string, t: GridTiles): Promise<{ png: Buffer; grid: AnnotatedGrid }> {
  const grid = annotatedGrid(t);
  const png = await encodePng(grid.data, grid.width, grid.height, grid.channels);
  writeFileAtomic(file, png);
  return { png, grid };
}

/** Tiles of the first `n` samples of a split: clean target, the noisy input (`noisyInput`, cropped to the target), the output clipped. */
export function splitTiles(tf: Parameters<typeof predictRows>[0], model: TfModule.LayersModel, split: TrainSplit, n: number, noisyInput = split.inputs.length - 1): GridTiles {
  const [h, w, c] = split.target.shape;
  const count = Math.min(n, split.count);
  const pix = h * w * c;
  const noisyArr = split.inputs[noisyInput];
  const [nh, nw] = noisyArr.shape;
  const noisy = nh === h && nw === w ? noisyArr.data : cropNhwc(noisyArr.data.subarray(0, count * nh * nw * c), count, nh, nw, c, h, w);
  const out = predictRows(tf, model, split.inputs, count, true);
  const outPix = out.length / Math.max(count, 1);
  const [oh, ow] = outPix === pix ? [h, w] : [nh, nw];
  const denoised = outPix === pix ? out : cropNhwc(out, count, oh, ow, c, h, w);
  const at = (a: Float32Array, i: number) => a.slice(i * pix, (i + 1) * pix);
  return {
    clean: Array.from({ length: count }, (_, i) => at(split.target.data, i)),
    noisy: Array.from({ length: count }, (_, i) => at(noisy, i)),
    denoised: Array.from({ length: count }, (_, i) => at(denoised, i)),
    width: w,
    height: h,
    channels: c as 1 | 3,
  };
}

/**
 * Callback: at each epoch end, denoises the first `samples` validation samples and writes
 * `<dir>/epoch-0001.png` (and the same image to TensorBoard as `val/grid`).
 */
export class ImageGrid extends Callback {
  constructor(readonly dir: string, readonly split: TrainSplit, readonly samples = 8, readonly tensorboard?: TensorBoardWriter) {
    super();
  }

  override async onEpochEnd(epoch: number, _logs: Logs = {}): Promise<void> {
    if (this.samples <= 0 || !this.split.count) return;
    const t = this.trainer;
    const tiles = splitTiles(t.tf, t.model, this.split, this.samples);
    fs.mkdirSync(this.dir, { recursive: true });
    const { png, grid } = await writeAnnotatedGrid(path.join(this.dir, `epoch-${String(epoch + 1).padStart(4, '0')}.png`), tiles);
    this.tensorboard?.image('val/grid', png, grid.width, grid.height, grid.channels);
  }
}
