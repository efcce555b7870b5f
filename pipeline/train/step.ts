/**
 * One training step, shared by the pipeline's `fit` and the fine-tuning `HeadTrainer` (CLI and
 * web page): the loss of the model on one batch plus the optimizer's L2 penalty, one update,
 * and the loss value read back. Runtime-free (no `node:` imports), so the page's worker uses it.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { forkRng } from '../../src/random';
import type { LossFn } from './losses';
import type { TrainOptimizer } from './optimizers';

/** A batch's model inputs and target, made inside the step's `tf.tidy`. */
export type BatchTensors = () => { xs: TfModule.Tensor[]; y: TfModule.Tensor };

/** @returns the batch loss before the update (NaN/Inf are returned, not thrown: the caller names the cure). */
export async function trainStep(tf: Tf, model: TfModule.LayersModel, optimizer: TrainOptimizer, loss: LossFn, batch: BatchTensors): Promise<number> {
  const cost = tf.tidy(() => {
    const { xs, y } = batch();
    return optimizer.step(() => {
      const l = loss(y, model.apply(xs, { training: true }) as TfModule.Tensor);
      const penalty = optimizer.l2Penalty();
      return penalty ? (tf.add(l, penalty) as TfModule.Scalar) : l;
    });
  });
  const value = (await cost.data())[0];
  cost.dispose();
  return value;
}

/** The seeded sample order of `epoch` (`stream` names the random stream: the pipeline's 'order', fine-tuning's own). */
export function batchOrder(seed: number, epoch: number, count: number, stream = 'order'): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  forkRng(seed, stream, epoch).shuffle(order);
  return order;
}
