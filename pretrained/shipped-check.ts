/**
 * The regression measurement of a shipped denoiser's card (`card.regression`): mean PSNR over
 * center crops of a few test images, with the evaluation protocol's seeded noise (or the real
 * noisy/clean pairs). `bench/ship-denoiser.ts` writes the numbers into the card and
 * `test/pretrained/shipped-denoisers.test.ts` measures them again.
 */
import * as path from 'node:path';
import { loadImageAs, type LoadedImage } from '../src/data/folder';
import { listPairs, loadPair } from '../src/data/pairs';
import { evaluatePairs, evaluateMethod, type EvalPair } from '../src/eval/evaluate';
import { openDenoiser } from '../src/inference/onnx-denoiser';
import type { CardRegression } from './shipped';

/** The centered `side`×`side` crop of `img` (the whole image when it is smaller); keeps the name, so the seeded noise is the same every time. */
export function centerCrop(img: LoadedImage, side: number): LoadedImage {
  const w = Math.min(side, img.width);
  const h = Math.min(side, img.height);
  const x0 = (img.width - w) >> 1;
  const y0 = (img.height - h) >> 1;
  const C = img.channels;
  const data = new Float32Array(w * h * C);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * C, ((y0 + y) * img.width + x0 + w) * C), y * w * C);
  return { name: img.name, data, width: w, height: h, channels: C };
}

/**
 * The PolyU-named pairs (`<name>_real.*` / `<name>_mean.*`) of `dir` whose names are in `names`, in name order.
 * @throws Error when one of them is missing
 */
export async function loadPairsNamed(dir: string, names: readonly string[], channels: 1 | 3): Promise<EvalPair[]> {
  const wanted = new Set(names);
  const pairs: EvalPair[] = [];
  for (const p of listPairs({ dir, noisy_suffix: '_real', clean_suffix: '_mean' }).filter((q) => wanted.has(q.name))) {
    pairs.push({ name: p.name, ...(await loadPair(p, channels, 7, 'the 7×7 SSIM window')) });
  }
  if (pairs.length !== wanted.size) throw new Error(`${dir}: found ${pairs.length} of the ${wanted.size} pairs named`);
  return pairs;
}

/**
 * Mean PSNR of `modelFile` over the regression crops, one value per σ (one for pairs).
 * @param dataDir the folder holding the `reg.set` folder (`../shared/data`)
 */
export async function measureRegression(modelFile: string, reg: CardRegression, dataDir: string, channels: 1 | 3): Promise<number[]> {
  const d = await openDenoiser(modelFile, { threads: 1 });
  try {
    const fn = (x: Float32Array, w: number, h: number) => d.run(x, w, h, { tile: Math.max(w, h) });
    const dir = path.join(dataDir, reg.set);
    if (reg.kind === 'pairs') {
      const pairs = (await loadPairsNamed(dir, reg.images, channels)).map((p) => ({ name: p.name, noisy: centerCrop(p.noisy, reg.crop), clean: centerCrop(p.clean, reg.crop) }));
      return (await evaluatePairs('model', fn, pairs)).summaries.map((s) => s.psnr);
    }
    const images = await Promise.all(reg.images.map(async (f) => centerCrop(await loadImageAs(path.join(dir, f), channels), reg.crop)));
    return (await evaluateMethod('model', fn, images, reg.sigmas, reg.seed)).summaries.map((s) => s.psnr);
  } finally {
    await d.release();
  }
}
