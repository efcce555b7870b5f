/**
 * Pictures and the report: annotated before/after grids (tile layout, PSNR captions drawn with
 * the built-in font) and report.html (self-contained: inline SVG curves, metrics tables, grids
 * as data URIs) from hand-made stage folders.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { buildReport, lineChart, writeRunReport } from '../../pipeline/report';
import type { EpochLog } from '../../pipeline/train/callbacks';
import { annotatedGrid, drawText, textWidth, writeAnnotatedGrid } from '../../pipeline/train/image-grid';
import { psnr } from '../../src/metrics/psnr';
import { tmpDir } from '../helpers/tmp';

const tile = (v: number, n = 8 * 8) => new Float32Array(n).fill(v);

describe('annotated grids', () => {
  it('draws text as ink pixels inside the given box only', () => {
    const W = 40;
    const img = new Float32Array(W * 10).fill(1);
    drawText(img, W, 1, 1, 1, '18.8 dB');
    const inked = [...img.keys()].filter((i) => img[i] === 0);
    expect(inked.length).toBeGreaterThan(20);
    for (const i of inked) {
      const [x, y] = [i % W, Math.floor(i / W)];
      expect(x).toBeGreaterThanOrEqual(1);
      expect(x).toBeLessThan(1 + textWidth('18.8 dB'));
      expect(y).toBeGreaterThanOrEqual(1);
      expect(y).toBeLessThan(8);
    }
  });

  it('lays out clean | noisy | denoised rows and reports the PSNR of each tile', async () => {
    const clean = [tile(0.5), tile(0.2)];
    const noisy = [tile(0.6), tile(0.5)];
    const denoised = [tile(0.52), tile(0.2)];
    const g = annotatedGrid({ clean, noisy, denoised, width: 8, height: 8, channels: 1 });
    expect(g.psnr.noisy).toBeCloseToArray([psnr(noisy[0], clean[0]), psnr(noisy[1], clean[1])], { atol: 1e-9 });
    expect(g.psnr.noisy[0]).toBeCloseTo(20, 4); // float32 0.6 − 0.5
    expect(g.psnr.denoised[1]).toBe(Infinity);
    expect(g.data.length).toBe(g.width * g.height);
    // Each tile is drawn ×3 (tiles under 64 px): a 24×24 block of the tile's value exists for every row.
    for (const v of [0.5, 0.6, 0.52]) expect(Array.from(g.data).filter((x) => Math.abs(x - v) < 1e-6).length).toBeGreaterThanOrEqual(24 * 24);
    const file = path.join(tmpDir(), 'g.png');
    await writeAnnotatedGrid(file, { clean, noisy, denoised, width: 8, height: 8, channels: 1 });
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([g.width, g.height, 1]);
  });
});

const history: EpochLog[] = [1, 2, 3].map((e) => ({
  epoch: e, step: e * 10, loss: 0.1 / e, valLoss: 0.12 / e, valPsnr: 15 + e, lr: 1e-3, seconds: 2, samplesPerSecond: 500,
}));

describe('report.html', () => {
  it('line charts are SVG with one path per line series', () => {
    const svg = lineChart('Loss', [
      { name: 'train', points: [[1, 0.5], [2, 0.25], [3, 0.1]], color: '#000' },
      { name: 'val', points: [[1, 0.6], [2, NaN], [3, 0.2]], color: '#f00' },
    ], { logY: true, xLabel: 'step' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('>train<');
    expect(lineChart('Empty', [{ name: 'x', points: [], color: '#000' }])).toContain('no data');
  });

  it('is one self-contained page with curves, tables and grids', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
    const html = buildReport({
      title: 'run <x>', history, records: [{ event: 'batch', epoch: 1, step: 5, time: 0, loss: 0.2 }],
      tables: [{ caption: 'Test', rows: [['denoised PSNR (dB)', 18.8123456], ['collapsed', false], ['missing', null]] }],
      images: [{ caption: 'grid', png }],
    });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>run &lt;x&gt;</title>');
    expect(html.match(/<svg /g)).toHaveLength(3); // loss, val PSNR, lr
    expect(html).toContain('<th>denoised PSNR (dB)</th><td>18.812</td>');
    expect(html).toContain('<td>false</td>');
    expect(html).toContain(`src="data:image/png;base64,${png.toString('base64')}"`);
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });

  it('writeRunReport gathers the finished stage folders of a run', async () => {
    const run = tmpDir();
    const mk = (stage: string, files: Record<string, string | Buffer>) => {
      fs.mkdirSync(path.join(run, stage, 'grids'), { recursive: true });
      for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(run, stage, f), c);
      fs.writeFileSync(path.join(run, stage, 'DONE'), 'key\n');
    };
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer();
    mk('train', {
      'history.json': JSON.stringify(history),
      'metrics.jsonl': history.map((h) => JSON.stringify({ event: 'batch', epoch: h.epoch, step: h.step, time: 0, loss: h.loss })).join('\n') + '\n',
      'run.json': JSON.stringify({ summary: { backend: 'cpu', epochs: 3, samplesPerSecond: 500 } }),
      'grids/epoch-0001.png': png,
      'grids/epoch-0003.png': png,
    });
    mk('evaluate', {
      'metrics.json': JSON.stringify({ samples: 10, noisy: { mse: 0.1, psnr: 10, ssim: 0.3 }, denoised: { mse: 0.01, psnr: 20, ssim: 0.8 } }),
      'grid.png': png,
    });
    mk('verify', { 'parity.json': JSON.stringify({ samples: 4, maxAbsDiff: 1e-7, passed: true, sizes: ['28×28'] }) });
    const file = writeRunReport(run);
    expect(file).toBe(path.join(run, 'report.html'));
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain('Test split (10 images)');
    expect(html).toContain('<th>denoised PSNR (dB)</th><td>20</td>');
    expect(html).toContain('<th>maxAbsDiff</th><td>1.0000e-7</td>');
    expect(html.match(/<img /g)).toHaveLength(3); // test grid + first and last epoch grids
  });
});
