/**
 * Additive white Gaussian noise, σ on the 0–255 scale: x' = x + (σ/255)·N(0, 1).
 * The paper protocol never clips; `clip: true` with σ = 127.5 reproduces the MNIST tutorial's
 * `clip(x + 0.5·N(0, 1), 0, 1)`.
 */
import { z } from 'zod';
import { createRng, type Seed } from '../random';
import { clip01, clipField, realizationsField, sigmaOrRangeField, type NoiseModel, type NoiseModelSpec } from './types';

/** Config block for `type: gaussian`. */
export const gaussianNoiseSchema = z
  .object({
    type: z.literal('gaussian').describe('additive white Gaussian noise'),
    sigma: sigmaOrRangeField,
    clip: clipField,
    realizations: realizationsField,
  })
  .strict()
  .describe('additive white Gaussian noise: x + (sigma/255)·N(0, 1); sigma may be a [low, high] range');

export type GaussianNoiseConfig = z.infer<typeof gaussianNoiseSchema>;

/** Creates the Gaussian noise model. */
export function gaussianNoise(cfg: Pick<GaussianNoiseConfig, 'sigma' | 'clip'>): NoiseModel {
  const [lo, hi] = typeof cfg.sigma === 'number' ? [cfg.sigma, cfg.sigma] : cfg.sigma;
  return {
    apply(clean, rng) {
      // A range draws this image's level first, from the same stream, so it stays order-independent.
      const std = (lo === hi ? lo : lo + (hi - lo) * rng.uniform()) / 255;
      const out = new Float32Array(clean.length);
      for (let i = 0; i < clean.length; i++) out[i] = clean[i] + std * rng.normal();
      return cfg.clip ? clip01(out) : out;
    },
  };
}

/** Registry entry. */
export const GAUSSIAN: NoiseModelSpec<GaussianNoiseConfig> = {
  description: 'additive white Gaussian noise, sigma on the 0-255 scale',
  schema: gaussianNoiseSchema,
  create: gaussianNoise,
};

/**
 * A noisy copy of `clean` drawn from `createRng(seed)`: what the page's noise control and the
 * fine-tune panel use, so the page and Node draw the same noise for a seed.
 * @param sigma standard deviation on the 0–255 scale (0 returns a copy)
 * @param clip clip the result to [0, 1]
 * @throws RangeError when sigma is negative or not finite
 */
export function addGaussianNoise(clean: Float32Array, sigma: number, seed: Seed, clip: boolean): Float32Array {
  if (!Number.isFinite(sigma) || sigma < 0) throw new RangeError(`sigma must be a finite number >= 0, got ${sigma}`);
  if (sigma === 0) return clip ? clip01(Float32Array.from(clean)) : Float32Array.from(clean);
  return gaussianNoise({ sigma, clip }).apply(clean, createRng(seed));
}
