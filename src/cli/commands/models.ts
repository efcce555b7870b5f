/**
 * `onnxtune models`: the denoisers shipped in pretrained/denoisers/ with what they measured.
 * Each name works wherever a model file does: `onnxtune denoise --model gray-blind photos/ --out clean/`.
 */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DENOISERS_DIR, listDenoiserCards, type DenoiserCard } from '../../../pretrained/shipped';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';

const fmtSigma = (s: number | 'real') => (s === 'real' ? 'real' : `σ=${s}`);

/** "BSD68 σ=15/25/50: 31.1 / 28.6 / 25.6 dB" — one line per test set. */
export function cardHeadline(card: DenoiserCard): string {
  const bySet = new Map<string, DenoiserCard['results']>();
  for (const r of card.results) bySet.set(r.set, [...(bySet.get(r.set) ?? []), r]);
  return [...bySet]
    .map(([set, rs]) => `${set} ${rs.length > 1 ? `σ=${rs.map((r) => r.sigma).join('/')}` : fmtSigma(rs[0].sigma)}: ${rs.map((r) => r.psnr.toFixed(2)).join(' / ')} dB`)
    .join('; ');
}

export const modelsCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'models',
  describe: 'List the denoisers shipped with onnxtune (pretrained/denoisers/): noise, measured PSNR, size, licence',
  builder: (y) =>
    y
      .example('$0 models', 'the table')
      .example('$0 denoise --model gray-blind photo.png --out clean/', 'use one by name')
      .example('$0 eval --model color-blind --data ../shared/data/cbsd68 --sigma 15,25,50', 'check its numbers')
      .epilogue(`Model cards (training data and licence, job file, measured numbers): ${path.join(DENOISERS_DIR, 'README.md')}`) as Argv<GlobalArgs>,
  handler: () => {
    const cards = listDenoiserCards();
    const rows = cards.map((c) => [
      c.name, c.channels === 1 ? 'gray' : 'RGB', c.noise, cardHeadline(c), `${(c.bytes / 1e6).toFixed(1)} MB`, c.training.licence,
    ]);
    const text = cards.length
      ? `${table(['name', 'input', 'noise', 'measured (PSNR)', 'size', 'licence'], rows)}\n\nUse a name as the model: onnxtune denoise --model ${cards[0].name} <images> --out DIR`
      : `No shipped denoisers in ${DENOISERS_DIR}.`;
    printResult(text, cards.map((c) => ({ ...c, path: path.join(DENOISERS_DIR, c.file) })));
  },
};
