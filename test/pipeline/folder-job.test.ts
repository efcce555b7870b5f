/**
 * A job on image folders (made here, no shared data): seeded patches from the training folder,
 * whole test images of sizes that are not multiples of the encoder stride, per-image metrics,
 * and export parity on those sizes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { writePng } from '../../src/images/png';
import { forkRng } from '../../src/random';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

async function syntheticImage(file: string, w: number, h: number, seed: number): Promise<void> {
  const rng = forkRng(seed, 'img');
  const cx = rng.uniform() * w;
  const cy = rng.uniform() * h;
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data[y * w + x] = 0.3 + 0.4 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 40) + (0.2 * x) / w;
  }
  await writePng(file, data, w, h, 1);
}

describe('folder data source', () => {
  const dir = tmpDir();

  beforeAll(async () => {
    fs.mkdirSync(path.join(dir, 'train'));
    fs.mkdirSync(path.join(dir, 'test'));
    for (let i = 0; i < 6; i++) await syntheticImage(path.join(dir, 'train', `t${i}.png`), 24, 24, i);
    await syntheticImage(path.join(dir, 'test', 'a.png'), 30, 26, 10);
    await syntheticImage(path.join(dir, 'test', 'b.png'), 21, 17, 11);
  });

  it('trains on patches and evaluates/exports on whole images of any size', async () => {
    const job = quickJob({
      data: {
        source: 'folder', train: 'train', test: 'test', patch_size: 12, patches_per_image: 4, val_fraction: 0.2,
        noise: { type: 'gaussian', sigma: 25, realizations: 2 },
      },
      encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'] },
      verify: { samples: 2 },
    });
    const runDir = path.join(dir, 'run');
    const r = await runJob({ jobFile: writeJob(dir, job), outDir: runDir });
    expect(r.summaries.data).toMatchObject({ train: 5 * 4, val: 1 * 4, test: 2, realizations: 2 });
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'data', 'dataset.json'), 'utf8'));
    expect(manifest.splits.test.map((g: { width: number; height: number }) => [g.width, g.height])).toEqual([[30, 26], [21, 17]]);
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'evaluate', 'metrics.json'), 'utf8'));
    expect(metrics.perImage.map((p: { name: string }) => p.name)).toEqual(['a.png', 'b.png']);
    expect(metrics.noisy.psnr).toBeGreaterThan(18);
    expect(metrics.noisy.psnr).toBeLessThan(23); // σ=25 gives ≈ 20.2 dB before clipping effects
    const parity = JSON.parse(fs.readFileSync(path.join(runDir, 'verify', 'parity.json'), 'utf8'));
    expect(parity.sizes).toEqual(['30×26', '21×17']);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('the same seed draws the same patches and noise', async () => {
    const job = quickJob({
      data: { source: 'folder', train: 'train', test: 'test', patch_size: 12, patches_per_image: 4, noise: { type: 'gaussian', sigma: 25 } },
    });
    const file = writeJob(dir, job, 'again.yaml');
    await runJob({ jobFile: file, outDir: path.join(dir, 'r1'), until: 'data' });
    await runJob({ jobFile: file, outDir: path.join(dir, 'r2'), until: 'data' });
    for (const f of ['train.patches.clean.npy', 'train.patches.noisy.npy', 'test.000.noisy.npy']) {
      expect(fs.readFileSync(path.join(dir, 'r1', 'data', f)).equals(fs.readFileSync(path.join(dir, 'r2', 'data', f)))).toBe(true);
    }
  });
});
