/** A small seeded training split (one 4×4×3 tap + an 8×8 image, 2 realizations) for loop tests. */
import type { TrainSplit } from '../../pipeline/train/loop';
import { forkRng } from '../../src/random';

export function syntheticSplit(n: number, seed: number): TrainSplit {
  const rng = forkRng(seed, 'synthetic');
  const tap = new Float32Array(2 * n * 4 * 4 * 3).map(() => rng.normal());
  const img = new Float32Array(2 * n * 8 * 8).map(() => rng.uniform());
  const clean = new Float32Array(n * 8 * 8).map(() => rng.uniform());
  return { inputs: [{ data: tap, shape: [4, 4, 3] }, { data: img, shape: [8, 8, 1] }], target: { data: clean, shape: [8, 8, 1] }, count: n, realizations: 2 };
}
