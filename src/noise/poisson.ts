/**
 * Poisson (shot) noise at a given peak: x' = Poisson(x·peak)/peak, so brighter pixels get more
 * photons and relatively less noise. Sampling: Knuth's product method for λ < 10, Hörmann's
 * transformed rejection (PTRS, 1993) above. Not clipped unless asked (x' can exceed 1).
 */
import { z } from 'zod';
import type { Rng } from '../random';
import { clip01, clipField, realizationsField, type NoiseModel, type NoiseModelSpec } from './types';

/** Config block for `type: poisson`. */
export const poissonNoiseSchema = z
  .object({
    type: z.literal('poisson').describe('signal-dependent shot noise'),
    peak: z.number().positive().describe('photon count of a pixel of value 1 (lower = noisier)'),
    clip: clipField,
    realizations: realizationsField,
  })
  .strict()
  .describe('Poisson noise: Poisson(x·peak)/peak');

export type PoissonNoiseConfig = z.infer<typeof poissonNoiseSchema>;

// Bound once: global `Math` lookups are slow under jest's sandbox and this runs per pixel.
const { abs, exp, floor, log, sqrt, PI } = Math;

const LOG_FACTORIAL_TABLE = (() => {
  const t = new Float64Array(256);
  for (let k = 1; k < 256; k++) t[k] = t[k - 1] + log(k);
  return t;
})();

/** ln(k!) for an integer k ≥ 0 (table below 256, Stirling series above: error < 1e-14). */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL_TABLE[k];
  const inv = 1 / k;
  const inv2 = inv * inv;
  return k * log(k) - k + 0.5 * log(2 * PI * k) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/**
 * One Poisson(λ) deviate.
 * @param lambda the mean (≤ 0 gives 0)
 * @param rng the stream to draw from
 */
export function samplePoisson(lambda: number, rng: Rng): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    const limit = exp(-lambda);
    let k = 0;
    let p = rng.uniform();
    while (p > limit) {
      k += 1;
      p *= rng.uniform();
    }
    return k;
  }
  // PTRS: W. Hörmann, "The transformed rejection method for generating Poisson random variables" (1993).
  const slam = sqrt(lambda);
  const logLam = log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const logInvAlpha = log(1.1239 + 1.1328 / (b - 3.4));
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5;
    const v = rng.uniform();
    const us = 0.5 - abs(u);
    const k = floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + logInvAlpha - log(a / (us * us) + b) <= -lambda + k * logLam - logFactorial(k)) return k;
  }
}

/** Creates the Poisson noise model. */
export function poissonNoise(cfg: Pick<PoissonNoiseConfig, 'peak' | 'clip'>): NoiseModel {
  return {
    apply(clean, rng) {
      const out = new Float32Array(clean.length);
      for (let i = 0; i < clean.length; i++) out[i] = samplePoisson(clean[i] * cfg.peak, rng) / cfg.peak;
      return cfg.clip ? clip01(out) : out;
    },
  };
}

/** Registry entry. */
export const POISSON: NoiseModelSpec<PoissonNoiseConfig> = {
  description: 'Poisson shot noise at a given peak photon count',
  schema: poissonNoiseSchema,
  create: poissonNoise,
};
