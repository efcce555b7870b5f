/** Helpers for tests that switch TF.js backends directly. */
import * as tf from '@tensorflow/tfjs';

/** Creates the cpu backend with its one-time "install tfjs-node" console banner muted. */
export async function quietCpu(): Promise<void> {
  const spy = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  await tf.setBackend('cpu');
  tf.zeros([1]).dispose();
  spy.mockRestore();
}

/** Seeded N(0,1) tensor. */
export const rnd = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
