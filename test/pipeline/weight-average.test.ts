/**
 * `train.ema`: the model ends with the exponential moving average of the raw weights after each
 * step (recomputed here from the raw weights a callback records, with the warm-up decay written out
 * by hand), the validation loss is the average's, early stopping keeps an average, and a resume
 * from a checkpoint gives the same average as an uninterrupted run.
 */
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/backends/tf';
import { loadJobConfig } from '../../src/config/load';
import { trainSchema } from '../../src/config/schema';
import { Callback } from '../../pipeline/train/callbacks';
import { buildDecoder } from '../../pipeline/train/decoder';
import { trainDecoder } from '../../pipeline/train/fit-node';
import { evaluateSplit, fit } from '../../pipeline/train/loop';
import { makeLoss } from '../../pipeline/train/losses';
import { emaDecay } from '../../pipeline/train/weight-average';
import { tmpDir } from '../helpers/tmp';
import { ROOT } from '../helpers/jobs';
import { syntheticSplit } from '../helpers/synthetic-split';

const flat = (ws: TfModule.Tensor[]) => ws.flatMap((w) => Array.from(w.dataSync()));

/** Records the model's (raw) weights after every step. */
class RawWeights extends Callback {
  seen: number[][] = [];
  override async onTrainBegin(): Promise<void> {
    this.seen = [flat(this.trainer.model.getWeights())];
  }
  override async onBatchEnd(): Promise<void> {
    this.seen.push(flat(this.trainer.model.getWeights()));
  }
}

describe('train.ema (weight moving average)', () => {
  let tf: Tf;
  const job = loadJobConfig(path.join(ROOT, 'configs', 'mnist-dae.yaml'));
  const decoderCfg = { ...job.decoder, widths: [4, 4] };
  const train = syntheticSplit(40, 1);
  const val = syntheticSplit(10, 2);
  const cfg = (epochs: number, extra: object = {}) => ({ ...job.train, epochs, batch_size: 16, ema: 0.9, lr: 0.01, ...extra });
  const model = (seed: number) => buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, seed);

  beforeAll(async () => {
    tf = (await initTf()).tf;
  });

  it('warms its decay up as (1 + n) / (10 + n), capped at the decay', () => {
    expect(emaDecay(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecay(0.999, 10)).toBeCloseTo(11 / 20, 12);
    expect(emaDecay(0.9, 1000)).toBe(0.9);
  });

  it('rejects a decay outside (0, 1) naming the field', () => {
    const r = trainSchema.safeParse({ ema: 1 });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/ema.*decay in \(0, 1\)/s);
  });

  it('ends with the average of the raw weights, and validates the average', async () => {
    const m = model(5);
    const raw = new RawWeights();
    const result = await fit(tf, m, train, val, cfg(2), { seed: 5, callbacks: [raw] });
    // By hand: avg₀ = w₀, avgₙ₊₁ = d·avgₙ + (1 − d)·wₙ₊₁ with d = min(0.9, (1 + n) / (10 + n)).
    let avg = raw.seen[0].slice();
    raw.seen.slice(1).forEach((w, n) => {
      const d = Math.min(0.9, (1 + n) / (10 + n));
      avg = avg.map((a, i) => d * a + (1 - d) * w[i]);
    });
    expect(raw.seen.length).toBe(1 + 2 * Math.ceil(40 / 16));
    const final = flat(m.getWeights());
    expect(final).toBeCloseToArray(avg, { atol: 1e-6 });
    expect(final).not.toBeCloseToArray(raw.seen[raw.seen.length - 1], { atol: 1e-6 });
    // The last epoch's val loss is the averaged model's.
    const own = evaluateSplit(tf, m, val, makeLoss(tf, 'mse')).loss;
    expect(result.history[1].valLoss).toBeCloseTo(own, 6);
  });

  it('early stopping restores an averaged best epoch', async () => {
    const m = model(6);
    const raw = new RawWeights();
    // min_delta huge: epoch 1 is the best, epoch 2 stops; the model must hold epoch 1's average.
    const result = await fit(tf, m, train, val, cfg(4, { early_stopping: { patience: 1, min_delta: 1e6 } }), { seed: 6, callbacks: [raw] });
    expect(result.stoppedEarly).toBe(true);
    const perEpoch = Math.ceil(40 / 16);
    let avg = raw.seen[0].slice();
    raw.seen.slice(1, 1 + perEpoch).forEach((w, n) => {
      const d = Math.min(0.9, (1 + n) / (10 + n));
      avg = avg.map((a, i) => d * a + (1 - d) * w[i]);
    });
    expect(flat(m.getWeights())).toBeCloseToArray(avg, { atol: 1e-6 });
  });

  it('a resumed run averages exactly as an uninterrupted one', async () => {
    const dir = tmpDir();
    const straight = model(7);
    const a = await trainDecoder(tf, straight, train, val, cfg(3), 7, path.join(dir, 'a'));
    await trainDecoder(tf, model(7), train, val, cfg(1), 7, path.join(dir, 'b'));
    const resumed = model(99); // a new process: raw weights and the average come from the checkpoint
    const b = await trainDecoder(tf, resumed, train, val, cfg(3), 7, path.join(dir, 'b'));
    expect(b.resumedFromEpoch).toBe(0);
    expect(b.history.map((h) => h.valLoss as number)).toBeCloseToArray(a.history.map((h) => h.valLoss as number), { atol: 1e-6 });
    expect(flat(resumed.getWeights())).toBeCloseToArray(flat(straight.getWeights()), { atol: 1e-6 });
  });
});
