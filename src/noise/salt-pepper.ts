/**
 * Salt-and-pepper (impulse) noise: each element is independently replaced with probability
 * `amount`, by 1 (salt) with probability `salt_vs_pepper`, else by 0 (pepper), as in
 * scikit-image's random_noise('s&p'). Values stay in [0, 1] when the input is.
 */
import { z } from 'zod';
import { realizationsField, type NoiseModel, type NoiseModelSpec } from './types';

/** Config block for `type: salt-pepper`. */
export const saltPepperNoiseSchema = z
  .object({
    type: z.literal('salt-pepper').describe('impulse noise: pixels set to 0 or 1'),
    amount: z.number().gt(0).lte(1).describe('probability that an element is replaced (0 < amount <= 1)'),
    salt_vs_pepper: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('probability that a replaced element becomes 1 (salt) rather than 0 (pepper)'),
    realizations: realizationsField,
  })
  .strict()
  .describe('salt-and-pepper noise');

export type SaltPepperNoiseConfig = z.infer<typeof saltPepperNoiseSchema>;

/** Creates the salt-and-pepper noise model. */
export function saltPepperNoise(cfg: Pick<SaltPepperNoiseConfig, 'amount' | 'salt_vs_pepper'>): NoiseModel {
  return {
    apply(clean, rng) {
      const out = Float32Array.from(clean);
      for (let i = 0; i < out.length; i++) {
        if (rng.uniform() < cfg.amount) out[i] = rng.uniform() < cfg.salt_vs_pepper ? 1 : 0;
      }
      return out;
    },
  };
}

/** Registry entry. */
export const SALT_PEPPER: NoiseModelSpec<SaltPepperNoiseConfig> = {
  description: 'salt-and-pepper impulse noise',
  schema: saltPepperNoiseSchema,
  create: saltPepperNoise,
};
