/**
 * `onnxtune finetune`: adapts an exported model on a few clean images; the written model runs in
 * `denoise` and `eval`, records what it was fine-tuned on, and has a lower loss on those images.
 * Bad input exits 2 with one line saying why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import { runCli } from '../helpers/cli';
import { writePnm } from '../helpers/image-files';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { writeTinyDenoiser } from '../helpers/web';

function photo(k: number, size: number): Uint8Array {
  const px = new Array<number>(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px[y * size + x] = Math.round(255 * (0.5 + 0.4 * Math.sin((x + 3 * k) / 3) * Math.cos(y / (3 + k))));
  return writePnm('P5', px, 255, size, size);
}

describe('onnxtune finetune', () => {
  const dir = tmpDir('onnxtune-cli-ft-');
  const imgs = path.join(dir, 'photos');
  let model: string;

  beforeAll(async () => {
    fs.mkdirSync(imgs);
    for (let k = 0; k < 3; k++) fs.writeFileSync(path.join(imgs, `p${k}.pgm`), photo(k, 48));
    const run = await runJob({ jobFile: writeJob(dir, quickJob({ name: 'cli-ft' })), outDir: path.join(dir, 'run'), until: 'export' });
    model = path.join(run.runDir, 'export', run.job.export.file);
  }, 120_000);

  it('writes ONE model that records its fine-tuning and runs in denoise and eval', async () => {
    const out = path.join(dir, 'tuned.onnx');
    const r = await runCli(['finetune', model, imgs, '--sigma', '50', '--steps', '20', '--batch', '4', '--patch', '16', '--seed', '2', '--device', 'cpu', '--out', out]);
    expect(r.code).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith(out))!;
    const [, images, patches, steps, before, after] = row.trim().split(/\s+/);
    expect([images, patches, steps]).toEqual(['3', '27', '20']);
    expect(Number(after)).toBeLessThan(Number(before));
    const meta = getMetadata(loadModel(out));
    expect(JSON.parse(meta['onnxtune.finetune'])).toMatchObject({ base: path.basename(model), steps: 20, images: 3, noise: 'gaussian sigma=50', seed: 2 });
    expect(meta['onnxtune.job']).toBe('cli-ft+finetune');

    const denoised = path.join(dir, 'denoised');
    expect((await runCli(['denoise', out, path.join(imgs, 'p0.pgm'), '--out', denoised, '--no-page'])).code).toBe(0);
    expect(fs.readdirSync(denoised)).toHaveLength(1);
    const ev = await runCli(['eval', out, '--data', imgs, '--sigma', '50']);
    expect(ev.code).toBe(0);
  }, 120_000);

  it('refuses a model onnxtune did not export, and a bad --sigma, with exit code 2', async () => {
    const tiny = writeTinyDenoiser(dir);
    const r = await runCli(['finetune', tiny, imgs, '--out', path.join(dir, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only models exported by onnxtune can be fine-tuned/);
    const s = await runCli(['finetune', model, imgs, '--sigma', 'loud', '--out', path.join(dir, 'y.onnx')]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--sigma loud/);
  });

  it('images smaller than one patch: exit 2 naming the sizes and what to change; nothing written', async () => {
    const out = path.join(dir, 'too-small.onnx');
    const r = await runCli(['finetune', model, imgs, '--patch', '64', '--steps', '2', '--device', 'cpu', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/all 3 images: smaller than one 64×64 patch \(the largest is 48×48\); use a smaller patch side/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--pairs trains on real noisy/clean pairs: the noise is the pair\'s own, recorded as such, and the loss drops', async () => {
    const pairs = path.join(dir, 'pairs');
    fs.mkdirSync(pairs);
    for (let k = 0; k < 2; k++) {
      fs.writeFileSync(path.join(pairs, `s${k}_mean.pgm`), photo(k, 48));
      // "Camera noise": a fixed stripe pattern the model can learn, different from Gaussian noise.
      const noisy = Array.from(photo(k, 48).subarray(-48 * 48), (v, i) => Math.max(0, Math.min(255, v + ((i % 48) % 2 ? 12 : -12))));
      fs.writeFileSync(path.join(pairs, `s${k}_real.pgm`), writePnm('P5', noisy, 255, 48, 48));
    }
    const out = path.join(dir, 'tuned-pairs.onnx');
    const r = await runCli(['finetune', model, pairs, '--pairs', '--steps', '20', '--batch', '4', '--patch', '16', '--seed', '2', '--device', 'cpu', '--out', out]);
    expect(r.code).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith(out))!;
    const [, images, patches, , before, after] = row.trim().split(/\s+/);
    expect([images, patches]).toEqual(['2', '18']);
    expect(Number(after)).toBeLessThan(Number(before));
    expect(JSON.parse(getMetadata(loadModel(out))['onnxtune.finetune'])).toMatchObject({ images: 2, noise: 'real pairs (2)' });
    // A noisy image without its partner is named.
    fs.writeFileSync(path.join(pairs, 'lonely_real.pgm'), photo(5, 48));
    const bad = await runCli(['finetune', model, pairs, '--pairs', '--out', path.join(dir, 'z.onnx')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lonely_real\.pgm: no clean partner \(\*_mean\.\*\)/);
  }, 120_000);
});
