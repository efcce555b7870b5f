/**
 * Noise models for making noisy inputs from clean images: a frozen registry keyed by the
 * config's `type`, the zod schema of the `noise:` block (a discriminated union on `type`)
 * and `applyNoise(cfg, clean, rng)`. Add a model by writing its file and listing it below.
 */
import { z } from 'zod';
import { OnnxtuneError } from '../errors';
import type { Rng } from '../random';
import { GAUSSIAN, gaussianNoiseSchema } from './gaussian';
import { POISSON, poissonNoiseSchema } from './poisson';
import { SALT_PEPPER, saltPepperNoiseSchema } from './salt-pepper';
import { SPECKLE, speckleNoiseSchema } from './speckle';
import type { NoiseModel } from './types';

export type { NoiseModel, NoiseModelSpec } from './types';
export { clip01 } from './types';
export { gaussianNoise, gaussianNoiseSchema, type GaussianNoiseConfig } from './gaussian';
export { poissonNoise, poissonNoiseSchema, samplePoisson, logFactorial, type PoissonNoiseConfig } from './poisson';
export { saltPepperNoise, saltPepperNoiseSchema, type SaltPepperNoiseConfig } from './salt-pepper';
export { speckleNoise, speckleNoiseSchema, type SpeckleNoiseConfig } from './speckle';

/** The `noise:` config block: one strict object per type, chosen by `type`. */
export const noiseSchema = z
  .discriminatedUnion('type', [gaussianNoiseSchema, poissonNoiseSchema, saltPepperNoiseSchema, speckleNoiseSchema])
  .describe('noise model applied to clean images; `type` selects the model');

/** A validated `noise:` block (defaults filled in). */
export type NoiseConfig = z.infer<typeof noiseSchema>;

/** Every noise model by name (the `type` of its config block). */
export const NOISE_MODELS = Object.freeze({
  gaussian: GAUSSIAN,
  poisson: POISSON,
  'salt-pepper': SALT_PEPPER,
  speckle: SPECKLE,
});

/** A registered noise model name. */
export type NoiseType = keyof typeof NOISE_MODELS;

// Compile-time check that the schema's `type` values and the registry keys are the same set.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const registryMatchesSchema: Same<NoiseType, NoiseConfig['type']> = true;
void registryMatchesSchema;

/** The valid noise type names, in registry order. */
export const NOISE_TYPES = Object.freeze(Object.keys(NOISE_MODELS) as NoiseType[]);

/**
 * Looks up a noise model by name.
 * @throws {OnnxtuneError} (code E_UNKNOWN_NOISE) listing the valid names on a miss
 */
export function getNoiseModel<K extends NoiseType>(name: K): (typeof NOISE_MODELS)[K];
export function getNoiseModel(name: string): (typeof NOISE_MODELS)[NoiseType];
export function getNoiseModel(name: string): (typeof NOISE_MODELS)[NoiseType] {
  if (!Object.prototype.hasOwnProperty.call(NOISE_MODELS, name)) {
    throw new OnnxtuneError('E_UNKNOWN_NOISE', `Unknown noise type '${name}'. Valid types: ${NOISE_TYPES.join(', ')}.`);
  }
  return NOISE_MODELS[name as NoiseType];
}

/**
 * Builds the noise model a validated config block describes.
 * @throws {OnnxtuneError} for an unknown `type`
 */
export function createNoiseModel(cfg: NoiseConfig): NoiseModel {
  switch (cfg.type) {
    case 'gaussian':
      return NOISE_MODELS.gaussian.create(cfg);
    case 'poisson':
      return NOISE_MODELS.poisson.create(cfg);
    case 'salt-pepper':
      return NOISE_MODELS['salt-pepper'].create(cfg);
    case 'speckle':
      return NOISE_MODELS.speckle.create(cfg);
    default:
      return getNoiseModel((cfg as { type: string }).type).create(cfg as never);
  }
}

/**
 * Returns a noisy copy of `clean` drawn from `rng` (fork one stream per sample and realization).
 * @param cfg a validated `noise:` block
 * @param clean pixel values in [0, 1]
 * @param rng the stream to draw from
 */
export function applyNoise(cfg: NoiseConfig, clean: Float32Array, rng: Rng): Float32Array {
  return createNoiseModel(cfg).apply(clean, rng);
}
