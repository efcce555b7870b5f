/**
 * `onnxtune eval --pairs`: real noisy/clean pairs found as the `pairs` data source finds them.
 * Three synthetic 8-bit pairs (gray and RGB) with a known noisy − clean difference: an identity
 * model must report exactly the noisy PSNR computed here by hand from the integer pixels, the
 * σ column reads 'real', baselines run (nlm told each pair's RMS noise), and misuse is a clear error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluatePairs, loadTestPairs } from '../../src/eval/evaluate';
import { writePng } from '../../src/images/png';
import { GraphBuilder } from '../../src/onnx/builder';
import { saveModel } from '../../src/onnx/model-io';
import { runCli } from '../helpers/cli';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { tmpDir } from '../helpers/tmp';

interface Pair {
  name: string;
  width: number;
  height: number;
  channels: 1 | 3;
  clean: Uint8Array;
  noisy: Uint8Array;
}

/** A smooth clean image (a ramp in 60..190) and noisy = clean + a deterministic offset in [−12, 12] (no clipping needed). */
function makePair(name: string, width: number, height: number, channels: 1 | 3, seed: number): Pair {
  const n = width * height * channels;
  const clean = new Uint8Array(n);
  const noisy = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    const p = Math.floor(i / channels);
    const x = p % width;
    const y = Math.floor(p / width);
    clean[i] = 60 + Math.round((130 * (x + y + 7 * (i % channels))) / (width + height + 14));
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // LCG
    noisy[i] = clean[i] + ((s >>> 8) % 25) - 12;
  }
  return { name, width, height, channels, clean, noisy };
}

/** PSNR (peak 1) of the noisy image by hand: 10·log10(255² / mean((noisy − clean)²)) on the integers. */
function handPsnr(p: Pair): number {
  let sum = 0;
  for (let i = 0; i < p.clean.length; i++) sum += (p.noisy[i] - p.clean[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / p.clean.length));
}

const toFloat = (a: Uint8Array) => Float32Array.from(a, (v) => v / 255);

function identityModel(file: string, channels: 1 | 3): void {
  const b = new GraphBuilder();
  b.addInput('x', ['n', channels, 'h', 'w']);
  b.addNode('Identity', ['x'], ['y']);
  b.addOutput('y', ['n', channels, 'h', 'w']);
  saveModel(b.toModel({ opset: 17 }), file);
}

describe('onnxtune eval --pairs', () => {
  const dir = tmpDir();
  const data = path.join(dir, 'pairs');
  const rgbModel = path.join(dir, 'identity3.onnx');
  const pairs = [makePair('a_scene', 48, 40, 1, 1), makePair('b_scene', 48, 40, 3, 2), makePair('c_scene', 40, 48, 1, 3)];

  beforeAll(async () => {
    fs.mkdirSync(data);
    for (const p of pairs) {
      await writePng(path.join(data, `${p.name}_real.png`), toFloat(p.noisy), p.width, p.height, p.channels);
      await writePng(path.join(data, `${p.name}_mean.png`), toFloat(p.clean), p.width, p.height, p.channels);
    }
    identityModel(rgbModel, 3);
  });

  it('scores each pair: the noisy PSNR equals the hand-computed value, and writes JSON + markdown', async () => {
    const out = path.join(dir, 'out');
    const r = await runCli(['eval', rgbModel, '--data', data, '--pairs', '--out', out]);
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
    expect(report.pairs).toEqual({ noisySuffix: '_real', cleanSuffix: '_mean', count: 3 });
    expect(report.sigmas).toEqual(['real']);
    expect(report.rows.map((x: { image: string }) => x.image)).toEqual(['a_scene', 'b_scene', 'c_scene']);
    for (const [i, row] of report.rows.entries()) {
      // Gray pairs are repeated to RGB for the 3-channel model, which leaves their PSNR unchanged.
      expect(Math.abs(row.noisyPsnr - handPsnr(pairs[i]))).toBeLessThan(1e-5);
      expect(row.sigma).toBe('real');
      expect(row.method).toBe('identity3.onnx');
      // Identity: the output is the noisy image (already in [0,1]), so the scores coincide.
      expect(row.psnr).toBeCloseTo(row.noisyPsnr, 10);
      expect(row.ssim).toBeCloseTo(row.noisySsim, 10);
      expect(row.noisySsim).toBeGreaterThan(0);
      expect(row.noisySsim).toBeLessThan(1);
      expect(row.seconds).toBeGreaterThanOrEqual(0);
    }
    expect(report.summaries).toHaveLength(1);
    const s = report.summaries[0];
    expect(s).toMatchObject({ method: 'identity3.onnx', sigma: 'real', images: 3 });
    const meanHand = pairs.reduce((a, p) => a + handPsnr(p), 0) / 3;
    expect(Math.abs(s.noisyPsnr - meanHand)).toBeLessThan(1e-5);
    expect(s.psnr).toBeCloseTo(s.noisyPsnr, 10);
    const md = fs.readFileSync(path.join(out, 'eval.md'), 'utf8');
    expect(md).toContain(`Data: ${data} (3 real noisy/clean pairs: *_real.* vs *_mean.*)`);
    expect(md).toContain(`| identity3.onnx | real | 3 | ${s.psnr.toFixed(3)} | ${s.ssim.toFixed(4)} | ${s.noisyPsnr.toFixed(2)} |`);
    expect(r.stdout).toContain('| identity3.onnx | real | 3 |');
  });

  it('runs baselines on the pairs (nlm told each pair\'s RMS(noisy − clean)), honours --limit and custom suffixes', async () => {
    const custom = path.join(dir, 'custom');
    fs.mkdirSync(custom);
    for (const p of pairs) {
      await writePng(path.join(custom, `${p.name}_noisy.png`), toFloat(p.noisy), p.width, p.height, p.channels);
      await writePng(path.join(custom, `${p.name}_gt.png`), toFloat(p.clean), p.width, p.height, p.channels);
    }
    const r = await runCli([
      'eval', '--data', custom, '--pairs', '--noisy-suffix', '_noisy', '--clean-suffix', '_gt',
      '--channels', '3', '--limit', '2', '--baseline', 'gaussian,nlm', '--json',
    ]);
    expect(r.code).toBe(0);
    const { summaries, rows } = JSON.parse(r.stdout);
    expect(summaries.map((s: { method: string; sigma: string }) => [s.method, s.sigma])).toEqual([['gaussian', 'real'], ['nlm', 'real']]);
    for (const s of summaries) {
      expect(s.images).toBe(2);
      expect(Math.abs(s.noisyPsnr - (handPsnr(pairs[0]) + handPsnr(pairs[1])) / 2)).toBeLessThan(1e-5);
      expect(s.psnr).toBeGreaterThan(s.noisyPsnr); // smoothing a ramp plus white noise helps
    }
    expect(summaries[0].note).toMatch(/^best sigma_px = [\d.]+ of \[.*\] \(oracle\)$/);
    expect(summaries[1].note).toMatch(/^best h\/σ = [\d.]+ of \[.*\] \(oracle\); told each pair's σ = RMS\(noisy − clean\)$/);
    expect(rows).toHaveLength(4);
    expect(rows.map((x: { image: string }) => x.image)).toEqual(['a_scene', 'b_scene', 'a_scene', 'b_scene']);
  });

  it("tells noise-aware methods each pair's σ = RMS(noisy − clean) on the 0–255 scale", async () => {
    const loaded = await loadTestPairs({ data, channels: 3 });
    const told: number[] = [];
    await evaluatePairs('probe', async (x, _w, _h, _c, sigma) => {
      told.push(sigma);
      return x;
    }, loaded);
    // RMS = 255 · 10^(−PSNR/20) on the 0–255 scale, with the PSNR computed by hand (float32 pixels: ~1e-6 apart).
    expect(told).toHaveLength(3);
    told.forEach((t, i) => expect(Math.abs(t - 255 * 10 ** (-handPsnr(pairs[i]) / 20))).toBeLessThan(1e-5));
  });

  it('rejects --sigma with --pairs, suffixes without --pairs, and folders without pairs', async () => {
    let r = await runCli(['eval', rgbModel, '--data', data, '--pairs', '--sigma', '25']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('onnxtune: error: --sigma and --pairs do not go together: --pairs uses the real noise of each pair');

    r = await runCli(['eval', rgbModel, '--data', data, '--noisy-suffix', '_real']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--noisy-suffix and --clean-suffix need --pairs/);

    const clean = path.join(dir, 'clean-only');
    fs.mkdirSync(clean);
    await writePng(path.join(clean, 'x.png'), toFloat(pairs[0].clean), 48, 40, 1);
    r = await runCli(['eval', rgbModel, '--data', clean, '--pairs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${clean}: no '*_real.*' / '*_mean.*' pairs in this folder: expected <name>_real.<ext> (noisy) next to <name>_mean.<ext> (clean)`);

    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    r = await runCli(['eval', rgbModel, '--data', empty, '--pairs', '--noisy-suffix', '_n', '--clean-suffix', '_c']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${empty}: no '*_n.*' / '*_c.*' pairs in this folder: expected <name>_n.<ext> (noisy) next to <name>_c.<ext> (clean)`);
  });

  it('documents --pairs in --help', async () => {
    const r = await runCli(['eval', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--pairs/);
    expect(r.stdout).toMatch(/polyu_canon --pairs/);
    expect(r.stdout).toMatch(/RMS of noisy −\s+clean/);
  });
});

describeIfShared('onnxtune eval --pairs on PolyU (shared data)', ['data/polyu_canon'], () => {
  const dir = tmpDir();
  const model = path.join(dir, 'identity3.onnx');
  beforeAll(() => identityModel(model, 3));

  it('scores the first 2 pairs by name', async () => {
    const r = await runCli(['eval', model, '--data', sharedPath('data/polyu_canon'), '--pairs', '--limit', '2', '--json']);
    expect(r.code).toBe(0);
    const { summaries, rows } = JSON.parse(r.stdout);
    expect(rows).toHaveLength(2);
    expect(rows[0].image < rows[1].image).toBe(true);
    expect(rows[0].image).not.toMatch(/_real|_mean/);
    for (const row of rows) {
      expect(row.noisyPsnr).toBeGreaterThan(25);
      expect(row.noisyPsnr).toBeLessThan(50);
      expect(row.psnr).toBeCloseTo(row.noisyPsnr, 10);
    }
    expect(summaries[0]).toMatchObject({ sigma: 'real', images: 2 });
  });
});
