/** Grid layout: dimensions, pixel placement, nearest upscaling, labels and the PNG writer. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cellOrigin, makeGrid, writeGrid } from '../../../src/images/grid';
import { readImage } from '../../../src/images/png';

/** A w×h gray image whose pixel (x, y) is `base + (y·w + x)/100`. */
function ramp(w: number, h: number, base: number): Float32Array {
  return Float32Array.from({ length: w * h }, (_, i) => base + i / 100);
}

describe('makeGrid', () => {
  it('has the documented size: cols·w·s + (cols+1)·pad by rows·h·s + (rows+1)·pad', () => {
    const images = () => [0, 1, 2, 3].map(() => new Float32Array(28 * 28));
    const rows = ['clean', 'noisy', 'denoised'].map((label) => ({ label, images: images() }));
    const g = makeGrid(rows, { width: 28, height: 28, channels: 1 });
    expect([g.width, g.height]).toEqual([4 * 56 + 5 * 2, 3 * 56 + 4 * 2]);
    expect([g.rows, g.cols]).toEqual([3, 4]);
    expect(g.labels).toEqual(['clean', 'noisy', 'denoised']);
    expect(g.data.length).toBe(g.width * g.height);
  });

  it('places each image in its cell, scaled by nearest neighbour, with background around', () => {
    const w = 3;
    const h = 2;
    const opts = { width: w, height: h, channels: 1 as const, scale: 2, pad: 1, background: 0.9 };
    const rows = [
      { label: 'a', images: [ramp(w, h, 0), ramp(w, h, 0.1)] },
      { label: 'b', images: [ramp(w, h, 0.2)] }, // shorter row: second cell stays background
    ];
    const g = makeGrid(rows, opts);
    expect([g.width, g.height]).toEqual([2 * 6 + 3, 2 * 4 + 3]);
    const px = (x: number, y: number) => g.data[y * g.width + x];
    rows.forEach((row, r) =>
      row.images.forEach((img, c) => {
        const o = cellOrigin(r, c, opts);
        for (let y = 0; y < h * 2; y++) {
          for (let x = 0; x < w * 2; x++) {
            expect(px(o.x + x, o.y + y)).toBeCloseTo(img[Math.floor(y / 2) * w + Math.floor(x / 2)], 6);
          }
        }
      }),
    );
    expect(cellOrigin(1, 1, opts)).toEqual({ x: 1 + 6 + 1, y: 1 + 4 + 1 });
    // Cell (1, 1) is empty; the border and gaps are background.
    expect(px(8, 6)).toBeCloseTo(0.9, 6);
    expect(px(0, 0)).toBeCloseTo(0.9, 6);
    expect(px(7, 3)).toBeCloseTo(0.9, 6); // vertical gap between columns
    // Spot checks by hand: image (0,1) pixel (x=2, y=1) = 0.1 + 5/100 lands at grid (8 + 4..5, 1 + 2..3).
    expect(px(12, 3)).toBeCloseTo(0.15, 6);
    expect(px(13, 4)).toBeCloseTo(0.15, 6);
  });

  it('keeps RGB channels interleaved', () => {
    const img = Float32Array.from([0.1, 0.2, 0.3]); // 1×1 RGB
    const g = makeGrid([{ label: 'rgb', images: [img] }], { width: 1, height: 1, channels: 3, scale: 3, pad: 0 });
    expect([g.width, g.height, g.channels]).toEqual([3, 3, 3]);
    for (let i = 0; i < 9; i++) expect(Array.from(g.data.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(img));
  });

  it('rejects wrong image sizes and bad options', () => {
    const opts = { width: 2, height: 2, channels: 1 as const };
    const wrong = [{ label: 'x', images: [new Float32Array(3)] }];
    expect(() => makeGrid(wrong, opts)).toThrow(/row 'x' image 0 has 3 values/);
    expect(() => makeGrid([], opts)).toThrow(/no rows/);
    expect(() => makeGrid([{ label: 'x', images: [] }], { ...opts, scale: 1.5 })).toThrow(/scale/);
  });
});

describe('writeGrid', () => {
  it('writes a PNG whose pixels are the grid (on the 8-bit grid)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-grid-'));
    try {
      const rows = [
        { label: 'clean', images: [new Float32Array(4).fill(1), new Float32Array(4).fill(0)] },
        { label: 'noisy', images: [new Float32Array(4).fill(0.2), new Float32Array(4).fill(0.4)] },
      ];
      const file = path.join(dir, 'grid.png');
      const out = await writeGrid(file, rows, { width: 2, height: 2, channels: 1, scale: 2, background: 0.5 });
      expect(out).toEqual({ width: 14, height: 14, labels: ['clean', 'noisy'] });
      const img = await readImage(file);
      const expected = makeGrid(rows, { width: 2, height: 2, channels: 1, scale: 2, background: 0.5 });
      expect(img.data).toBeCloseToArray(Array.from(expected.data, (v) => Math.round(v * 255) / 255), { atol: 1e-6 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
