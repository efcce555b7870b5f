/**
 * Training callbacks in the tfjs-layers style: a `Callback` with async no-op hooks, a
 * `CallbackList` that calls them in order, and a `stopTraining` flag on the trainer that the
 * loop checks after every batch and epoch. History, early stopping, the LR schedule,
 * checkpoints and the progress display are callbacks here; the JSONL log, the TensorBoard
 * writer and the image grid write files and live in their own (Node) modules. Stateful callbacks
 * save and load their state through checkpoints, so a resumed run behaves exactly like an
 * uninterrupted one. Runtime-free: checkpoints go to an injected `CheckpointStore` and the
 * progress display comes from an injected `ProgressFactory`, so `fit` runs in a browser too.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import type { TrainConfig } from '../../src/config/schema';
import { log } from '../../src/log';
import type { CheckpointState, CheckpointStore, StoredArray } from './checkpoint-store';
import type { OptimizerState, TrainOptimizer } from './optimizers';
import { lineProgress, type Progress, type ProgressFactory } from './progress';
import { lrAt, warmupFactor, type ScheduleConfig } from './schedules';

/** Numbers a hook receives (tfjs `Logs`): `loss`, `val_loss`, `val_psnr`, `lr`, `size`, … */
export type Logs = Record<string, number | null | undefined>;

/** What a stateful callback stores in a checkpoint: JSON plus float arrays (e.g. best weights). */
export interface CallbackState {
  json: unknown;
  arrays?: StoredArray[];
}

/** The training position and objects the loop shares with its callbacks. */
export interface TrainerHandle {
  readonly tf: Tf;
  readonly model: TfModule.LayersModel;
  readonly optimizer: TrainOptimizer;
  readonly cfg: TrainConfig;
  readonly seed: number;
  readonly stepsPerEpoch: number;
  /** Set by a callback to end training after the current batch (tfjs `model.stopTraining`). */
  stopTraining: boolean;
  /** Current epoch (0-based). */
  epoch: number;
  /** Steps done in the current epoch. */
  step: number;
  /** Steps done since training started. */
  globalStep: number;
  /** Loss sum and sample count of the current epoch so far (a mid-epoch checkpoint keeps them). */
  epochLossSum: number;
  epochSeen: number;
  /** Global step of the checkpoint this run resumed from, or null for a fresh start. */
  resumedAtStep: number | null;
  /** All callbacks, in call order (ModelCheckpoint collects their states). */
  callbacks: readonly Callback[];
}

/** Base class: every hook is an async no-op. */
export abstract class Callback {
  /** Key of this callback's state in checkpoints (stateful callbacks only). */
  readonly stateKey: string | undefined = undefined;
  protected trainer!: TrainerHandle;

  setTrainer(trainer: TrainerHandle): void {
    this.trainer = trainer;
  }
  async onTrainBegin(_logs: Logs): Promise<void> {}
  async onEpochBegin(_epoch: number, _logs: Logs): Promise<void> {}
  async onBatchBegin(_step: number, _logs: Logs): Promise<void> {}
  async onBatchEnd(_step: number, _logs: Logs): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs: Logs): Promise<void> {}
  async onTrainEnd(_logs: Logs): Promise<void> {}
  /** Releases terminals and files; called once, also when training failed. */
  async close(): Promise<void> {}
  /** State to checkpoint (stateful callbacks override it together with {@link loadState}). */
  saveState(): CallbackState | undefined {
    return undefined;
  }
  loadState(_state: CallbackState): void {}
}

/** Calls every callback's hook in order. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}

  setTrainer(t: TrainerHandle): void {
    for (const c of this.callbacks) c.setTrainer(t);
  }
  async onTrainBegin(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin(logs);
  }
  async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(epoch, logs);
  }
  async onBatchBegin(step: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin(step, logs);
  }
  async onBatchEnd(step: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd(step, logs);
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(epoch, logs);
  }
  async onTrainEnd(logs: Logs = {}): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd(logs);
  }
  /** Closes every callback, even if one of them throws (the first error is rethrown). */
  async close(): Promise<void> {
    let first: unknown;
    for (const c of this.callbacks) {
      try {
        await c.close();
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}

/** One finished epoch, as `history.json` stores it. */
export interface EpochLog {
  /** 1-based. */
  epoch: number;
  /** Global step at the end of the epoch. */
  step: number;
  loss: number;
  valLoss: number | null;
  /** Mean PSNR (dB) of the clipped outputs on the validation split, when output and target sizes match. */
  valPsnr: number | null;
  lr: number;
  seconds: number;
  samplesPerSecond: number;
  /** Set by the train stage on epoch 1 when the head has not beaten its noisy input (see learning-check.ts). */
  warning?: string;
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Records one {@link EpochLog} per epoch (tfjs `History`). */
export class History extends Callback {
  override readonly stateKey = 'history';
  epochs: EpochLog[] = [];

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.epochs.push({
      epoch: epoch + 1,
      step: this.trainer?.globalStep ?? 0,
      loss: logs.loss as number,
      valLoss: num(logs.val_loss),
      valPsnr: num(logs.val_psnr),
      lr: logs.lr as number,
      seconds: logs.seconds as number,
      samplesPerSecond: logs.samples_per_second as number,
    });
  }
  override saveState(): CallbackState {
    return { json: this.epochs };
  }
  override loadState(s: CallbackState): void {
    this.epochs = s.json as EpochLog[];
  }
}

/** The monitored value of an epoch: the validation loss, or the training loss without a val split. */
export const monitored = (logs: Logs): number => num(logs.val_loss) ?? (logs.loss as number);

export interface EarlyStoppingOptions {
  patience: number;
  minDelta?: number;
  /** End with the weights of the best epoch (default true). */
  restoreBest?: boolean;
  /** Where the best epoch's weights come from (default: the model's; with `train.ema`, the average). */
  weights?: () => StoredArray[];
}

/** Stops when the monitored loss has not improved by `minDelta` for `patience` epochs (tfjs `EarlyStopping`, mode min). */
export class EarlyStopping extends Callback {
  override readonly stateKey = 'early_stopping';
  best: number | null = null;
  /** 0-based epoch of the best value (-1: none yet). */
  bestEpoch = -1;
  wait = 0;
  stopped = false;
  /** 0-based epoch that ended last. */
  lastEpoch = -1;
  private bestWeights: StoredArray[] | null = null;

  constructor(readonly opts: EarlyStoppingOptions) {
    super();
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const value = monitored(logs);
    this.lastEpoch = epoch;
    if (this.best === null || value < this.best - (this.opts.minDelta ?? 0)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.opts.restoreBest !== false && this.trainer) this.bestWeights = this.opts.weights ? this.opts.weights() : snapshot(this.trainer.model.getWeights());
      return;
    }
    this.wait += 1;
    if (this.wait >= this.opts.patience) {
      this.stopped = true;
      if (this.trainer) this.trainer.stopTraining = true;
      log.info(`Early stopping: no improvement for ${this.wait} epochs; best was epoch ${this.bestEpoch + 1} (${this.best.toFixed(5)})`);
    }
  }

  override async onTrainEnd(_logs: Logs = {}): Promise<void> {
    const t = this.trainer;
    if (!t || this.opts.restoreBest === false || !this.bestWeights || this.bestEpoch === this.lastEpoch) return;
    setWeightsFrom(t.tf, t.model, this.bestWeights);
    log.info(`Restored the best weights (epoch ${this.bestEpoch + 1})`);
  }

  override saveState(): CallbackState {
    const { best, bestEpoch, wait, stopped, lastEpoch } = this;
    return { json: { best, bestEpoch, wait, stopped, lastEpoch }, arrays: this.bestWeights ?? [] };
  }
  override loadState(s: CallbackState): void {
    Object.assign(this, s.json as object);
    this.bestWeights = s.arrays?.length ? s.arrays : null;
    // A run that had already stopped early stays stopped when resumed.
    if (this.stopped && this.trainer) this.trainer.stopTraining = true;
  }
}

/**
 * Sets the learning rate before every batch: the epoch's scheduled rate times the warm-up
 * factor. For 'plateau' it also watches the monitored loss at each epoch end and cuts the rate.
 */
export class LrScheduler extends Callback {
  override readonly stateKey = 'lr_scheduler';
  plateau = { factor: 1, best: null as number | null, wait: 0 };
  private epochLr = 0;

  constructor(readonly schedule: ScheduleConfig, readonly baseLr: number, readonly epochs: number) {
    super();
  }

  /** The rate for `epoch` and global step `step`. */
  lrFor(epoch: number, step: number): number {
    return lrAt(this.schedule, this.baseLr, epoch, this.epochs, this.plateau.factor) * warmupFactor(this.schedule, step);
  }

  override async onEpochBegin(epoch: number, _logs: Logs = {}): Promise<void> {
    this.epochLr = lrAt(this.schedule, this.baseLr, epoch, this.epochs, this.plateau.factor);
  }

  override async onBatchBegin(_step = 0, _logs: Logs = {}): Promise<void> {
    this.trainer.optimizer.lr = this.epochLr * warmupFactor(this.schedule, this.trainer.globalStep);
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (this.schedule.type !== 'plateau') return;
    const value = monitored(logs);
    const p = this.plateau;
    if (p.best === null || value < p.best) {
      p.best = value;
      p.wait = 0;
    } else if (++p.wait >= this.schedule.patience) {
      const before = lrAt(this.schedule, this.baseLr, epoch, this.epochs, p.factor);
      p.factor *= this.schedule.gamma;
      p.wait = 0;
      const after = lrAt(this.schedule, this.baseLr, epoch + 1, this.epochs, p.factor);
      if (after < before) log.info(`Plateau: no improvement for ${this.schedule.patience} epochs; lr ${before.toExponential(2)} → ${after.toExponential(2)}`);
    }
  }

  override saveState(): CallbackState {
    return { json: this.plateau };
  }
  override loadState(s: CallbackState): void {
    this.plateau = s.json as LrScheduler['plateau'];
  }
}

/** What a checkpoint's state.json holds besides the position. */
interface LoopCheckpoint extends CheckpointState {
  epochLossSum: number;
  epochSeen: number;
  optimizer: OptimizerState;
  callbacks: Record<string, unknown>;
}

/**
 * Saves a checkpoint to `store` at every epoch end and, with `everySteps` > 0, every N global
 * steps inside an epoch: model weights, optimizer state, position and every stateful callback's
 * state. Put it last so the other callbacks' epoch-end updates are included.
 */
export class ModelCheckpoint extends Callback {
  constructor(readonly store: CheckpointStore, readonly everySteps = 0) {
    super();
  }

  override async onBatchEnd(_step = 0, _logs: Logs = {}): Promise<void> {
    const t = this.trainer;
    // The last step of an epoch is saved at the epoch end, with the epoch's results.
    if (this.everySteps > 0 && t.globalStep % this.everySteps === 0 && t.step < t.stepsPerEpoch) await this.save(false);
  }

  override async onEpochEnd(_epoch = 0, _logs: Logs = {}): Promise<void> {
    await this.save(true);
  }

  private async save(epochEnd: boolean): Promise<void> {
    const t = this.trainer;
    const opt = await t.optimizer.save();
    const groups: Record<string, StoredArray[]> = { model: snapshot(t.model.getWeights()), optimizer: opt.arrays };
    const callbacks: Record<string, unknown> = {};
    for (const c of t.callbacks) {
      const s = c.stateKey ? c.saveState() : undefined;
      if (!s || !c.stateKey) continue;
      callbacks[c.stateKey] = s.json;
      groups[`cb:${c.stateKey}`] = s.arrays ?? [];
    }
    const state: LoopCheckpoint = {
      epoch: epochEnd ? t.epoch : t.epoch - 1,
      stepInEpoch: epochEnd ? 0 : t.step,
      globalStep: t.globalStep,
      epochLossSum: epochEnd ? 0 : t.epochLossSum,
      epochSeen: epochEnd ? 0 : t.epochSeen,
      optimizer: opt.meta,
      callbacks,
    };
    await this.store.save({ state, groups });
  }

  /**
   * Restores the latest checkpoint in `store` into the trainer and its callbacks.
   * @returns true when there was one
   */
  static async restore(store: CheckpointStore, t: TrainerHandle): Promise<boolean> {
    const ckpt = await store.load();
    if (!ckpt) return false;
    // The store holds what save() wrote: a LoopCheckpoint.
    const s = ckpt.state as LoopCheckpoint;
    setWeightsFrom(t.tf, t.model, ckpt.groups.model);
    await t.optimizer.load(s.optimizer, ckpt.groups.optimizer);
    t.epoch = s.epoch + 1;
    t.step = s.stepInEpoch ?? 0;
    t.globalStep = s.globalStep ?? 0;
    t.epochLossSum = s.epochLossSum;
    t.epochSeen = s.epochSeen;
    t.resumedAtStep = t.globalStep;
    for (const c of t.callbacks) {
      if (c.stateKey && c.stateKey in s.callbacks) c.loadState({ json: s.callbacks[c.stateKey], arrays: ckpt.groups[`cb:${c.stateKey}`] });
    }
    const where = t.step ? `step ${t.step} of epoch ${t.epoch + 1}` : `epoch ${t.epoch}`;
    log.info(`Resuming training after ${where} (global step ${t.globalStep}) from ${store.location}`);
    return true;
  }
}

/**
 * The progress of each epoch (a bar on the CLI's terminal, plain lines by default: the display
 * is injected) and one summary line per epoch.
 */
export class ProgressBar extends Callback {
  private bar: Progress | undefined;

  constructor(readonly label = 'epoch', readonly progress: ProgressFactory = lineProgress) {
    super();
  }

  override async onEpochBegin(epoch: number, _logs: Logs = {}): Promise<void> {
    const t = this.trainer;
    this.bar = this.progress(`${this.label} ${epoch + 1}/${t.cfg.epochs}`, t.stepsPerEpoch, t.cfg.batch_size, t.step);
  }
  override async onBatchEnd(_step: number, logs: Logs): Promise<void> {
    const t = this.trainer;
    this.bar?.update(t.step, { loss: t.epochLossSum / Math.max(t.epochSeen, 1), lr: logs.lr ?? undefined });
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.bar?.stop();
    this.bar = undefined;
    const f = (v: number | null | undefined, d = 5) => (typeof v === 'number' ? v.toFixed(d) : '-');
    log.info(
      `${this.label} ${epoch + 1}/${this.trainer.cfg.epochs}: loss ${f(logs.loss)}` +
        (num(logs.val_loss) !== null ? `, val_loss ${f(logs.val_loss)}` : '') +
        (num(logs.val_psnr) !== null ? `, val_psnr ${f(logs.val_psnr, 2)} dB` : '') +
        `, lr ${(logs.lr as number).toExponential(2)}, ${f(logs.seconds, 1)} s (${f(logs.samples_per_second, 0)} samples/s)`,
    );
  }
  override async close(): Promise<void> {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** Copies tensors out as float32 arrays. */
export function snapshot(ts: TfModule.Tensor[]): StoredArray[] {
  return ts.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync() as ArrayLike<number>) }));
}

/** Sets a model's weights from stored arrays (same order as `getWeights`). */
export function setWeightsFrom(tf: Tf, model: TfModule.LayersModel, arrays: StoredArray[]): void {
  const ts = arrays.map((a) => tf.tensor(a.data, a.shape));
  model.setWeights(ts);
  tf.dispose(ts);
}
