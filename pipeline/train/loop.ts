/**
 * The training loop, model-agnostic: any LayersModel, inputs/target as flat arrays. A seeded
 * batch order per epoch, one noise realization per epoch, each step in `tf.tidy`, the
 * validation loss (and PSNR) per epoch — of the weights' moving average with `train.ema` — and
 * everything else (history, LR schedule, early stopping, the average, checkpoints, progress,
 * logs, TensorBoard, grids) in callbacks. A NaN/Inf loss stops
 * the run with a TrainingError and leaves the last good checkpoint in place. Runtime-free: where
 * checkpoints go and how progress shows are injected (`CheckpointStore`, `ProgressFactory`); the
 * CLI's files and terminal bars are in `checkpoint.ts` and `terminal-progress.ts`.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { trainSchema, type TrainConfig, type TrainConfigInput } from '../../src/config/schema';
import { TrainingError } from '../../src/errors';
import { forkRng } from '../../src/random';
import { gatherRows } from '../../src/tensor/layout';
import {
  Callback, CallbackList, EarlyStopping, History, LrScheduler, ModelCheckpoint, ProgressBar, type EpochLog, type TrainerHandle,
} from './callbacks';
import type { CheckpointStore } from './checkpoint-store';
import { makeLoss, type LossFn } from './losses';
import { TrainOptimizer, type ParamGroup } from './optimizers';
import type { ProgressFactory } from './progress';
import { batchOrder, trainStep } from './step';
import { WeightAverage } from './weight-average';

export type { EpochLog } from './callbacks';

/** One model input (or the target): rows of `shape` (HWC), flattened. */
export interface ArrayInput {
  data: Float32Array;
  shape: [number, number, number];
}

/** A split as the model sees it: inputs hold `realizations × count` rows, the target `count` rows. */
export interface TrainSplit {
  /** Every realization's rows, or with {@link TrainSplit.realization} realization 0's only. */
  inputs: ArrayInput[];
  target: ArrayInput;
  count: number;
  realizations: number;
  /**
   * Set when the inputs are held one noise realization at a time (the train stage reads each from its
   * cache when an epoch needs it): realization r's `count` rows of every input.
   */
  realization?: (r: number) => ArrayInput[];
}

/** The inputs of each realization in turn (one block holding all rows when the split is in memory whole). */
export function* realizationBlocks(split: TrainSplit): Generator<ArrayInput[]> {
  if (!split.realization) {
    yield split.inputs;
    return;
  }
  for (let r = 0; r < split.realizations; r++) yield split.realization(r);
}

export interface TrainResult {
  history: EpochLog[];
  /** 1-based epoch with the lowest monitored loss (val loss, else train loss). */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Last completed epoch (0-based) of the checkpoint resumed from, or null for a fresh start. */
  resumedFromEpoch: number | null;
  /** Global step of the checkpoint resumed from, or null. */
  resumedFromStep: number | null;
  /** Steps taken in total (including those before a resume). */
  globalSteps: number;
}

export interface FitOptions {
  /** Seeds the batch order and dropout masks. */
  seed: number;
  /**
   * Where checkpoints go; a checkpoint already there is resumed. Without it nothing is saved
   * (the CLI passes a `DirCheckpointStore` on its work folder; `MemoryCheckpointStore` keeps them in memory).
   */
  checkpoints?: CheckpointStore;
  /** The per-epoch progress display (default: plain log lines; the CLI passes `terminalProgress`). */
  progress?: ProgressFactory;
  /** Extra callbacks (loggers, TensorBoard, grids), called after the built-in ones and before the checkpoint. */
  callbacks?: Callback[];
  /** Shown in progress lines (default 'epoch'). */
  label?: string;
  /** Weights with their own lr multiple and start epoch (fine-tuned encoder stages); the rest train at train.lr. */
  paramGroups?: readonly ParamGroup[];
}

const rowSize = (a: ArrayInput) => a.shape[0] * a.shape[1] * a.shape[2];

function batchTensors(tf: Tf, split: TrainSplit, inputs: ArrayInput[], rows: number[], targetRows: number[]) {
  const xs = inputs.map((inp) => tf.tensor4d(gatherRows(inp.data, rowSize(inp), rows), [rows.length, ...inp.shape]));
  const y = tf.tensor4d(gatherRows(split.target.data, rowSize(split.target), targetRows), [targetRows.length, ...split.target.shape]);
  return { xs, y };
}

export { batchOrder } from './step';

/**
 * Mean loss and mean per-sample PSNR (outputs clipped to [0,1], peak 1) of `model` over a
 * split (realization 0), batched. PSNR is null when the output and target sizes differ.
 */
export function evaluateSplit(tf: Tf, model: TfModule.LayersModel, split: TrainSplit, loss: LossFn, batch = 256): { loss: number; psnr: number | null } {
  let total = 0;
  let psnrSum = 0;
  let psnrOk = true;
  const pix = rowSize(split.target);
  for (let start = 0; start < split.count; start += batch) {
    const rows = Array.from({ length: Math.min(batch, split.count - start) }, (_, i) => start + i);
    let value = 0;
    let out = null as Float32Array | null;
    tf.tidy(() => {
      const { xs, y } = batchTensors(tf, split, split.inputs, rows, rows);
      const p = model.apply(xs, { training: false }) as TfModule.Tensor;
      value = loss(y, p).dataSync()[0];
      out = p.size === rows.length * pix ? (p.dataSync() as Float32Array) : null;
    });
    total += value * rows.length;
    if (!out) psnrOk = false;
    else {
      for (let r = 0; r < rows.length; r++) {
        const clean = split.target.data.subarray((start + r) * pix, (start + r + 1) * pix);
        let sum = 0;
        for (let i = 0; i < pix; i++) {
          const o = out[r * pix + i];
          const d = (o < 0 ? 0 : o > 1 ? 1 : o) - clean[i];
          sum += d * d;
        }
        // Identical images would give Infinity; cap at 100 dB so means stay finite.
        psnrSum += sum === 0 ? 100 : Math.min(100, 10 * Math.log10(pix / sum));
      }
    }
  }
  return { loss: total / split.count, psnr: psnrOk && split.count ? psnrSum / split.count : null };
}

/** Mean loss of `model` over a split (realization 0), batched. */
export function evaluateLoss(tf: Tf, model: TfModule.LayersModel, split: TrainSplit, kind: TrainConfig['loss'], batch: number): number {
  return evaluateSplit(tf, model, split, makeLoss(tf, kind), batch).loss;
}

/** Gives every Dropout layer a new seed per step: tfjs reuses one mask forever when a seed is fixed. */
function seedDropout(model: TfModule.LayersModel, seed: number, globalStep: number): void {
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'Dropout') return;
    // NOTE: `seed` is read by Dropout.call on every forward pass; it is readonly only in the typings.
    (layer as unknown as { seed: number }).seed = forkRng(seed, 'dropout', globalStep, i).int(2 ** 31 - 1) + 1;
  });
}

/**
 * Trains `model` in place on `train` (validated on `val` at each epoch end).
 * @param cfgIn the `train:` block; omitted fields take their schema defaults
 * @throws TrainingError on a NaN/Inf loss (the last good checkpoint is kept)
 */
export async function fit(
  tf: Tf, model: TfModule.LayersModel, train: TrainSplit, val: TrainSplit | null, cfgIn: TrainConfigInput, opts: FitOptions,
): Promise<TrainResult> {
  const cfg = trainSchema.parse(cfgIn);
  const loss = makeLoss(tf, cfg.loss, cfg);
  const optimizer = new TrainOptimizer(tf, model, cfg, opts.paramGroups);
  const history = new History();
  const ema = cfg.ema !== undefined ? new WeightAverage(cfg.ema) : undefined;
  const early = cfg.early_stopping
    ? new EarlyStopping({
      patience: cfg.early_stopping.patience, minDelta: cfg.early_stopping.min_delta, restoreBest: cfg.early_stopping.restore_best,
      weights: ema ? () => ema.weights() : undefined,
    })
    : undefined;
  // The average's onTrainEnd must run before early stopping's restore (which then restores an average).
  const list: Callback[] = [history, new LrScheduler(cfg.lr_schedule, cfg.lr, cfg.epochs), ...(ema ? [ema] : []), ...(early ? [early] : [])];
  list.push(new ProgressBar(opts.label, opts.progress), ...(opts.callbacks ?? []));
  const store = opts.checkpoints;
  if (store) list.push(new ModelCheckpoint(store, cfg.checkpoint_every));
  const callbacks = new CallbackList(list);
  const steps = Math.ceil(train.count / cfg.batch_size);
  const t: TrainerHandle = {
    tf, model, optimizer, cfg, seed: opts.seed, stepsPerEpoch: steps, stopTraining: false,
    epoch: 0, step: 0, globalStep: 0, epochLossSum: 0, epochSeen: 0, resumedAtStep: null, callbacks: list,
  };
  callbacks.setTrainer(t);
  const resumed = store ? await ModelCheckpoint.restore(store, t) : false;
  const resumedFromEpoch = resumed ? t.epoch - 1 : null;
  const hasDropout = model.layers.some((l) => l.getClassName() === 'Dropout');

  try {
    await callbacks.onTrainBegin({});
    for (; t.epoch < cfg.epochs && !t.stopTraining; t.epoch++, t.step = 0, t.epochLossSum = 0, t.epochSeen = 0) {
      optimizer.epoch = t.epoch;
      await callbacks.onEpochBegin(t.epoch, {});
      const order = batchOrder(opts.seed, t.epoch, train.count);
      const realization = t.epoch % train.realizations;
      const inputs = train.realization ? train.realization(realization) : train.inputs;
      const firstRow = train.realization ? 0 : realization * train.count;
      const t0 = performance.now();
      const seenBefore = t.epochSeen;
      while (t.step < steps && !t.stopTraining) {
        await callbacks.onBatchBegin(t.step, {});
        const targetRows = order.slice(t.step * cfg.batch_size, (t.step + 1) * cfg.batch_size);
        const rows = targetRows.map((i) => firstRow + i);
        if (hasDropout) seedDropout(model, opts.seed, t.globalStep);
        const value = await trainStep(tf, model, optimizer, loss, () => batchTensors(tf, train, inputs, rows, targetRows));
        if (!Number.isFinite(value)) {
          const last = store ? await store.latest() : undefined;
          const kept = store && last ? ` — the last good checkpoint (${last}) is kept in ${store.location}` : '';
          throw new TrainingError(
            `loss became ${value} at epoch ${t.epoch + 1}, step ${t.step + 1}; lower train.lr (now ${optimizer.lr}) or set train.clip_norm${kept}`,
          );
        }
        t.step += 1;
        t.globalStep += 1;
        t.epochLossSum += value * targetRows.length;
        t.epochSeen += targetRows.length;
        await callbacks.onBatchEnd(t.step - 1, { loss: value, lr: optimizer.lr, size: targetRows.length });
      }
      if (t.step < steps) break; // stopped mid-epoch: no epoch-end results
      const seconds = (performance.now() - t0) / 1000;
      const validate = () => (val && val.count ? evaluateSplit(tf, model, val, loss) : null);
      const v = ema ? await ema.withAverage(validate) : validate();
      await callbacks.onEpochEnd(t.epoch, {
        loss: t.epochLossSum / t.epochSeen, val_loss: v?.loss ?? null, val_psnr: v?.psnr ?? null, lr: optimizer.lr,
        seconds, samples_per_second: (t.epochSeen - seenBefore) / seconds,
      });
    }
    await callbacks.onTrainEnd({});
  } finally {
    await callbacks.close();
    optimizer.dispose();
  }
  const epochs = history.epochs;
  const score = (e: EpochLog) => e.valLoss ?? e.loss;
  let best = epochs.reduce<EpochLog | undefined>((b, e) => (!b || score(e) < score(b) ? e : b), undefined)?.epoch ?? 0;
  if (early && early.bestEpoch >= 0) best = early.bestEpoch + 1;
  return {
    history: epochs, bestEpoch: best, stoppedEarly: early?.stopped ?? false, resumedFromEpoch,
    resumedFromStep: resumed ? t.resumedAtStep : null, globalSteps: t.globalStep,
  };
}
