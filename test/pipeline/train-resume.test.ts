/**
 * Training checkpoints: stopping after epoch 1 and resuming to epoch 3 gives the same weights
 * and loss curve as training 3 epochs straight (same backend, same seed), and a fresh start
 * with the same seed reproduces the same curve.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/backends/tf';
import { loadJobConfig } from '../../src/config/load';
import { buildDecoder } from '../../pipeline/train/decoder';
import { trainDecoder } from '../../pipeline/train/fit-node';
import type { TrainSplit } from '../../pipeline/train/loop';
import { forkRng } from '../../src/random';
import { tmpDir } from '../helpers/tmp';
import { ROOT } from '../helpers/jobs';
import { syntheticSplit } from '../helpers/synthetic-split';


describe('trainDecoder checkpoints', () => {
  let tf: Tf;
  const job = loadJobConfig(path.join(ROOT, 'configs', 'mnist-dae.yaml'));
  const decoderCfg = { ...job.decoder, widths: [4, 4] };
  const train = syntheticSplit(40, 1);
  const val = syntheticSplit(10, 2);
  const cfg = (epochs: number) => ({ ...job.train, epochs, batch_size: 16, lr_schedule: { ...job.train.lr_schedule, type: 'step' as const } });
  const weightsOf = (m: TfModule.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

  beforeAll(async () => {
    tf = (await initTf()).tf;
  });

  it('resume after epoch 1 equals an uninterrupted run', async () => {
    const dir = tmpDir();
    const straight = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, 5);
    const a = await trainDecoder(tf, straight, train, val, cfg(3), 5, path.join(dir, 'a'));

    const first = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, 5);
    await trainDecoder(tf, first, train, val, cfg(1), 5, path.join(dir, 'b'));
    expect(fs.readFileSync(path.join(dir, 'b', 'latest'), 'utf8').trim()).toBe('ckpt-0000');
    // A new process would rebuild the model from scratch: weights come from the checkpoint.
    const resumed = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, 99);
    const b = await trainDecoder(tf, resumed, train, val, cfg(3), 5, path.join(dir, 'b'));

    expect(b.resumedFromEpoch).toBe(0);
    expect(b.history.map((h) => h.loss)).toBeCloseToArray(a.history.map((h) => h.loss), { atol: 1e-6 });
    const wa = weightsOf(straight).flat();
    const wb = weightsOf(resumed).flat();
    expect(wb).toBeCloseToArray(wa, { atol: 1e-6 });
  });

  it('the same seed gives the same loss curve', async () => {
    const dir = tmpDir();
    const m1 = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, 3);
    const m2 = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, 3);
    const r1 = await trainDecoder(tf, m1, train, val, cfg(2), 3, path.join(dir, '1'));
    const r2 = await trainDecoder(tf, m2, train, val, cfg(2), 3, path.join(dir, '2'));
    expect(r2.history.map((h) => h.loss)).toEqual(r1.history.map((h) => h.loss));
  });

  it('stops with a clear message when the loss becomes NaN, keeping the checkpoint', async () => {
    const dir = tmpDir();
    const bad: TrainSplit = { ...train, target: { ...train.target, data: train.target.data.map(() => NaN) } };
    const m = buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, 3);
    await expect(trainDecoder(tf, m, bad, null, cfg(1), 3, dir)).rejects.toThrow(/loss became NaN at epoch 1, step 1; lower train.lr/);
  });
});
