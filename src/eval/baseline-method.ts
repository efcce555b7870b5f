/**
 * Classical baselines as evaluation methods: each is run with every value of its parameter grid
 * and the best mean PSNR per σ (or per set of real pairs) is reported (chosen on the test set
 * itself: an upper bound, like the classical rows in ../shared/notes/reference-numbers.md).
 * Noise-aware baselines (NLM) are told the true σ of synthetic noise; on real pairs, each pair's
 * noise σ measured against its clean image (RMS of noisy − clean; see pairSet).
 */
import type { LoadedImage } from '../data/folder';
import { BASELINES, NOISE_AWARE_BASELINES } from '../baselines/filters';
import { InputError } from '../errors';
import { evaluateSet, gaussianSet, pairSet, type DenoiseFn, type EvalPair, type EvalRow, type EvalSet, type EvalSummary } from './evaluate';

/** Every baseline name `--baseline` accepts. */
export const BASELINE_NAMES = Object.freeze([...Object.keys(BASELINES), ...Object.keys(NOISE_AWARE_BASELINES)]);

/** The best grid value of baseline `name` on each set (by mean PSNR), with its rows. */
export async function evaluateBaselineOnSets(
  name: string,
  sets: Iterable<EvalSet>,
): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  const plain = BASELINES[name];
  const aware = NOISE_AWARE_BASELINES[name];
  const b = plain ?? aware;
  if (!b) throw new InputError('--baseline', `unknown baseline '${name}'; choose from ${BASELINE_NAMES.join(', ')}`);
  const rows: EvalRow[] = [];
  const summaries: EvalSummary[] = [];
  for (const set of sets) {
    let best: { rows: EvalRow[]; summary: EvalSummary; p: number } | undefined;
    for (const p of b.grid) {
      const fn: DenoiseFn = plain ? async (x, w, h, c) => plain.apply(x, w, h, c, p)
        : async (x, w, h, c, s) => aware.apply(x, w, h, c, p, s);
      const r = await evaluateSet(name, fn, set);
      if (!best || r.summary.psnr > best.summary.psnr) best = { rows: r.rows, summary: r.summary, p };
    }
    if (best) {
      rows.push(...best.rows);
      const told = aware && set.sigma === 'real' ? '; told each pair\'s σ = RMS(noisy − clean)' : '';
      summaries.push({ ...best.summary, note: `best ${b.parameter} = ${best.p} of [${b.grid.join(', ')}] (oracle)${told}` });
    }
  }
  return { rows, summaries };
}

/** Baseline `name` on `images` with seeded Gaussian noise at each σ (NLM is told the true σ). */
export async function evaluateBaseline(
  name: string,
  images: readonly LoadedImage[],
  sigmas: readonly number[],
  seed: number,
): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  // A generator: one σ's noisy images are made (once for the whole grid) and held at a time.
  function* sets(): Generator<EvalSet> {
    for (const sigma of sigmas) yield gaussianSet(images, sigma, seed);
  }
  return evaluateBaselineOnSets(name, sets());
}

/** Baseline `name` on real noisy/clean pairs (NLM is told each pair's σ = RMS(noisy − clean)). */
export async function evaluateBaselineOnPairs(name: string, pairs: readonly EvalPair[]): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  return evaluateBaselineOnSets(name, [pairSet(pairs)]);
}
