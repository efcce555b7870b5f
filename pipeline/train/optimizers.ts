/**
 * Optimizers, a frozen registry keyed by `train.optimizer`: Adam, AdamW (Adam with decoupled
 * weight decay, applied before the update as PyTorch does) and SGD with (Nesterov) momentum.
 * `TrainOptimizer.step` computes the gradients, clips them (global norm and/or value), applies
 * the decay and the update. Its state (slot variables, iteration count, Adam's β powers) is
 * saved and restored exactly, so a resumed run takes the same steps as an uninterrupted one.
 * Param groups (fine-tuned encoder stages) have their own optimizer, lr multiple and start epoch.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { OPTIMIZER_NAMES, type TrainConfig } from '../../src/config/schema';
import type { StoredArray } from './checkpoint-store';

export type OptimizerName = TrainConfig['optimizer'];

interface OptimizerSpec {
  description: string;
  /** Weight decay applied outside the gradient (AdamW). */
  decoupledDecay: boolean;
  make(tf: Tf, cfg: TrainConfig): TfModule.Optimizer;
}

export const OPTIMIZERS: Readonly<Record<OptimizerName, OptimizerSpec>> = Object.freeze({
  adam: { description: 'Adam (β1 0.9, β2 0.999, ε 1e-7)', decoupledDecay: false, make: (tf, cfg) => tf.train.adam(cfg.lr) },
  adamw: { description: 'Adam with decoupled weight decay', decoupledDecay: true, make: (tf, cfg) => tf.train.adam(cfg.lr) },
  sgd: {
    description: 'SGD with momentum (optionally Nesterov)',
    decoupledDecay: false,
    make: (tf, cfg) => tf.train.momentum(cfg.lr, cfg.momentum, cfg.nesterov),
  },
});
if (OPTIMIZER_NAMES.some((n) => !(n in OPTIMIZERS))) throw new Error('OPTIMIZERS and OPTIMIZER_NAMES differ');

/** The optimizer's state as stored in a checkpoint. */
export interface OptimizerState {
  names: string[];
  dtypes: TfModule.DataType[];
  /** Adam's running β1^t and β2^t, restored bit for bit (tfjs recomputes them with pow otherwise). */
  accBeta?: [number, number];
  /** One state per {@link ParamGroup}, their arrays stored after the main ones. */
  groups?: OptimizerState[];
}

/**
 * Weights that learn at `lrMultiplier` × the scheduled lr from epoch `startEpoch` on, with their own
 * optimizer state (fine-tuned encoder stages). Before that epoch they get no gradient at all.
 */
export interface ParamGroup {
  name: string;
  weights: readonly TfModule.LayerVariable[];
  lrMultiplier: number;
  startEpoch: number;
}

interface GroupState {
  group: ParamGroup;
  optimizer: TfModule.Optimizer;
  vars: TfModule.Variable[];
  kernels: TfModule.Variable[];
}

/** Kernels get weight decay and the L2 penalty; biases do not. */
const isKernel = (v: TfModule.LayerVariable) => /kernel$/.test(v.originalName);

/** An optimizer bound to one model's trainable weights. */
export class TrainOptimizer {
  readonly optimizer: TfModule.Optimizer;
  private readonly vars: TfModule.Variable[];
  private readonly kernels: TfModule.Variable[];
  private readonly decoupled: boolean;
  private lrValue: number;
  private readonly groups: GroupState[];
  /** The current epoch (set by the loop's callbacks): param groups train from their start epoch on. */
  epoch = 0;

  constructor(private readonly tf: Tf, model: TfModule.LayersModel, private readonly cfg: TrainConfig, groups: readonly ParamGroup[] = []) {
    const spec = OPTIMIZERS[cfg.optimizer];
    if (!spec) throw new Error(`unknown optimizer '${cfg.optimizer}'; optimizers: ${Object.keys(OPTIMIZERS).join(', ')}`);
    this.optimizer = spec.make(tf, cfg);
    this.decoupled = spec.decoupledDecay && cfg.weight_decay > 0;
    const grouped = new Set(groups.flatMap((g) => g.weights));
    const main = model.trainableWeights.filter((w) => !grouped.has(w));
    // NOTE: the order of this list is the order of the optimizer's slots (tfjs matches them by index).
    this.vars = main.map((w) => w.read() as TfModule.Variable);
    this.kernels = main.filter(isKernel).map((w) => w.read() as TfModule.Variable);
    this.groups = groups.map((group) => ({
      group,
      optimizer: spec.make(tf, { ...cfg, lr: cfg.lr * group.lrMultiplier }),
      vars: group.weights.map((w) => w.read() as TfModule.Variable),
      kernels: group.weights.filter(isKernel).map((w) => w.read() as TfModule.Variable),
    }));
    this.lrValue = cfg.lr;
  }

  private activeGroups(): GroupState[] {
    return this.groups.filter((g) => this.epoch >= g.group.startEpoch);
  }

  get lr(): number {
    return this.lrValue;
  }

  set lr(value: number) {
    this.lrValue = value;
    // NOTE: tfjs optimizers read `learningRate` on every step; it is protected only in the typings.
    (this.optimizer as unknown as { learningRate: number }).learningRate = value;
    for (const g of this.groups) (g.optimizer as unknown as { learningRate: number }).learningRate = value * g.group.lrMultiplier;
  }

  /** The L2 penalty term l2·Σ‖kernel‖² (call inside the loss closure), or null when l2 is 0. */
  l2Penalty(): TfModule.Scalar | null {
    const { tf } = this;
    const kernels = [...this.kernels, ...this.activeGroups().flatMap((g) => g.kernels)];
    if (this.cfg.l2 <= 0 || !kernels.length) return null;
    return tf.mul(this.cfg.l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as TfModule.Scalar;
  }

  /**
   * One update: gradients of `lossFn` for the model's trainable weights, clipped, decoupled
   * decay, optimizer step. Call inside `tf.tidy`.
   * @returns the loss before the update
   */
  step(lossFn: () => TfModule.Scalar): TfModule.Scalar {
    const { tf, cfg } = this;
    const active = this.activeGroups();
    const { value, grads } = this.optimizer.computeGradients(lossFn, [...this.vars, ...active.flatMap((g) => g.vars)]);
    const names = Object.keys(grads);
    if (cfg.clip_value !== undefined) {
      for (const n of names) grads[n] = tf.clipByValue(grads[n], -cfg.clip_value, cfg.clip_value);
    }
    if (cfg.clip_norm !== undefined) {
      const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
      // scale = min(1, clip / norm): untouched below the threshold.
      const scale = tf.minimum(1, tf.div(cfg.clip_norm, tf.maximum(norm, 1e-12)));
      for (const n of names) grads[n] = tf.mul(grads[n], scale);
    }
    if (this.decoupled) {
      const keep = 1 - this.lrValue * cfg.weight_decay;
      for (const k of this.kernels) k.assign(tf.mul(k, keep));
      for (const g of active) for (const k of g.kernels) k.assign(tf.mul(k, 1 - this.lrValue * g.group.lrMultiplier * cfg.weight_decay));
    }
    const pick = (vars: TfModule.Variable[]) => Object.fromEntries(vars.map((v) => v.name).filter((n) => grads[n] != null).map((n) => [n, grads[n]]));
    this.optimizer.applyGradients(pick(this.vars));
    for (const g of active) g.optimizer.applyGradients(pick(g.vars));
    return value;
  }

  /** Copies the optimizer state out (slots as float32; the int32 iteration count by value). */
  async save(): Promise<{ meta: OptimizerState; arrays: StoredArray[] }> {
    const main = await saveOptimizer(this.optimizer);
    if (!this.groups.length) return main;
    const parts = await Promise.all(this.groups.map((g) => saveOptimizer(g.optimizer)));
    return { meta: { ...main.meta, groups: parts.map((p) => p.meta) }, arrays: [...main.arrays, ...parts.flatMap((p) => p.arrays)] };
  }

  /** Restores what {@link save} returned. */
  async load(meta: OptimizerState, arrays: StoredArray[]): Promise<void> {
    if ((meta.groups?.length ?? 0) !== this.groups.length) {
      throw new Error(`the checkpoint has ${meta.groups?.length ?? 0} parameter groups, this run ${this.groups.length}`);
    }
    let at = meta.names.length;
    await loadOptimizer(this.tf, this.optimizer, meta, arrays.slice(0, at));
    for (const [i, g] of this.groups.entries()) {
      const m = (meta.groups as OptimizerState[])[i];
      await loadOptimizer(this.tf, g.optimizer, m, arrays.slice(at, at + m.names.length));
      at += m.names.length;
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const g of this.groups) g.optimizer.dispose();
  }
}

async function saveOptimizer(optimizer: TfModule.Optimizer): Promise<{ meta: OptimizerState; arrays: StoredArray[] }> {
  const weights = await optimizer.getWeights();
  const meta: OptimizerState = { names: weights.map((w) => w.name), dtypes: weights.map((w) => w.tensor.dtype) };
  const adam = optimizer as unknown as { accBeta1?: TfModule.Variable; accBeta2?: TfModule.Variable };
  if (adam.accBeta1 && adam.accBeta2) meta.accBeta = [adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]];
  const arrays = weights.map((w) => ({ shape: w.tensor.shape, data: Float32Array.from(w.tensor.dataSync() as ArrayLike<number>) }));
  return { meta, arrays };
}

async function loadOptimizer(tf: Tf, optimizer: TfModule.Optimizer, meta: OptimizerState, arrays: StoredArray[]): Promise<void> {
  if (!arrays.length) return;
  const named = arrays.map((a, i) => ({ name: meta.names[i], tensor: tf.tensor(a.data, a.shape, meta.dtypes[i]) }));
  await optimizer.setWeights(named);
  tf.dispose(named.map((w) => w.tensor));
  const adam = optimizer as unknown as { accBeta1?: TfModule.Variable; accBeta2?: TfModule.Variable };
  if (meta.accBeta && adam.accBeta1 && adam.accBeta2) {
    const [b1, b2] = meta.accBeta;
    tf.tidy(() => {
      adam.accBeta1?.assign(tf.scalar(b1));
      adam.accBeta2?.assign(tf.scalar(b2));
    });
  }
}
