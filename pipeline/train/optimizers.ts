/**
 * Optimizers, a frozen registry keyed by `train.optimizer`: Adam, AdamW (Adam with decoupled
 * weight decay, applied before the update as PyTorch does) and SGD with (Nesterov) momentum.
 * `TrainOptimizer.step` computes the gradients, clips them (global norm and/or value), applies
 * the decay and the update. Its state (slot variables, iteration count, Adam's β powers) is
 * saved and restored exactly, so a resumed run takes the same steps as an uninterrupted one.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf';
import { OPTIMIZER_NAMES, type TrainConfig } from '../../src/config/schema';
import type { StoredArray } from './checkpoint';

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

  constructor(private readonly tf: Tf, model: TfModule.LayersModel, private readonly cfg: TrainConfig) {
    const spec = OPTIMIZERS[cfg.optimizer];
    if (!spec) throw new Error(`unknown optimizer '${cfg.optimizer}'; optimizers: ${Object.keys(OPTIMIZERS).join(', ')}`);
    this.optimizer = spec.make(tf, cfg);
    this.decoupled = spec.decoupledDecay && cfg.weight_decay > 0;
    // NOTE: the order of this list is the order of the optimizer's slots (tfjs matches them by index).
    this.vars = model.trainableWeights.map((w) => w.read() as TfModule.Variable);
    this.kernels = model.trainableWeights.filter(isKernel).map((w) => w.read() as TfModule.Variable);
    this.lrValue = cfg.lr;
  }

  get lr(): number {
    return this.lrValue;
  }

  set lr(value: number) {
    this.lrValue = value;
    // NOTE: tfjs optimizers read `learningRate` on every step; it is protected only in the typings.
    (this.optimizer as unknown as { learningRate: number }).learningRate = value;
  }

  /** The L2 penalty term l2·Σ‖kernel‖² (call inside the loss closure), or null when l2 is 0. */
  l2Penalty(): TfModule.Scalar | null {
    const { tf } = this;
    if (this.cfg.l2 <= 0 || !this.kernels.length) return null;
    return tf.mul(this.cfg.l2, tf.addN(this.kernels.map((k) => tf.sum(tf.square(k))))) as TfModule.Scalar;
  }

  /**
   * One update: gradients of `lossFn` for the model's trainable weights, clipped, decoupled
   * decay, optimizer step. Call inside `tf.tidy`.
   * @returns the loss before the update
   */
  step(lossFn: () => TfModule.Scalar): TfModule.Scalar {
    const { tf, cfg } = this;
    const { value, grads } = this.optimizer.computeGradients(lossFn, this.vars);
    let names = Object.keys(grads);
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
    }
    names = names.filter((n) => grads[n] != null);
    this.optimizer.applyGradients(Object.fromEntries(names.map((n) => [n, grads[n]])));
    return value;
  }

  /** Copies the optimizer state out (slots as float32; the int32 iteration count by value). */
  async save(): Promise<{ meta: OptimizerState; arrays: StoredArray[] }> {
    const weights = await this.optimizer.getWeights();
    const meta: OptimizerState = { names: weights.map((w) => w.name), dtypes: weights.map((w) => w.tensor.dtype) };
    const adam = this.optimizer as unknown as { accBeta1?: TfModule.Variable; accBeta2?: TfModule.Variable };
    if (adam.accBeta1 && adam.accBeta2) meta.accBeta = [adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]];
    const arrays = weights.map((w) => ({ shape: w.tensor.shape, data: Float32Array.from(w.tensor.dataSync() as ArrayLike<number>) }));
    return { meta, arrays };
  }

  /** Restores what {@link save} returned. */
  async load(meta: OptimizerState, arrays: StoredArray[]): Promise<void> {
    const { tf } = this;
    if (!arrays.length) return;
    const named = arrays.map((a, i) => ({ name: meta.names[i], tensor: tf.tensor(a.data, a.shape, meta.dtypes[i]) }));
    await this.optimizer.setWeights(named);
    tf.dispose(named.map((w) => w.tensor));
    const adam = this.optimizer as unknown as { accBeta1?: TfModule.Variable; accBeta2?: TfModule.Variable };
    if (meta.accBeta && adam.accBeta1 && adam.accBeta2) {
      const [b1, b2] = meta.accBeta;
      tf.tidy(() => {
        adam.accBeta1?.assign(tf.scalar(b1));
        adam.accBeta2?.assign(tf.scalar(b2));
      });
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
