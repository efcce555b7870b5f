/**
 * Classical baselines as evaluation methods: each is run with every value of its parameter grid
 * and the best mean PSNR per σ is reported (chosen on the test set itself: an upper bound, like
 * the classical rows in ../shared/notes/reference-numbers.md).
 */
import type { LoadedImage } from '../data/folder';
import { BASELINES, NOISE_AWARE_BASELINES } from '../baselines/filters';
import { InputError } from '../errors';
import { evaluateMethod, type EvalRow, type EvalSummary } from './evaluate';

/** Every baseline name `--baseline` accepts. */
export const BASELINE_NAMES = Object.freeze([...Object.keys(BASELINES), ...Object.keys(NOISE_AWARE_BASELINES)]);

export async function evaluateBaseline(
  name: string,
  images: readonly LoadedImage[],
  sigmas: readonly number[],
  seed: number,
): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  const plain = BASELINES[name];
  const aware = NOISE_AWARE_BASELINES[name];
  const b = plain ?? aware;
  if (!b) throw new InputError('--baseline', `unknown baseline '${name}'; choose from ${BASELINE_NAMES.join(', ')}`);
  const rows: EvalRow[] = [];
  const summaries: EvalSummary[] = [];
  for (const sigma of sigmas) {
    let best: { rows: EvalRow[]; summary: EvalSummary; p: number } | undefined;
    for (const p of b.grid) {
      // Noise-aware filters (NLM) are told the true σ, as the published baselines are.
      const fn = plain ? async (x: Float32Array, w: number, h: number, c: number) => plain.apply(x, w, h, c, p)
        : async (x: Float32Array, w: number, h: number, c: number, s: number) => aware.apply(x, w, h, c, p, s);
      const r = await evaluateMethod(name, fn, images, [sigma], seed);
      if (!best || r.summaries[0].psnr > best.summary.psnr) best = { rows: r.rows, summary: r.summaries[0], p };
    }
    if (best) {
      rows.push(...best.rows);
      summaries.push({ ...best.summary, note: `best ${b.parameter} = ${best.p} of [${b.grid.join(', ')}] (oracle)` });
    }
  }
  return { rows, summaries };
}
