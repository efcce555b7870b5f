/**
 * The contract every noise model follows, plus the fields common to all `noise:` config blocks.
 * Images are Float32Arrays in [0, 1]; a model never changes its input and returns a new array.
 */
import { z } from 'zod';
import type { Rng } from '../random';

/** A configured noise model. */
export interface NoiseModel {
  /**
   * Returns a noisy copy of `clean`.
   * @param clean pixel values in [0, 1] (any layout; noise is applied per element)
   * @param rng the stream to draw from (fork one per sample and realization for order independence)
   */
  apply(clean: Float32Array, rng: Rng): Float32Array;
}

/** A registry entry: its config schema (a strict object with a literal `type`) and a factory. */
export interface NoiseModelSpec<Cfg extends { type: string }> {
  description: string;
  schema: z.ZodType<Cfg>;
  create(cfg: Cfg): NoiseModel;
}

/** `realizations`: how many noisy copies of each training image to draw (common to every noise type). */
export const realizationsField = z
  .number()
  .int()
  .min(1)
  .default(1)
  .describe('number of independent noisy copies drawn per training image; epoch e trains on copy e mod N (the train stage holds at most 3 in memory, the rest stay in the feature cache on disk)');

/** `clip`: whether noisy values are clipped to [0, 1]. */
export const clipField = z
  .boolean()
  .default(false)
  .describe('clip the noisy image to [0, 1] (the paper protocol never clips)');

/** σ on the 0–255 scale, as papers quote it (σ = 25 means a standard deviation of 25/255). */
export const sigmaField = z
  .number()
  .gt(0)
  .lte(255)
  .describe('standard deviation on the 0-255 scale (0 < sigma <= 255); the noise std in [0, 1] units is sigma/255');

/** `sigma` for Gaussian noise: one level, or [lo, hi] for blind denoising (a level drawn per image). */
export const sigmaOrRangeField = z
  .union([
    sigmaField,
    z
      // The low end may be 0 (some inputs clean), as DnCNN-B's [0, 55] range does.
      .tuple([z.number().min(0).lte(255), sigmaField])
      .refine(([lo, hi]) => lo < hi, { error: 'expected [low, high] with low < high' }),
  ])
  .describe('noise level on the 0-255 scale: a number, or [low, high] to draw one level per image uniformly (blind denoising)');

/** Clamps every element to [0, 1] in place. */
export function clip01(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    a[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return a;
}
