/**
 * The featurize stage's memory check: the train stage's resident bytes computed by hand for a
 * small case, the refuse/warn thresholds, and a job whose cache cannot fit refused at featurize
 * (one line naming the field and what fits) with the data and encoder stages kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { availableMemoryBytes, checkFeatureDisk, checkFeatureMemory, featureCacheDiskBytes, trainingFeatureMemory } from '../../pipeline/stages/feature-memory';
import type { DatasetManifest, EncoderIo } from '../../pipeline/artifacts';
import { ConfigError } from '../../src/errors';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

const io: EncoderIo = {
  input: 'x', channels: 1, strideMultiple: 4, source: { file: 'e.onnx', sha256: '' },
  taps: [{ name: 'a', channels: 16, stride: 1 }, { name: 'b', channels: 32, stride: 2 }, { name: 'c', channels: 64, stride: 4 }],
};
const group = (id: string, count: number, side: number, realizations: number) => ({ id, count, height: side, width: side, realizations });
const manifest = (realizations: number): DatasetManifest => ({
  source: 'folder', channels: 1, noise: {}, seed: 0,
  splits: { train: [group('patches', 100, 40, realizations)], val: [group('patches', 10, 38, 1)], test: [group('000', 1, 481, 1)] },
});

describe('feature memory check', () => {
  it('counts the resident realizations of the cached taps, the padded image and the target (test split excluded)', () => {
    // A 40×40 row: 16·40² + 32·20² + 64·10² = 44,800 tap values + 1,600 image values; the 38×38 val rows pad to 40×40.
    const noisyRow = 44_800 + 1_600;
    const val = 10 * noisyRow * 4 + 10 * 38 * 38 * 4;
    const train = (resident: number) => resident * 100 * noisyRow * 4 + 100 * 1_600 * 4;
    expect(trainingFeatureMemory(manifest(2), io, io.taps)).toEqual({ bytes: train(2) + val, perTrainRealization: 100 * noisyRow * 4, trainRealizations: 2 });
    // Past three, realizations cost disk only: the train stage holds 0, the current one and the next.
    expect(trainingFeatureMemory(manifest(14), io, io.taps)).toEqual({ bytes: train(3) + val, perTrainRealization: 100 * noisyRow * 4, trainRealizations: 3 });
  });

  it('refuses above 75 % of memory naming how many realizations fit, warns above 50 %, else says nothing', () => {
    const m = trainingFeatureMemory(manifest(14), io, io.taps);
    expect(checkFeatureMemory(m, 4 * m.bytes, 'run/job.yaml')).toBeNull();
    expect(checkFeatureMemory(m, 1.5 * m.bytes, 'run/job.yaml')).toMatch(/over half of this machine's/);
    // 75 % of 2.5 realizations' worth (plus the rest) fits two: floor((0.75·T − rest) / perRealization).
    const rest = m.bytes - 3 * m.perTrainRealization;
    const total = (rest + 2.5 * m.perTrainRealization) / 0.75;
    let error: unknown;
    try {
      checkFeatureMemory(m, total, 'run/job.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('data.noise.realizations');
    expect((error as Error).message).toMatch(/^run\/job\.yaml data\.noise\.realizations: the train stage would hold 56 MiB .*63 MiB; set data\.noise\.realizations to 2 or fewer \(the train stage holds up to 3 at once\) or lower data\.patches_per_image$/);
    // One realization that does not fit on its own: the patch count is what to lower.
    expect(() => checkFeatureMemory(trainingFeatureMemory(manifest(1), io, io.taps), 1000, 'j')).toThrow(/data\.patches_per_image: .*lower data\.patches_per_image/);
  });

  it('a container limit below the machine memory is what counts', () => {
    const spy = jest.spyOn(process, 'constrainedMemory').mockReturnValue(3 * 2 ** 30);
    expect(availableMemoryBytes()).toBe(Math.min(3 * 2 ** 30, require('node:os').totalmem()));
    spy.mockReturnValue(0); // unconstrained
    expect(availableMemoryBytes()).toBe(require('node:os').totalmem());
    spy.mockRestore();
  });

  it('sizes the cache on disk per split at its stored precision and refuses what the free space cannot hold', () => {
    const cache = featureCacheDiskBytes(manifest(14), io, io.taps);
    // Train: 1,400 rows × 44,800 values × 4 B = 251 MB ≤ 256 MiB, so float32; val 10 rows of 40×40;
    // test one 481² image padded to 484²: 16·484² + 32·242² + 64·121² values in float32.
    const train = 1_400 * 44_800 * 4;
    const val = 10 * 44_800 * 4;
    const test = (16 * 484 * 484 + 32 * 242 * 242 + 64 * 121 * 121) * 4;
    expect(cache).toEqual({ bytes: train + val + test, perTrainRealization: train / 14, trainRealizations: 14 });
    // 28 realizations cross 256 MiB: float16, half the bytes.
    expect(featureCacheDiskBytes(manifest(28), io, io.taps).perTrainRealization).toBe(train / 14 / 2);
    expect(() => checkFeatureDisk(cache, cache.bytes, 'j')).not.toThrow();
    const free = val + test + 5.5 * (train / 14);
    expect(() => checkFeatureDisk(cache, free, 'run/job.yaml')).toThrow(
      /^run\/job\.yaml data\.noise\.realizations: the feature cache needs \d+ MiB on disk and \d+ MiB is free there; set data\.noise\.realizations to 5 or fewer \(now 14\), or free space$/,
    );
  });

  describe('in a run', () => {
    const dir = tmpDir();
    afterEach(() => jest.restoreAllMocks());

    it('a cache larger than the machine fails at featurize, and the finished stages are kept for a rerun', async () => {
      const job = quickJob({ data: { source: 'mnist', limit: 200, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 50, realizations: 3 } } });
      const runDir = path.join(dir, 'run');
      await runJob({ jobFile: writeJob(dir, job), outDir: runDir, until: 'encoder' });
      const read = (f: string) => JSON.parse(fs.readFileSync(path.join(runDir, f), 'utf8'));
      const m = trainingFeatureMemory(read('data/dataset.json'), read('encoder/io.json'), read('encoder/io.json').taps);
      expect(m.trainRealizations).toBe(3);
      // A container limit where one realization fits and two do not.
      const limit = (m.bytes - 1.5 * m.perTrainRealization) / 0.75;
      jest.spyOn(process, 'constrainedMemory').mockReturnValue(limit);
      await expect(runJob({ resume: runDir })).rejects.toThrow(
        /job\.yaml data\.noise\.realizations: the train stage would hold \d+ MiB .*more than 75 % of this machine's \d+ MiB; set data\.noise\.realizations to 1 or fewer/,
      );
      expect(fs.existsSync(path.join(runDir, 'data', 'dataset.json'))).toBe(true);
      expect(fs.existsSync(path.join(runDir, 'encoder', 'io.json'))).toBe(true);
      expect(fs.existsSync(path.join(runDir, 'featurize'))).toBe(false);
      jest.restoreAllMocks();
      // A full disk is refused the same way, before anything is encoded.
      jest.spyOn(require('node:fs'), 'statfsSync').mockReturnValue({ bavail: 10, bsize: 4096 });
      await expect(runJob({ resume: runDir })).rejects.toThrow(/job\.yaml data\.patches_per_image: the feature cache needs \d+ MiB on disk and 1 MiB is free there/);
      jest.restoreAllMocks();
      const r = await runJob({ resume: runDir, until: 'featurize' });
      expect(r.summaries.featurize).toBeDefined();
    });
  });
});
