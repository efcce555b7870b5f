/**
 * `onnxtune denoise`: with a per-pixel model built here (y = 0.5·x + 0.25), tiled output equals the
 * untiled formula exactly (blending is sum-normalized), 16-bit input gives 16-bit output, a gray
 * model denoises each channel of an RGB image, an alpha channel passes through untouched, existing outputs are kept without --force, and an
 * unreadable image in a folder is reported on stderr and skipped while the others are written (exit 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { GraphBuilder } from '../../src/onnx/builder';
import { saveModel } from '../../src/onnx/model-io';
import { writeImage } from '../../src/images/write';
import { readImage } from '../../src/images/png';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

describe('onnxtune denoise', () => {
  const dir = tmpDir();
  const model = path.join(dir, 'affine.onnx');
  const W = 300;
  const H = 170;
  const gray = Float32Array.from({ length: W * H }, (_, i) => ((i * 7919) % 1000) / 999);

  beforeAll(async () => {
    const b = new GraphBuilder();
    b.addInput('x', ['n', 1, 'h', 'w']);
    b.addInitializer('half', [], new Float32Array([0.5]));
    b.addInitializer('quarter', [], new Float32Array([0.25]));
    b.addNode('Mul', ['x', 'half'], ['m']);
    b.addNode('Add', ['m', 'quarter'], ['y']);
    b.addOutput('y', ['n', 1, 'h', 'w']);
    saveModel(b.toModel({ opset: 17 }), model);
    fs.mkdirSync(path.join(dir, 'in'));
    await writeImage(path.join(dir, 'in', 'gray16.png'), gray, W, H, 1, 16);
    const rgb = Float32Array.from({ length: W * H * 3 }, (_, i) => gray[Math.floor(i / 3)] * ((i % 3) + 1) / 3);
    await writeImage(path.join(dir, 'in', 'color.tif'), rgb, W, H, 3, 8);
  });

  it('denoises a folder with tiles, keeping format and bit depth', async () => {
    const out = path.join(dir, 'out');
    const r = await runCli(['denoise', model, path.join(dir, 'in'), '--out', out, '--tile', '128', '--overlap', '16']);
    expect(r.code).toBe(0);
    expect((await sharp(path.join(out, 'gray16.png')).metadata()).depth).toBe('ushort');
    const g = await readImage(path.join(out, 'gray16.png'));
    const expected = Array.from(gray, (v) => 0.5 * Math.round(v * 65535) / 65535 + 0.25);
    expect(g.data).toBeCloseToArray(expected, { atol: 1 / 65535 });
    const c = await readImage(path.join(out, 'color.tif'));
    expect(c.channels).toBe(3);
    expect(r.stdout).toMatch(/color\.tif\s+300×170×3\s+18/); // 3 channels × 6 tiles of 128 with overlap 16
  });

  it('keeps the transparency of an RGBA PNG: colour denoised, alpha copied bit for bit', async () => {
    const src = path.join(dir, 'alpha-in');
    fs.mkdirSync(src);
    const [w, h] = [40, 24];
    const rgba = Buffer.alloc(w * h * 4);
    for (let p = 0; p < w * h; p++) rgba.set([(p * 37) % 256, (p * 11) % 256, (p * 5) % 256, p % w < 10 ? 0 : (p * 3) % 256], p * 4);
    await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toFile(path.join(src, 'logo.png'));
    const out = path.join(dir, 'alpha-out');
    const r = await runCli(['denoise', model, src, '--out', out]);
    expect(r.code).toBe(0);
    const { data, info } = await sharp(path.join(out, 'logo.png')).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    for (let p = 0; p < w * h; p++) {
      expect(data[p * 4 + 3]).toBe(rgba[p * 4 + 3]);
      for (let c = 0; c < 3; c++) expect(Math.abs(data[p * 4 + c] - (0.5 * rgba[p * 4 + c] + 63.75))).toBeLessThanOrEqual(0.5 + 1e-9);
    }
  });

  it('refuses tiling that cannot work (margin too wide for the overlap, overlap ≥ tile) before reading any image', async () => {
    for (const bad of [['--overlap', '32', '--margin', '16'], ['--tile', '64', '--overlap', '64']]) {
      const out = path.join(dir, `bad-tiling-${bad.join('')}`);
      const r = await runCli(['denoise', model, path.join(dir, 'in'), '--out', out, ...bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--tile \d+ --overlap \d+.*: (margin|overlap) must be/);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('refuses to overwrite without --force, then overwrites with it', async () => {
    const out = path.join(dir, 'out2');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'gray16.png'), 'keep me');
    let r = await runCli(['denoise', model, path.join(dir, 'in', 'gray16.png'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gray16\.png: exists .*--force/);
    expect(fs.readFileSync(path.join(out, 'gray16.png'), 'utf8')).toBe('keep me');
    r = await runCli(['denoise', model, path.join(dir, 'in', 'gray16.png'), '--out', out, '--force', '--color', 'luma']);
    expect(r.code).toBe(0);
  });

  it('reports and skips unreadable images in a folder, writes all the others, then exits 2', async () => {
    const mixed = path.join(dir, 'mixed');
    fs.mkdirSync(mixed);
    fs.copyFileSync(path.join(dir, 'in', 'gray16.png'), path.join(mixed, 'gray16.png'));
    fs.copyFileSync(path.join(dir, 'in', 'color.tif'), path.join(mixed, 'color.tif'));
    const jpeg = await sharp(Buffer.alloc(W * H * 3, 128), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
    fs.writeFileSync(path.join(mixed, 'd-truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    fs.writeFileSync(path.join(mixed, 'e-not-an-image.png'), 'this is not a PNG');
    const out = path.join(dir, 'out-mixed');
    const r = await runCli(['denoise', model, mixed, '--out', out, '--tile', '128', '--overlap', '16']);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines.filter((l) => /^warn: .*skipped/.test(l))).toEqual([
      expect.stringMatching(/^warn: .*d-truncated\.jpg: cannot decode image: .*; skipped$/),
      expect.stringMatching(/^warn: .*e-not-an-image\.png: cannot decode image: .*; skipped$/),
    ]);
    const errors = lines.filter((l) => l.startsWith('onnxtune: error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/d-truncated\.jpg: cannot decode image: .*2 of 4 images could not be read and were skipped \(also e-not-an-image\.png\); the other 2 were denoised into /);
    expect(fs.readdirSync(out).sort()).toEqual(['color.tif', 'compare', 'gray16.png', 'index.html']);
    const g = await readImage(path.join(out, 'gray16.png'));
    expect(g.data).toBeCloseToArray(Array.from(gray, (v) => 0.5 * Math.round(v * 65535) / 65535 + 0.25), { atol: 1 / 65535 });
    expect((await readImage(path.join(out, 'color.tif'))).channels).toBe(3);
    expect(r.stdout).toMatch(/color\.tif\s+300×170×3\s+18/);
    expect(r.stdout).toMatch(/gray16\.png\s+300×170×1\s+6/);
    expect(r.stdout).not.toMatch(/d-truncated|e-not-an-image/);
  });

  it('writes a before/after page: previews of the input and the output, linked from index.html', async () => {
    const out = path.join(dir, 'out-page');
    const r = await runCli(['denoise', '--model', model, path.join(dir, 'in'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Before/after page: ${path.join(out, 'index.html')}`);
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    const srcs = [...html.matchAll(/<img src="([^"]+)"|<img class="before" src="([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    expect(srcs).toEqual(['compare/001-color.denoised.png', 'compare/001-color.noisy.png', 'compare/002-gray16.denoised.png', 'compare/002-gray16.noisy.png']);
    expect(html).not.toMatch(/https?:\/\//); // opens offline
    const before = await readImage(path.join(out, 'compare/002-gray16.noisy.png'));
    const after = await readImage(path.join(out, 'compare/002-gray16.denoised.png'));
    expect([before.width, before.height, after.channels]).toEqual([W, H, 1]);
    expect(before.data).toBeCloseToArray(gray, { atol: 0.5 / 255 + 1e-6 });
    expect(after.data).toBeCloseToArray(Array.from(gray, (v) => 0.5 * v + 0.25), { atol: 0.5 / 255 + 1e-4 });
    // --no-page writes only the outputs.
    const bare = path.join(dir, 'out-no-page');
    expect((await runCli(['denoise', model, path.join(dir, 'in', 'gray16.png'), '--out', bare, '--no-page'])).code).toBe(0);
    expect(fs.readdirSync(bare)).toEqual(['gray16.png']);
  });

  it("never overwrites a user's own index.html without --force", async () => {
    const out = path.join(dir, 'out-own-index');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'index.html'), '<p>mine</p>');
    const r = await runCli(['denoise', model, path.join(dir, 'in', 'gray16.png'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/index\.html: exists and was not written by onnxtune denoise; pass --force .* or --no-page/);
    expect(fs.readFileSync(path.join(out, 'index.html'), 'utf8')).toBe('<p>mine</p>');
    expect(fs.existsSync(path.join(out, 'gray16.png'))).toBe(false);
  });

  it('names an unknown model as such, with the shipped names', async () => {
    const r = await runCli(['denoise', '--model', 'gray-blnd', path.join(dir, 'in'), '--out', path.join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gray-blnd: --model: neither a file nor a shipped denoiser/);
    const noImages = await runCli(['denoise', model, '--out', path.join(dir, 'never')]);
    expect(noImages.code).toBe(2);
    expect(noImages.stderr).toMatch(/give a model and images/);
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });
});
