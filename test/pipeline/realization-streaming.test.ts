/**
 * The training split held one noise realization at a time: featurize writes the cache realization by
 * realization and it equals the encoder run over every row at once; loadGroup's realization(r) is
 * exactly rows r·count… of the cache files; and fit over a streamed split gives the same loss curve
 * and weights as over the same split in memory whole.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/backends/tf';
import { createSession } from '../../src/backends/ort';
import { readNpy } from '../../src/io/npy';
import { runJob } from '../../pipeline/runner';
import { cachedTensors, dataFiles, encoderModelFile, featureFile, readEncoderIo, readManifest } from '../../pipeline/artifacts';
import { encodeImages, padForEncoder } from '../../pipeline/stages/featurize';
import { loadGroup } from '../../pipeline/stages/split-inputs';
import { buildDecoder } from '../../pipeline/train/decoder';
import { fit, realizationBlocks, type TrainSplit } from '../../pipeline/train/loop';
import { ChannelStatsAccumulator, channelStats } from '../../pipeline/train/tap-stats';
import { trainSchema } from '../../src/config/schema';
import { quickJob, writeJob } from '../helpers/jobs';
import { syntheticSplit } from '../helpers/synthetic-split';
import { tmpDir } from '../helpers/tmp';

/** Bit-for-bit equality of two float arrays (fast for cache-sized arrays). */
const sameBits = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('one noise realization at a time', () => {
  const dir = tmpDir();
  const runDir = path.join(dir, 'run');
  let tf: Tf;

  beforeAll(async () => {
    tf = (await initTf()).tf;
    const job = quickJob({ data: { source: 'mnist', limit: 200, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 50, realizations: 3 } } });
    await runJob({ jobFile: writeJob(dir, job), outDir: runDir, until: 'featurize' });
  });

  it('featurize, realization by realization, caches what one encoder pass over every row gives', async () => {
    const manifest = readManifest(path.join(runDir, 'data'));
    const io = readEncoderIo(path.join(runDir, 'encoder'));
    const group = manifest.splits.train[0];
    expect(group.realizations).toBe(3);
    const noisy = readNpy(dataFiles(path.join(runDir, 'data'), 'train', group.id).noisy);
    const session = await createSession(encoderModelFile(path.join(runDir, 'encoder')), { device: 'cpu' });
    const all = await encodeImages(session, io, padForEncoder(io, noisy.data, noisy.dims[0], group.height, group.width, manifest.channels));
    await session.release();
    all.forEach((f, k) => {
      const cached = readNpy(featureFile(path.join(runDir, 'featurize'), 'train', group.id, k));
      expect(cached.dims).toEqual([3 * group.count, ...f.shape]);
      expect(cached.data).toBeCloseToArray(f.data, { atol: 1e-6 });
    });
  });

  it('loadGroup reads realization r as rows r·count… of the cache and the noisy images, realization 0 as inputs', () => {
    const manifest = readManifest(path.join(runDir, 'data'));
    const io = readEncoderIo(path.join(runDir, 'encoder'));
    const group = manifest.splits.train[0];
    const g = loadGroup(path.join(runDir, 'data'), path.join(runDir, 'featurize'), manifest, io, 'train', group);
    expect(g.realization).toBeDefined();
    const whole = cachedTensors(io).map((_, k) => readNpy(featureFile(path.join(runDir, 'featurize'), 'train', group.id, k)).data);
    const noisy = readNpy(dataFiles(path.join(runDir, 'data'), 'train', group.id).noisy).data;
    for (const r of [1, 2, 0, 2]) {
      const inputs = g.realization!(r);
      whole.forEach((data, k) => {
        const size = data.length / (3 * group.count);
        expect(sameBits(inputs[k].data, data.subarray(r * group.count * size, (r + 1) * group.count * size))).toBe(true);
      });
      const pix = group.height * group.width;
      const padded = padForEncoder(io, noisy.subarray(r * group.count * pix, (r + 1) * group.count * pix), group.count, group.height, group.width, 1);
      expect(sameBits(inputs[inputs.length - 1].data, padded.data)).toBe(true);
    }
    expect(g.realization!(0)).toBe(g.inputs);
    expect(() => g.realization!(3)).toThrow(/realization 3 of 3/);
    // Statistics accumulated block by block equal one pass over the whole cache.
    const acc = new ChannelStatsAccumulator(io.taps[0].channels);
    for (const inputs of realizationBlocks(g)) acc.add(inputs[0]);
    expect(acc.result()).toEqual(channelStats({ data: whole[0], shape: g.inputs[0].shape }));
  });

  it('fit over a streamed split equals fit over the same split in memory', async () => {
    const whole = syntheticSplit(24, 4);
    const rowsOf = (r: number) => whole.inputs.map((x) => {
      const size = x.shape[0] * x.shape[1] * x.shape[2];
      return { data: x.data.slice(r * whole.count * size, (r + 1) * whole.count * size), shape: x.shape };
    });
    const reads: number[] = [];
    const streamed: TrainSplit = { ...whole, inputs: rowsOf(0), realization: (r) => (reads.push(r), rowsOf(r)) };
    const cfg = trainSchema.parse({ epochs: 3, batch_size: 8, lr: 0.01 });
    const run = async (split: TrainSplit) => {
      const model = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, { widths: [4, 4] } as never, 5);
      const r = await fit(tf, model, split, null, cfg, { seed: 5 });
      const weights = model.getWeights().map((w: TfModule.Tensor) => Array.from(w.dataSync()));
      return { losses: r.history.map((h) => h.loss), weights };
    };
    const a = await run(whole);
    const b = await run(streamed);
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
    expect(reads).toEqual([0, 1, 0]); // epoch e uses realization e mod 2
  });
});
