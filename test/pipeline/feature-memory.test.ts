/**
 * The featurize stage's memory check: the train stage's resident bytes computed by hand for a
 * small case, the refuse/warn thresholds, and a job whose cache cannot fit refused at featurize
 * (one line naming the field and what fits) with the data and encoder stages kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { availableMemoryBytes, checkFeatureMemory, trainingFeatureMemory } from '../../pipeline/stages/feature-memory';
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
  it('counts every realization of the cached taps, the padded image and the target (test split excluded)', () => {
    const m = trainingFeatureMemory(manifest(4), io, io.taps);
    // A 40×40 row: 16·40² + 32·20² + 64·10² = 44,800 tap values + 1,600 image values; the 38×38 val rows pad to 40×40.
    const noisyRow = 44_800 + 1_600;
    const train = 4 * 100 * noisyRow * 4 + 100 * 1_600 * 4;
    const val = 10 * noisyRow * 4 + 10 * 38 * 38 * 4;
    expect(m).toEqual({ bytes: train + val, perTrainRealization: 100 * noisyRow * 4, trainRealizations: 4 });
  });

  it('refuses above 75 % of memory naming how many realizations fit, warns above 50 %, else says nothing', () => {
    const m = trainingFeatureMemory(manifest(4), io, io.taps);
    expect(checkFeatureMemory(m, 4 * m.bytes, 'run/job.yaml')).toBeNull();
    expect(checkFeatureMemory(m, 1.5 * m.bytes, 'run/job.yaml')).toMatch(/over half of this machine's/);
    // 75 % of 3 realizations' worth (plus the rest) fits two: floor((0.75·T − rest) / perRealization).
    const rest = m.bytes - 4 * m.perTrainRealization;
    const total = (rest + 2.5 * m.perTrainRealization) / 0.75;
    let error: unknown;
    try {
      checkFeatureMemory(m, total, 'run/job.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('data.noise.realizations');
    expect((error as Error).message).toMatch(/^run\/job\.yaml data\.noise\.realizations: the train stage would hold 74 MiB .*63 MiB; lower data\.noise\.realizations \(now 4; at most 2 fit\)/);
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
        /job\.yaml data\.noise\.realizations: the train stage would hold \d+ MiB .*more than 75 % of this machine's \d+ MiB; lower data\.noise\.realizations \(now 3; at most 1 fit\)/,
      );
      expect(fs.existsSync(path.join(runDir, 'data', 'dataset.json'))).toBe(true);
      expect(fs.existsSync(path.join(runDir, 'encoder', 'io.json'))).toBe(true);
      expect(fs.existsSync(path.join(runDir, 'featurize'))).toBe(false);
      jest.restoreAllMocks();
      const r = await runJob({ resume: runDir, until: 'featurize' });
      expect(r.summaries.featurize).toBeDefined();
    });
  });
});
