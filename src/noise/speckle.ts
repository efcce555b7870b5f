/**
 * Multiplicative (speckle) noise, σ on the 0–255 scale: x' = x + x·(σ/255)·N(0, 1),
 * the form scikit-image's random_noise('speckle') uses. Not clipped unless asked.
 */
import { z } from 'zod';
import { clip01, clipField, realizationsField, sigmaField, type NoiseModel, type NoiseModelSpec } from './types';

/** Config block for `type: speckle`. */
export const speckleNoiseSchema = z
  .object({
    type: z.literal('speckle').describe('multiplicative speckle noise'),
    sigma: sigmaField,
    clip: clipField,
    realizations: realizationsField,
  })
  .strict()
  .describe('speckle noise: x + x·(sigma/255)·N(0, 1)');

export type SpeckleNoiseConfig = z.infer<typeof speckleNoiseSchema>;

/** Creates the speckle noise model. */
export function speckleNoise(cfg: Pick<SpeckleNoiseConfig, 'sigma' | 'clip'>): NoiseModel {
  const std = cfg.sigma / 255;
  return {
    apply(clean, rng) {
      const out = new Float32Array(clean.length);
      for (let i = 0; i < clean.length; i++) out[i] = clean[i] + clean[i] * std * rng.normal();
      return cfg.clip ? clip01(out) : out;
    },
  };
}

/** Registry entry. */
export const SPECKLE: NoiseModelSpec<SpeckleNoiseConfig> = {
  description: 'multiplicative speckle noise, sigma on the 0-255 scale',
  schema: speckleNoiseSchema,
  create: speckleNoise,
};
