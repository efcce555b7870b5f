/**
 * An exponential moving average of the model's weights (`train.ema`), the averaged copy that
 * validation, early stopping and the final model use (Polyak averaging; Keras' `use_ema`). After
 * each step: avg ← d·avg + (1 − d)·w, with d = min(decay, (1 + n)/(10 + n)) after n updates, so
 * the first steps do not drag the starting weights along for thousands of steps (TensorFlow's
 * `num_updates` warm-up). Training itself always continues from the raw weights: the average is
 * swapped in only to validate, and for good at the end (the per-epoch image grids show the raw
 * weights). Its arrays travel in checkpoints, so a resumed run averages exactly as an uninterrupted
 * one. Runtime-free.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { log } from '../../src/log';
import { Callback, snapshot, type CallbackState } from './callbacks';
import type { StoredArray } from './checkpoint-store';

/** The decay used after `updates` earlier updates. */
export function emaDecay(decay: number, updates: number): number {
  return Math.min(decay, (1 + updates) / (10 + updates));
}

export class WeightAverage extends Callback {
  override readonly stateKey = 'ema';
  /** Updates applied so far. */
  updates = 0;
  private avg: TfModule.Variable[] | null = null;
  private pending: StoredArray[] | null = null;

  constructor(readonly decay: number) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    const { tf, model } = this.trainer;
    // A checkpoint's arrays (loadState ran first) or the starting weights.
    const start = this.pending ?? snapshot(model.getWeights());
    this.avg = start.map((a) => tf.variable(tf.tensor(a.data, a.shape), false));
    this.pending = null;
  }

  override async onBatchEnd(): Promise<void> {
    const { tf, model } = this.trainer;
    if (!this.avg) return;
    const d = emaDecay(this.decay, this.updates);
    const current = model.getWeights();
    tf.tidy(() => {
      this.avg!.forEach((v, i) => v.assign(tf.add(tf.mul(v, d), tf.mul(current[i], 1 - d))));
    });
    this.updates += 1;
  }

  /** Runs `fn` with the averaged weights in the model, then puts the raw weights back. */
  async withAverage<T>(fn: () => T | Promise<T>): Promise<T> {
    const { tf, model } = this.trainer;
    if (!this.avg) return fn();
    // Tensor copies: no round trip through CPU arrays (a WebGL backend keeps them on the GPU).
    const raw = model.getWeights().map((w) => tf.clone(w));
    model.setWeights(this.avg);
    try {
      return await fn();
    } finally {
      model.setWeights(raw);
      tf.dispose(raw);
    }
  }

  /** The averaged weights as arrays (what early stopping keeps as "best"). */
  weights(): StoredArray[] {
    return this.avg ? snapshot(this.avg) : snapshot(this.trainer.model.getWeights());
  }

  /** Leaves the model with the averaged weights. Runs before early stopping's restore (see fit). */
  override async onTrainEnd(): Promise<void> {
    if (!this.avg) return;
    this.trainer.model.setWeights(this.avg);
    log.info(`Model weights set to their moving average (decay ${this.decay}, ${this.updates} updates)`);
  }

  override async close(): Promise<void> {
    this.avg?.forEach((v) => v.dispose());
    this.avg = null;
  }

  override saveState(): CallbackState {
    return { json: { updates: this.updates }, arrays: this.avg ? snapshot(this.avg) : (this.pending ?? []) };
  }

  override loadState(s: CallbackState): void {
    this.updates = (s.json as { updates: number }).updates;
    this.pending = s.arrays?.length ? s.arrays : null;
  }
}
