/**
 * The training loop's features on tiny models: losses and optimizer steps against hand
 * calculations (AdamW's decoupled decay, gradient clipping by norm and by value), a crash
 * between step checkpoints resumed mid-epoch giving the same curve and weights as an
 * uninterrupted run (with dropout, AdamW, clipping, warm-up and plateau all active), in files and
 * in memory (the runtime-free store), NaN keeping the last good checkpoint, the injected progress
 * display, and early stopping restoring the best weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { Callback, EarlyStopping, type TrainerHandle } from '../../pipeline/train/callbacks';
import { DirCheckpointStore, latestCheckpoint } from '../../pipeline/train/checkpoint';
import { MemoryCheckpointStore } from '../../pipeline/train/checkpoint-store';
import { buildDecoder } from '../../pipeline/train/decoder';
import { makeLoss } from '../../pipeline/train/losses';
import { fit, type TrainSplit } from '../../pipeline/train/loop';
import { initTf, type Tf } from '../../src/backends/tf';
import { type TrainConfigInput } from '../../src/config/schema';
import { TrainingError } from '../../src/errors';
import { forkRng } from '../../src/random';
import { tmpDir } from '../helpers/tmp';
import { syntheticSplit } from '../helpers/synthetic-split';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});


/** One weight w, no bias: y = w·x. */
function scalarModel(w0: number): TfModule.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 1, useBias: false, inputShape: [1, 1, 1], kernelInitializer: tf.initializers.constant({ value: w0 }) }));
  return m;
}
const one = (x: number, y: number): TrainSplit => ({
  inputs: [{ data: Float32Array.of(x), shape: [1, 1, 1] }], target: { data: Float32Array.of(y), shape: [1, 1, 1] }, count: 1, realizations: 1,
});
const weight = (m: TfModule.LayersModel) => m.getWeights()[0].dataSync()[0];

describe('losses', () => {
  it('match hand calculations', () => {
    const y = tf.tensor1d([0, 1, 0.5, 0.25]);
    const p = tf.tensor1d([0.1, 0.7, 0.5, 0.75]);
    const d = [-0.1, 0.3, 0, -0.5];
    const val = (name: string, eps = 1e-3) => makeLoss(tf, name, { charbonnier_eps: eps })(y, p).dataSync()[0];
    expect(val('mse')).toBeCloseTo(d.reduce((a, v) => a + v * v, 0) / 4, 6);
    expect(val('l1')).toBeCloseTo(d.reduce((a, v) => a + Math.abs(v), 0) / 4, 6);
    expect(val('charbonnier', 0.1)).toBeCloseTo(d.reduce((a, v) => a + Math.sqrt(v * v + 0.01), 0) / 4, 6);
    const bce = [0, 1, 0.5, 0.25].map((t, i) => {
      const q = [0.1, 0.7, 0.5, 0.75][i];
      return -(t * Math.log(q) + (1 - t) * Math.log(1 - q));
    });
    expect(val('bce')).toBeCloseTo(bce.reduce((a, v) => a + v, 0) / 4, 5);
    // psnr on a rank-1 batch: each element is one sample, 10·log10(d² + 1e-5) averaged.
    expect(val('psnr')).toBeCloseTo(d.reduce((a, v) => a + 10 * Math.log10(v * v + 1e-5), 0) / 4, 4);
    expect(() => makeLoss(tf, 'huber')).toThrow(/unknown loss 'huber'; losses: mse, l1, charbonnier, psnr, bce/);
    tf.dispose([y, p]);
  });

  it('psnr is minus the mean PSNR of the samples of a batch (per sample over H, W, C), not the PSNR of the batch', () => {
    // Two 2×2×1 samples: errors 0.1 everywhere (MSE 1e-2, 20 dB) and 0.01 everywhere (MSE 1e-4, 40 dB).
    const y = tf.zeros([2, 2, 2, 1]);
    const p = tf.tensor4d([0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01], [2, 2, 2, 1]);
    const psnr = (mse: number) => -10 * Math.log10(mse + 1e-5);
    expect(makeLoss(tf, 'psnr')(y, p).dataSync()[0]).toBeCloseTo(-(psnr(1e-2) + psnr(1e-4)) / 2, 3);
    // ≈ −29.8 dB; the PSNR of the pooled MSE would be ≈ −23.0: the clean-ish sample counts as much as the noisy one.
    expect(makeLoss(tf, 'psnr')(y, p).dataSync()[0]).toBeLessThan(-29);
    tf.dispose([y, p]);
  });
});

describe('optimizer steps', () => {
  const step1 = async (cfg: TrainConfigInput, w0: number, x: number, target: number) => {
    const m = scalarModel(w0);
    await fit(tf, m, one(x, target), null, { epochs: 1, batch_size: 1, ...cfg }, { seed: 1 });
    return weight(m);
  };

  it("'adamw' decays kernels by lr·weight_decay before the update; 'adam' does not", async () => {
    // x = 0: the gradient is 0, so Adam moves nothing and only the decay acts.
    expect(await step1({ optimizer: 'adamw', lr: 0.1, weight_decay: 0.5 }, 2, 0, 0)).toBeCloseTo(2 * (1 - 0.1 * 0.5), 6);
    expect(await step1({ optimizer: 'adam', lr: 0.1, weight_decay: 0.5 }, 2, 0, 0)).toBe(2);
  });

  it('clips the gradient by global norm and by value', async () => {
    // loss (w·1 − 10)² at w = 0: gradient −20; plain SGD moves w by −lr·g.
    const sgd = { optimizer: 'sgd', momentum: 0, lr: 0.1 } as const;
    expect(await step1(sgd, 0, 1, 10)).toBeCloseTo(2, 5);
    expect(await step1({ ...sgd, clip_norm: 1 }, 0, 1, 10)).toBeCloseTo(0.1, 6);
    expect(await step1({ ...sgd, clip_value: 0.5 }, 0, 1, 10)).toBeCloseTo(0.05, 6);
  });

  it('adds the L2 penalty to the loss', async () => {
    // loss = (w·0 − 0)² + l2·w²: gradient 2·l2·w = 2 at w = 2, l2 = 0.5.
    expect(await step1({ optimizer: 'sgd', momentum: 0, lr: 0.1, l2: 0.5 }, 2, 0, 0)).toBeCloseTo(2 - 0.1 * 2, 6);
  });
});

/** Throws after a given global step, like a crash between two checkpoints. */
class CrashAt extends Callback {
  constructor(readonly step: number) {
    super();
  }
  override async onBatchEnd(): Promise<void> {
    if (this.trainer.globalStep === this.step) throw new Error('simulated crash');
  }
}

describe('mid-epoch resume', () => {
  const train = syntheticSplit(40, 1);
  const val = syntheticSplit(10, 2);
  const decoderCfg = { widths: [4, 4], dropout: 0.2 };
  const cfg: TrainConfigInput = {
    optimizer: 'adamw', weight_decay: 0.05, clip_norm: 0.5, epochs: 4, batch_size: 8, checkpoint_every: 2, loss: 'charbonnier',
    lr_schedule: { type: 'plateau', patience: 1, gamma: 0.5, warmup_steps: 3 }, early_stopping: { patience: 3 },
  };
  const build = (seed: number) => buildDecoder(tf, [{ channels: 3, stride: 2 }], 1, decoderCfg, seed);
  const weights = (m: TfModule.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

  it('continues from the step checkpoint with the same batches, optimizer state and dropout masks', async () => {
    const dir = tmpDir();
    const straight = build(5);
    const a = await fit(tf, straight, train, val, cfg, { seed: 5, checkpoints: new DirCheckpointStore(path.join(dir, 'a')) });

    const crashed = build(5);
    await expect(fit(tf, crashed, train, val, cfg, { seed: 5, checkpoints: new DirCheckpointStore(path.join(dir, 'b')), callbacks: [new CrashAt(8)] })).rejects.toThrow('simulated crash');
    // 5 steps per epoch: the last checkpoint before step 8 is the one at step 6 (epoch 2, step 1).
    expect(latestCheckpoint(path.join(dir, 'b'))).toBe('ckpt-step-000006');
    const resumed = build(77); // a new process rebuilds the model; the weights come from the checkpoint
    const b = await fit(tf, resumed, train, val, cfg, { seed: 5, checkpoints: new DirCheckpointStore(path.join(dir, 'b')) });

    expect(b.resumedFromStep).toBe(6);
    expect(b.resumedFromEpoch).toBe(0);
    expect(b.globalSteps).toBe(a.globalSteps);
    expect(b.history.map((h) => [h.loss, h.valLoss, h.lr])).toEqual(a.history.map((h) => [h.loss, h.valLoss, h.lr]));
    expect(weights(resumed)).toEqual(weights(straight));
  });

  it('resumes the same way from the in-memory store (no files)', async () => {
    const straight = build(5);
    const a = await fit(tf, straight, train, val, cfg, { seed: 5 });

    const store = new MemoryCheckpointStore();
    await expect(fit(tf, build(5), train, val, cfg, { seed: 5, checkpoints: store, callbacks: [new CrashAt(8)] })).rejects.toThrow('simulated crash');
    expect(await store.latest()).toBe('ckpt-step-000006');
    const resumed = build(77);
    const b = await fit(tf, resumed, train, val, cfg, { seed: 5, checkpoints: store });

    expect(b.resumedFromStep).toBe(6);
    expect(b.history.map((h) => [h.loss, h.valLoss, h.lr])).toEqual(a.history.map((h) => [h.loss, h.valLoss, h.lr]));
    expect(weights(resumed)).toEqual(weights(straight));
    expect(await store.latest()).toBe('ckpt-0003');
  });

  it('drives the injected progress display once per epoch, from the resumed step', async () => {
    const calls: string[] = [];
    const progress = (label: string, total: number, perStep: number, start: number) => {
      calls.push(`${label} ${start}/${total} ×${perStep}`);
      return { update: (step: number) => void calls.push(`u${step}`), stop: () => void calls.push('stop') };
    };
    const store = new MemoryCheckpointStore();
    const two = { ...cfg, epochs: 2 };
    await expect(fit(tf, build(3), train, null, two, { seed: 3, checkpoints: store, callbacks: [new CrashAt(8)] })).rejects.toThrow('simulated crash');
    calls.length = 0;
    await fit(tf, build(3), train, null, two, { seed: 3, checkpoints: store, progress, label: 'ep' });
    // Resumed from the step-6 checkpoint: epoch 2 starts its display at step 1 of 5.
    expect(calls).toEqual(['ep 2/2 1/5 ×8', 'u2', 'u3', 'u4', 'u5', 'stop']);
  });

  it('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const dir = tmpDir();
    const m = build(3);
    await fit(tf, m, train, null, { ...cfg, epochs: 1 }, { seed: 3, checkpoints: new DirCheckpointStore(dir) });
    expect(latestCheckpoint(dir)).toBe('ckpt-0000');
    const before = fs.readFileSync(path.join(dir, 'ckpt-0000', 'tensors.bin'));
    const bad: TrainSplit = { ...train, target: { ...train.target, data: train.target.data.map(() => NaN) } };
    const err = await fit(tf, m, bad, null, { ...cfg, epochs: 2 }, { seed: 3, checkpoints: new DirCheckpointStore(dir) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect((err as Error).message).toMatch(/loss became NaN at epoch 2, step 1; lower train.lr .* the last good checkpoint \(ckpt-0000\) is kept in /);
    expect(latestCheckpoint(dir)).toBe('ckpt-0000');
    expect(fs.readFileSync(path.join(dir, 'ckpt-0000', 'tensors.bin')).equals(before)).toBe(true);
  });
});

describe('EarlyStopping with a model', () => {
  it('restores the weights of the best epoch at the end', async () => {
    const m = scalarModel(1);
    const t = { tf, model: m, stopTraining: false } as unknown as TrainerHandle;
    const es = new EarlyStopping({ patience: 2 });
    es.setTrainer(t);
    const logs = (v: number) => ({ loss: 1, val_loss: v, lr: 0.1, seconds: 1, samples_per_second: 1 });
    await es.onEpochEnd(0, logs(0.5));
    m.setWeights([tf.tensor([[2]])]);
    await es.onEpochEnd(1, logs(0.4)); // best: w = 2
    m.setWeights([tf.tensor([[3]])]);
    await es.onEpochEnd(2, logs(0.6));
    m.setWeights([tf.tensor([[4]])]);
    await es.onEpochEnd(3, logs(0.7));
    expect(t.stopTraining).toBe(true);
    await es.onTrainEnd();
    expect(weight(m)).toBe(2);
  });
});
