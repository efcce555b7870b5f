/**
 * The decoder training loop: seeded batch order per epoch, one noise realization per epoch,
 * MSE/L1 (+ L2) minimized with Adam or SGD, validation loss per epoch, LR schedule, early
 * stopping with best-weight restore, a checkpoint at each epoch end (resume continues with the
 * same optimizer state and data order), and a clear stop on NaN/Inf loss or a collapsed output.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf';
import type { JobConfig } from '../../src/config/schema';
import { TrainingError } from '../../src/errors';
import { log } from '../../src/log';
import { forkRng } from '../../src/random';
import { gatherRows } from '../../src/tensor/layout';
import { loadCheckpoint, saveCheckpoint, type CheckpointState, type StoredArray } from './checkpoint';
import { epochProgress } from './progress';
import { lrAt } from './schedules';

/** One model input (or the target): `rows` samples of `shape` (HWC), flattened. */
export interface ArrayInput {
  data: Float32Array;
  shape: [number, number, number];
}

/** A split as the decoder sees it: inputs hold `realizations × count` rows, the target `count` rows. */
export interface TrainSplit {
  inputs: ArrayInput[];
  target: ArrayInput;
  count: number;
  realizations: number;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss: number | null;
  lr: number;
  seconds: number;
  samplesPerSecond: number;
}

interface LoopState extends CheckpointState {
  history: EpochLog[];
  bestEpoch: number;
  bestVal: number | null;
  wait: number;
  stopped: boolean;
}

export interface TrainResult {
  history: EpochLog[];
  bestEpoch: number;
  stoppedEarly: boolean;
  resumedFromEpoch: number | null;
}

const rowSize = (a: ArrayInput) => a.shape[0] * a.shape[1] * a.shape[2];

function batchTensors(tf: Tf, split: TrainSplit, rows: number[], targetRows: number[]) {
  const xs = split.inputs.map((inp) => tf.tensor4d(gatherRows(inp.data, rowSize(inp), rows), [rows.length, ...inp.shape]));
  const y = tf.tensor4d(gatherRows(split.target.data, rowSize(split.target), targetRows), [targetRows.length, ...split.target.shape]);
  return { xs, y };
}

function lossFn(tf: Tf, kind: JobConfig['train']['loss']) {
  return (y: TfModule.Tensor, p: TfModule.Tensor) => (kind === 'l1' ? tf.losses.absoluteDifference(y, p) : tf.losses.meanSquaredError(y, p));
}

/** Mean loss of `model` over a split (realization 0), batched. */
export function evaluateLoss(tf: Tf, model: TfModule.LayersModel, split: TrainSplit, kind: JobConfig['train']['loss'], batch: number): number {
  const loss = lossFn(tf, kind);
  let total = 0;
  for (let start = 0; start < split.count; start += batch) {
    const rows = Array.from({ length: Math.min(batch, split.count - start) }, (_, i) => start + i);
    total += tf.tidy(() => {
      const { xs, y } = batchTensors(tf, split, rows, rows);
      const p = model.apply(xs, { training: false }) as TfModule.Tensor;
      return (loss(y, p).dataSync()[0] as number) * rows.length;
    });
  }
  return total / split.count;
}

function makeOptimizer(tf: Tf, cfg: JobConfig['train']): TfModule.Optimizer {
  return cfg.optimizer === 'sgd' ? tf.train.momentum(cfg.lr, cfg.momentum) : tf.train.adam(cfg.lr);
}

function setLr(opt: TfModule.Optimizer, lr: number): void {
  // NOTE: tfjs optimizers read `learningRate` on every step; it is protected only in the typings.
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

/** Copies tensors out as float32 (the optimizer's iteration count is int32: store its value, not its bits). */
const snapshot = (ts: TfModule.Tensor[]): StoredArray[] =>
  ts.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync() as ArrayLike<number>) }));

function setWeightsFrom(tf: Tf, model: TfModule.LayersModel, arrays: StoredArray[]): void {
  const ts = arrays.map((a) => tf.tensor(a.data, a.shape));
  model.setWeights(ts);
  tf.dispose(ts);
}

/**
 * Trains `model` in place.
 * @param workDir checkpoint folder; an existing checkpoint there is resumed.
 * @throws TrainingError on a NaN/Inf loss (the last good checkpoint is kept).
 */
export async function trainDecoder(
  tf: Tf,
  model: TfModule.LayersModel,
  train: TrainSplit,
  val: TrainSplit | null,
  cfg: JobConfig['train'],
  seed: number,
  workDir: string,
): Promise<TrainResult> {
  const optimizer = makeOptimizer(tf, cfg);
  const loss = lossFn(tf, cfg.loss);
  const kernels = model.trainableWeights.filter((w) => w.name.endsWith('kernel'));
  let state: LoopState = { epoch: -1, history: [], bestEpoch: -1, bestVal: null, wait: 0, stopped: false };
  let best: StoredArray[] | null = null;
  let resumedFromEpoch: number | null = null;

  const ckpt = loadCheckpoint<LoopState>(workDir);
  if (ckpt) {
    state = ckpt.state;
    setWeightsFrom(tf, model, ckpt.groups.model);
    if (ckpt.groups.optimizer.length) {
      const names = (ckpt.state as unknown as { optimizerNames: string[] }).optimizerNames;
      const dtypes = (ckpt.state as unknown as { optimizerDtypes: TfModule.DataType[] }).optimizerDtypes;
      const named = ckpt.groups.optimizer.map((a, i) => ({ name: names[i], tensor: tf.tensor(a.data, a.shape, dtypes[i]) }));
      await optimizer.setWeights(named);
      tf.dispose(named.map((w) => w.tensor));
    }
    best = ckpt.groups.best.length ? ckpt.groups.best : null;
    resumedFromEpoch = state.epoch;
    log.info(`Resuming training after epoch ${state.epoch + 1} from ${workDir}`);
  }

  const steps = Math.ceil(train.count / cfg.batch_size);
  for (let epoch = state.epoch + 1; epoch < cfg.epochs && !state.stopped; epoch++) {
    const lr = lrAt(cfg.lr_schedule, cfg.lr, epoch, cfg.epochs);
    setLr(optimizer, lr);
    const order = Array.from({ length: train.count }, (_, i) => i);
    forkRng(seed, 'order', epoch).shuffle(order);
    const realization = epoch % train.realizations;
    const progress = epochProgress(`epoch ${epoch + 1}/${cfg.epochs}`, steps, cfg.batch_size);
    const t0 = performance.now();
    let sum = 0;
    let seen = 0;
    for (let s = 0; s < steps; s++) {
      const targetRows = order.slice(s * cfg.batch_size, (s + 1) * cfg.batch_size);
      const rows = targetRows.map((i) => realization * train.count + i);
      const { xs, y } = batchTensors(tf, train, rows, targetRows);
      const cost = optimizer.minimize(() => {
        const p = model.apply(xs, { training: true }) as TfModule.Tensor;
        let l = loss(y, p) as TfModule.Scalar;
        if (cfg.l2 > 0 && kernels.length) {
          l = tf.add(l, tf.mul(cfg.l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k.read())))))) as TfModule.Scalar;
        }
        return l;
      }, true) as TfModule.Scalar;
      const value = (await cost.data())[0];
      tf.dispose([cost, y, ...xs]);
      if (!Number.isFinite(value)) {
        progress.stop();
        throw new TrainingError(
          `loss became ${value} at epoch ${epoch + 1}, step ${s + 1}; lower train.lr (now ${lr})` +
            (state.epoch >= 0 ? ` — the checkpoint after epoch ${state.epoch + 1} is kept in ${workDir}` : ''),
        );
      }
      sum += value * targetRows.length;
      seen += targetRows.length;
      progress.update(s + 1, { loss: sum / seen });
    }
    progress.stop();
    const seconds = (performance.now() - t0) / 1000;
    const valLoss = val && val.count ? evaluateLoss(tf, model, val, cfg.loss, 256) : null;
    const entry: EpochLog = { epoch: epoch + 1, loss: sum / seen, valLoss, lr, seconds, samplesPerSecond: seen / seconds };
    state.history.push(entry);
    log.info(
      `epoch ${epoch + 1}/${cfg.epochs}: loss ${entry.loss.toFixed(5)}` +
        (valLoss !== null ? `, val_loss ${valLoss.toFixed(5)}` : '') +
        `, lr ${lr.toExponential(2)}, ${seconds.toFixed(1)} s (${entry.samplesPerSecond.toFixed(0)} samples/s)`,
    );

    const monitored = valLoss ?? entry.loss;
    const minDelta = cfg.early_stopping?.min_delta ?? 0;
    if (state.bestVal === null || monitored < state.bestVal - minDelta) {
      state.bestVal = monitored;
      state.bestEpoch = epoch;
      state.wait = 0;
      if (cfg.early_stopping) best = snapshot(model.getWeights());
    } else {
      state.wait += 1;
      if (cfg.early_stopping && state.wait >= cfg.early_stopping.patience) {
        state.stopped = true;
        log.info(`Early stopping: no val_loss improvement for ${state.wait} epochs; best was epoch ${state.bestEpoch + 1}`);
      }
    }
    state.epoch = epoch;
    const optWeights = await optimizer.getWeights();
    saveCheckpoint(workDir, {
      state: { ...state, optimizerNames: optWeights.map((w) => w.name), optimizerDtypes: optWeights.map((w) => w.tensor.dtype) } as LoopState,
      groups: { model: snapshot(model.getWeights()), optimizer: snapshot(optWeights.map((w) => w.tensor)), best: best ?? [] },
    });
  }
  if (cfg.early_stopping && best && state.bestEpoch !== state.epoch) {
    setWeightsFrom(tf, model, best);
    log.info(`Restored the best weights (epoch ${state.bestEpoch + 1})`);
  }
  optimizer.dispose();
  return { history: state.history, bestEpoch: state.bestEpoch + 1, stoppedEarly: state.stopped, resumedFromEpoch };
}
