/**
 * The model cards of pretrained/denoisers/README.md, generated from the `<name>.json` cards
 * (bench/ship-denoiser.ts rewrites the block between `<!-- cards:begin -->` and `<!-- cards:end -->`;
 * a test checks that the README matches the cards).
 */
import type { DenoiserCard } from './shipped';

const sig = (s: number | 'real') => (s === 'real' ? 'real' : String(s));
const setName: Record<string, string> = { bsd68: 'BSD68', set12: 'Set12', cbsd68: 'CBSD68', kodak24: 'Kodak24', polyu_canon: 'PolyU (held-out scenes)' };
const nameOf = (s: string) => setName[s] ?? s;

/** One card as markdown: facts, then measured results next to the noisy input and the reference methods. */
export function renderCard(c: DenoiserCard): string {
  const t = c.training;
  const lines = [
    `### \`${c.name}\` — ${c.summary}`,
    '',
    '| | |',
    '|---|---|',
    `| file | [\`${c.file}\`](${c.file}), ${(c.bytes / 1e6).toFixed(2)} MB, ${c.weights} weights (float32 compute; float16 costs ${c.float16DeltaDb.toFixed(4)} dB at most), sha256 \`${c.sha256.slice(0, 16)}…\` |`,
    `| input | ${c.channels === 1 ? 'gray' : 'RGB'}, [N,${c.channels},H,W] in [0, 1], any size (tiled by \`onnxtune denoise\`) |`,
    `| noise | ${c.noise} |`,
    `| training data | ${t.data} |`,
    `| licence | ${t.licence} |`,
    `| job | [\`${t.job}\`](../../${t.job}): ${t.samples.toLocaleString('en-US')} samples × ${t.epochs} epochs, train stage ${t.trainSeconds < 120 ? `${t.trainSeconds} s` : `${Math.round(t.trainSeconds / 60)} min`} on 2 CPU cores (${t.backend}) |`,
    `| remake | \`${t.command}\` |`,
    `| export parity | ${c.exportParity.toExponential(1)} (the float32 export vs the run's onnxruntime encoder + tfjs head) |`,
    '',
  ];
  const refMethods = [...new Set(c.references.map((r) => r.method))];
  lines.push(
    `| test set | σ | images | noisy input | **${c.name}** PSNR / SSIM | ${refMethods.join(' | ')} |`,
    `|---|---|---|---|---|${refMethods.map(() => '---|').join('')}`,
  );
  for (const r of c.results) {
    const refs = refMethods.map((m) => {
      const x = c.references.find((q) => q.method === m && q.set === r.set && q.sigma === r.sigma);
      if (!x) return '–';
      const mark = r.psnr >= x.psnr ? ' ✓' : '';
      return `${x.psnr.toFixed(2)}${x.ssim !== undefined ? ` / ${x.ssim.toFixed(3)}` : ''}${mark}`;
    });
    lines.push(`| ${nameOf(r.set)} | ${sig(r.sigma)} | ${r.images} | ${r.noisyPsnr.toFixed(2)} | **${r.psnr.toFixed(2)}** / ${r.ssim.toFixed(3)} | ${refs.join(' | ')} |`);
  }
  const sources = [...new Set(c.references.map((r) => `${r.method}: ${r.source}`))];
  if (sources.length) lines.push('', `✓: ${c.name} is at or above that method. Sources — ${sources.join('; ')}.`);
  return lines.join('\n');
}

/** All cards, one after another. */
export function renderCardsTable(cards: readonly DenoiserCard[]): string {
  return cards.map(renderCard).join('\n\n') + '\n';
}
