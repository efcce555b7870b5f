/**
 * Training losses, a frozen registry keyed by `train.loss`. Each maps (target, prediction) to a
 * scalar mean over every element (`psnr`: over the samples of the batch axis, of each sample's log MSE). `bce` expects probabilities (a sigmoid output) and clips them
 * to [ε, 1 − ε] before the logs, as Keras does for probability inputs.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { LOSS_NAMES, type TrainConfig } from '../../src/config/schema';

export type LossName = TrainConfig['loss'];
export type LossFn = (y: TfModule.Tensor, p: TfModule.Tensor) => TfModule.Scalar;

/** Clipping of probabilities for `bce` (Keras' backend epsilon). */
export const BCE_EPSILON = 1e-7;
/** Added to each sample's MSE by the `psnr` loss: 1e-5 is 50 dB, beyond which a sample earns no more. */
export const PSNR_LOSS_EPS = 1e-5;

interface LossSpec {
  description: string;
  make(tf: Tf, cfg: Pick<TrainConfig, 'charbonnier_eps'>): LossFn;
}

export const LOSSES: Readonly<Record<LossName, LossSpec>> = Object.freeze({
  mse: { description: 'mean squared error', make: (tf) => (y, p) => tf.mean(tf.squaredDifference(y, p)) as TfModule.Scalar },
  l1: { description: 'mean absolute error', make: (tf) => (y, p) => tf.mean(tf.abs(tf.sub(y, p))) as TfModule.Scalar },
  charbonnier: {
    description: 'mean of sqrt(d² + ε²): L1 away from zero, quadratic near it',
    make: (tf, cfg) => (y, p) => {
      const eps2 = cfg.charbonnier_eps * cfg.charbonnier_eps;
      return tf.mean(tf.sqrt(tf.add(tf.squaredDifference(y, p), eps2))) as TfModule.Scalar;
    },
  },
  psnr: {
    description: 'minus the mean per-sample PSNR (peak 1, dB): every sample counts in dB, so low-noise patches are not drowned by high-noise ones',
    make: (tf) => (y, p) => {
      // Per sample: the mean over all axes but the batch axis (a rank-1 tensor: one value per sample).
      const axes = Array.from({ length: Math.max(0, y.rank - 1) }, (_, i) => i + 1);
      const se = tf.squaredDifference(y, p);
      const mse = axes.length ? tf.mean(se, axes) : se;
      // 10·log10(mse + ε): ε caps a sample's credit at 50 dB, so a near-perfect patch (σ ≈ 0) cannot dominate the gradient.
      return tf.mean(tf.mul(10 / Math.LN10, tf.log(tf.add(mse, PSNR_LOSS_EPS)))) as TfModule.Scalar;
    },
  },
  bce: {
    description: 'binary cross-entropy of probabilities against targets in [0, 1]',
    make: (tf) => (y, p) => {
      const q = tf.clipByValue(p, BCE_EPSILON, 1 - BCE_EPSILON);
      const terms = tf.add(tf.mul(y, tf.log(q)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, q))));
      return tf.neg(tf.mean(terms)) as TfModule.Scalar;
    },
  },
});

// The schema's names and the registry's keys are one set (the Record type checks the other direction).
if (LOSS_NAMES.some((n) => !(n in LOSSES))) throw new Error('LOSSES and LOSS_NAMES differ');

/**
 * The loss function for `name`.
 * @throws Error listing the valid names when `name` is unknown.
 */
export function makeLoss(tf: Tf, name: string, cfg: Pick<TrainConfig, 'charbonnier_eps'> = { charbonnier_eps: 1e-3 }): LossFn {
  const spec = (LOSSES as Record<string, LossSpec | undefined>)[name];
  if (!spec) throw new Error(`unknown loss '${name}'; losses: ${Object.keys(LOSSES).join(', ')}`);
  return spec.make(tf, cfg);
}
