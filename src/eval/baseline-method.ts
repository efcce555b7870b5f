/**
 * Classical baselines as evaluation methods: each is run with every value of its parameter grid
 * and the best mean PSNR per σ is reported (chosen on the test set itself: an upper bound, like
 * the classical rows in ../shared/notes/reference-numbers.md).
 */
import type { LoadedImage } from '../data/folder';
import { BASELINES } from '../baselines/filters';
import { InputError } from '../errors';
import { evaluateMethod, type EvalRow, type EvalSummary } from './evaluate';

export async function evaluateBaseline(
  name: string,
  images: readonly LoadedImage[],
  sigmas: readonly number[],
  seed: number,
): Promise<{ rows: EvalRow[]; summaries: EvalSummary[] }> {
  const b = BASELINES[name];
  if (!b) throw new InputError('--baseline', `unknown baseline '${name}'; choose from ${Object.keys(BASELINES).join(', ')}`);
  const rows: EvalRow[] = [];
  const summaries: EvalSummary[] = [];
  for (const sigma of sigmas) {
    let best: { rows: EvalRow[]; summary: EvalSummary; p: number } | undefined;
    for (const p of b.grid) {
      const r = await evaluateMethod(`${name}`, async (x, w, h, c) => b.apply(x, w, h, c, p), images, [sigma], seed);
      if (!best || r.summaries[0].psnr > best.summary.psnr) best = { rows: r.rows, summary: r.summaries[0], p };
    }
    if (best) {
      rows.push(...best.rows);
      summaries.push({ ...best.summary, note: `best ${b.parameter} = ${best.p} of [${b.grid.join(', ')}] (oracle)` });
    }
  }
  return { rows, summaries };
}
