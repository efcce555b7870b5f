/**
 * Real noisy/clean pairs (`data.source: pairs`, PolyU-style `<name>_real` / `<name>_mean` files),
 * made here: patches are cut at the same place from both images, scenes never straddle the
 * train/test split, and the job runs through export and parity.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { readNpy } from '../../src/io/npy';
import { writePng } from '../../src/images/png';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

describe('paired real-noise data source', () => {
  const dir = tmpDir();
  const pairs = path.join(dir, 'pairs');

  beforeAll(async () => {
    fs.mkdirSync(pairs);
    for (const scene of ['chair', 'desk', 'lamp']) {
      for (const k of [1, 2]) {
        const w = 28;
        const clean = Float32Array.from({ length: w * w }, (_, i) => 0.2 + 0.5 * (((i % w) + k) % 7 < 3 ? 1 : 0));
        await writePng(path.join(pairs, `cam_${scene}_${k}_mean.png`), clean, w, w, 1);
        await writePng(path.join(pairs, `cam_${scene}_${k}_real.png`), clean.map((v) => v + 0.2), w, w, 1);
      }
    }
  });

  it('splits by scene, aligns patch pairs and runs end to end', async () => {
    const job = quickJob({
      data: { source: 'pairs', dir: 'pairs', channels: 1, patch_size: 12, patches_per_image: 3, test_fraction: 0.3, val_fraction: 0.3 },
      encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'] },
      verify: { samples: 2 },
    });
    const r = await runJob({ jobFile: writeJob(dir, job), outDir: path.join(dir, 'run') });
    const manifest = JSON.parse(fs.readFileSync(path.join(r.runDir, 'data', 'dataset.json'), 'utf8'));
    const testNames: string[] = manifest.splits.test.map((g: { names: string[] }) => g.names[0]);
    expect(testNames).toHaveLength(2);
    expect(new Set(testNames.map((n) => n.split('_')[1])).size).toBe(1); // one held-out scene, both of its pairs
    expect(r.summaries.data).toMatchObject({ train: 3 * 3, val: 1 * 3, test: 2 });
    const clean = readNpy(path.join(r.runDir, 'data', 'train.patches.clean.npy')).data;
    const noisy = readNpy(path.join(r.runDir, 'data', 'train.patches.noisy.npy')).data;
    for (let i = 0; i < clean.length; i++) expect(noisy[i] - clean[i]).toBeCloseTo(0.2, 2); // same place, same transform
    expect((r.summaries.verify as { maxAbsDiff: number }).maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('refuses an incomplete pair naming the file', async () => {
    fs.writeFileSync(path.join(pairs, 'lonely_9_real.png'), fs.readFileSync(path.join(pairs, 'cam_desk_1_real.png')));
    const job = quickJob({ data: { source: 'pairs', dir: 'pairs', channels: 1, patch_size: 12 } });
    await expect(runJob({ jobFile: writeJob(dir, job, 'lonely.yaml'), outDir: path.join(dir, 'run2') })).rejects.toThrow(/lonely_9_real\.png: no clean partner 'lonely_9_mean\.\*'/);
    fs.rmSync(path.join(pairs, 'lonely_9_real.png'));
  });
});
