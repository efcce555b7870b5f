/**
 * Ships a trained denoiser into pretrained/denoisers/: takes a finished run of one of the
 * `configs/denoiser-*.yaml` jobs, stores its exported ONNX with float16 weights when that costs
 * ≤ 0.01 dB (float32 compute either way), measures it with the evaluation protocol of
 * DEVELOPERS.md on its test sets, and writes the model card (`<name>.json`) and the cards table
 * of pretrained/denoisers/README.md.
 *
 *   npm run build && node dist/bench/ship-denoiser.js gray-blind runs/denoiser-gray-blind-<stamp>
 *
 * Needs ../shared/data (the test sets).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { float16Weights } from '../converters/fp16-weights';
import { listImages, type LoadedImage } from '../src/data/folder';
import { evaluateBaselineOnPairs } from '../src/eval/baseline-method';
import { evaluateMethod, evaluatePairs, loadTestImages, type EvalPair, type EvalSummary } from '../src/eval/evaluate';
import { openDenoiser } from '../src/inference/onnx-denoiser';
import { writeFileAtomic, writeJsonAtomic } from '../src/io/atomic';
import { encodeModel, loadModel } from '../src/onnx/model-io';
import { sha256Bytes } from '../src/sha256';
import { PROJECT_ROOT } from '../src/version';
import { loadPairsNamed, measureRegression } from '../pretrained/shipped-check';
import { DENOISERS_DIR, listDenoiserCards, type CardReference, type CardScore, type DenoiserCard } from '../pretrained/shipped';
import { renderCardsTable } from '../pretrained/shipped-readme';

const DATA = path.resolve(PROJECT_ROOT, '..', 'shared', 'data');
const MAX_BYTES = 4 * 1024 * 1024;
const FP16_MAX_DELTA_DB = 0.01;

type SetSpec = { set: string; sigmas: number[] } | { set: string; pairs: true };

interface ShipSpec {
  summary: string;
  noise: string;
  channels: 1 | 3;
  data: string;
  licence: string;
  sets: SetSpec[];
  regression: { set: string; kind: 'gaussian' | 'pairs'; count: number; crop: number; sigmas: number[] };
  references: CardReference[];
}

const pub = (method: string, set: string, sigmas: number[], psnr: number[], source = 'published'): CardReference[] =>
  sigmas.map((sigma, i) => ({ method, set, sigma, psnr: psnr[i], source }));
const README_MEASURED = 'measured here with onnxtune eval --baseline (best parameter on the set itself: an upper bound), README 2026-11-27';

const SPECS: Record<string, ShipSpec> = {
  'gray-s25': {
    summary: 'Gaussian gray denoiser for σ = 25 (0–255 scale)',
    noise: 'Gaussian σ = 25',
    channels: 1,
    data: 'Train400 (400 gray 180×180 BSD images, DnCNN training set)',
    licence: 'MIT (model); Train400/BSD images: research use',
    sets: [{ set: 'bsd68', sigmas: [25] }, { set: 'set12', sigmas: [25] }],
    regression: { set: 'set12', kind: 'gaussian', count: 4, crop: 96, sigmas: [25] },
    references: [
      ...pub('BM3D', 'bsd68', [25], [28.57]), ...pub('BM3D', 'set12', [25], [29.97]),
      ...pub('DnCNN-S', 'bsd68', [25], [29.23]), ...pub('DnCNN-S', 'set12', [25], [30.44]),
      ...pub('non-local means (oracle h)', 'bsd68', [25], [27.65], README_MEASURED), ...pub('non-local means (oracle h)', 'set12', [25], [28.73], README_MEASURED),
    ],
  },
  'gray-blind': {
    summary: 'blind Gaussian gray denoiser: one model for any σ in [0, 55]',
    noise: 'Gaussian σ ∈ [0, 55]',
    channels: 1,
    data: 'Train400 (400 gray 180×180 BSD images, DnCNN training set), σ drawn per patch',
    licence: 'MIT (model); Train400/BSD images: research use',
    sets: [{ set: 'bsd68', sigmas: [15, 25, 50] }, { set: 'set12', sigmas: [15, 25, 50] }],
    regression: { set: 'set12', kind: 'gaussian', count: 4, crop: 96, sigmas: [15, 25, 50] },
    references: [
      ...pub('BM3D', 'bsd68', [15, 25, 50], [31.07, 28.57, 25.62]), ...pub('BM3D', 'set12', [15, 25, 50], [32.37, 29.97, 26.72]),
      ...pub('DnCNN-B', 'bsd68', [15, 25, 50], [31.61, 29.16, 26.23]),
      ...pub('non-local means (oracle h)', 'set12', [15, 25, 50], [31.2, 28.73, 25.17], README_MEASURED),
      ...pub('non-local means (oracle h)', 'bsd68', [25], [27.65], README_MEASURED),
    ],
  },
  'color-blind': {
    summary: 'blind Gaussian color (RGB) denoiser: one model for any σ in [0, 55]',
    noise: 'Gaussian σ ∈ [0, 55], RGB',
    channels: 3,
    data: 'CBSD432 (the 432 color BSD500 images outside CBSD68), σ drawn per patch',
    licence: 'MIT (model); BSD images: research use',
    sets: [{ set: 'cbsd68', sigmas: [15, 25, 50] }, { set: 'kodak24', sigmas: [15, 25, 50] }],
    regression: { set: 'kodak24', kind: 'gaussian', count: 3, crop: 96, sigmas: [15, 25, 50] },
    references: [
      ...pub('CBM3D', 'cbsd68', [15, 25, 50], [33.52, 30.71, 27.38]), ...pub('CBM3D', 'kodak24', [15, 25, 50], [34.28, 31.68, 28.46]),
      ...pub('CDnCNN-B', 'cbsd68', [15, 25, 50], [33.89, 31.23, 27.92]),
    ],
  },
  'real-camera': {
    summary: 'real camera noise (Canon sensors, PolyU), sRGB JPEG',
    noise: 'real camera noise',
    channels: 3,
    data: 'PolyU Canon noisy/clean pairs, 12 scenes (45 train + 2 val pairs); 3 scenes (8 pairs) held out whole',
    licence: 'non-commercial use only (trained on PolyU, see ../shared/data/polyu_canon/LICENSE.txt)',
    sets: [{ set: 'polyu_canon', pairs: true }],
    regression: { set: 'polyu_canon', kind: 'pairs', count: 3, crop: 128, sigmas: [] },
    references: [],
  },
};

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The test pairs of a `pairs` run (held-out scenes), by pair name. */
function testPairNames(runDir: string): string[] {
  const ds = readJson<{ splits: { test: Array<{ names?: string[] }> } }>(path.join(runDir, 'data', 'dataset.json'));
  return ds.splits.test.flatMap((t) => t.names ?? []);
}

/** Protocol scores of `file` on every set of the spec (whole images, one tile). */
async function score(file: string, spec: ShipSpec, pairs: EvalPair[], images: ReadonlyMap<string, LoadedImage[]>): Promise<CardScore[]> {
  const d = await openDenoiser(file);
  try {
    const fn = (x: Float32Array, w: number, h: number) => d.run(x, w, h, { tile: Math.max(w, h) });
    const out: CardScore[] = [];
    const add = (set: string, s: EvalSummary) => out.push({ set, sigma: s.sigma, images: s.images, noisyPsnr: s.noisyPsnr, psnr: s.psnr, ssim: s.ssim });
    for (const s of spec.sets) {
      if ('pairs' in s) {
        for (const x of (await evaluatePairs('model', fn, pairs)).summaries) add(s.set, x);
      } else {
        for (const x of (await evaluateMethod('model', fn, images.get(s.set) ?? [], s.sigmas, 0)).summaries) add(s.set, x);
      }
      console.log(out.filter((r) => r.set === s.set).map((r) => `${path.basename(file)} ${r.set} σ=${r.sigma}: ${r.psnr.toFixed(3)} dB / ${r.ssim.toFixed(4)}`).join('\n'));
    }
    return out;
  } finally {
    await d.release();
  }
}

async function main(): Promise<void> {
  const [name, runArg] = process.argv.slice(2);
  const spec = SPECS[name];
  if (!spec || !runArg) throw new Error(`usage: ship-denoiser <${Object.keys(SPECS).join('|')}> <run dir>`);
  if (!fs.existsSync(DATA)) throw new Error(`${DATA} not found: shipping measures on ../shared/data`);
  const runDir = path.resolve(runArg);
  if (!fs.existsSync(path.join(runDir, 'verify', 'DONE'))) throw new Error(`${runDir}: the run has not finished (no verify/DONE)`);
  const exportDir = path.join(runDir, 'export');
  const exported = fs.readdirSync(exportDir).find((f) => f.endsWith('.onnx') && !f.includes('.int8.'));
  if (!exported) throw new Error(`${exportDir}: no exported .onnx`);
  const fp32File = path.join(exportDir, exported);

  const pairNames = spec.sets.some((s) => 'pairs' in s) ? testPairNames(runDir) : [];
  const pairs = pairNames.length ? await loadPairsNamed(path.join(DATA, 'polyu_canon'), pairNames, spec.channels) : [];

  // float16 weight storage, kept only when it costs ≤ 0.01 dB on every measured set.
  const half = float16Weights(loadModel(fp32File));
  const fp16File = path.join(exportDir, exported.replace(/\.onnx$/, '.fp16w.onnx'));
  writeFileAtomic(fp16File, encodeModel(half.model));
  // Each test set is loaded once and scored for both files.
  const images = new Map<string, LoadedImage[]>();
  for (const s of spec.sets) {
    if (!('pairs' in s)) images.set(s.set, await loadTestImages({ data: path.join(DATA, s.set), sigmas: s.sigmas, channels: spec.channels }));
  }
  const [s32, s16] = [await score(fp32File, spec, pairs, images), await score(fp16File, spec, pairs, images)];
  const delta = Math.max(...s32.map((a, i) => Math.abs(a.psnr - s16[i].psnr)));
  const useFp16 = delta <= FP16_MAX_DELTA_DB;
  const chosen = useFp16 ? fp16File : fp32File;
  const bytes = fs.statSync(chosen).size;
  if (bytes > MAX_BYTES) throw new Error(`${chosen}: ${bytes} bytes, over the 4 MiB limit for shipped models`);
  console.log(`float16 weights: max |ΔPSNR| ${delta.toFixed(4)} dB → ${useFp16 ? 'float16' : 'float32'} weights, ${bytes} bytes`);

  const references = [...spec.references];
  if (pairs.length) {
    for (const b of ['nlm', 'bilateral', 'gaussian']) {
      const r = await evaluateBaselineOnPairs(b, pairs);
      for (const s of r.summaries) {
        references.push({ method: `${b} (oracle parameter${b === 'nlm' ? ', told each pair\'s σ' : ''})`, set: 'polyu_canon', sigma: 'real', psnr: s.psnr, ssim: s.ssim, source: `measured here on the same ${pairs.length} pairs: onnxtune eval --pairs --baseline ${b}` });
      }
    }
  }

  fs.mkdirSync(DENOISERS_DIR, { recursive: true });
  const file = `${name}.onnx`;
  const target = path.join(DENOISERS_DIR, file);
  writeFileAtomic(target, fs.readFileSync(chosen));
  // The first images of the set by name (the regression crops are cut from them).
  const regImages = spec.regression.kind === 'pairs'
    ? pairNames.slice(0, spec.regression.count)
    : listImages(path.join(DATA, spec.regression.set)).slice(0, spec.regression.count);
  const regression = { set: spec.regression.set, kind: spec.regression.kind, images: regImages.map((n) => path.basename(n)), crop: spec.regression.crop, sigmas: spec.regression.sigmas, seed: 0, psnr: [] as number[] };
  regression.psnr = await measureRegression(target, regression, DATA, spec.channels);

  const trainRun = readJson<{ wallSeconds: number; config: { train: { epochs: number }; initFrom?: { file: string; sha256: string } } }>(path.join(runDir, 'train', 'run.json'));
  // A warm-started head (decoder.init_from) carries what it started from into the card.
  const init = trainRun.config.initFrom;
  const data = init ? `${spec.data}; head warm-started from ${init.file} (decoder.init_from, sha256 ${init.sha256.slice(0, 16)}…)` : spec.data;
  const ds = readJson<{ splits: { train: Array<{ count: number; realizations: number }> } }>(path.join(runDir, 'data', 'dataset.json'));
  const parity = readJson<{ maxAbsDiff: number }>(path.join(runDir, 'verify', 'parity.json'));
  const backendLine = fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8').match(/TensorFlow\.js backend: (\S+(?: \([^)\n]*\))?)/)?.[1] ?? 'unknown';
  const card: DenoiserCard = {
    name, file, summary: spec.summary, channels: spec.channels, noise: spec.noise,
    training: {
      job: `configs/denoiser-${name}.yaml`,
      command: `onnxtune run configs/denoiser-${name}.yaml && node dist/bench/ship-denoiser.js ${name} runs/denoiser-${name}-<stamp>`,
      data, licence: spec.licence,
      trainSeconds: Math.round(trainRun.wallSeconds),
      samples: ds.splits.train.reduce((a, s) => a + s.count * s.realizations, 0),
      epochs: trainRun.config.train.epochs,
      backend: backendLine,
    },
    results: useFp16 ? s16 : s32,
    references,
    exportParity: parity.maxAbsDiff,
    weights: useFp16 ? 'float16' : 'float32',
    float16DeltaDb: delta,
    bytes,
    sha256: Buffer.from(sha256Bytes(new Uint8Array(fs.readFileSync(target)))).toString('hex'),
    regression,
  };
  writeJsonAtomic(path.join(DENOISERS_DIR, `${name}.json`), card);
  const readme = path.join(DENOISERS_DIR, 'README.md');
  if (fs.existsSync(readme)) {
    const text = fs.readFileSync(readme, 'utf8');
    const block = /(<!-- cards:begin -->\n)[\s\S]*?(<!-- cards:end -->)/;
    if (block.test(text)) writeFileAtomic(readme, text.replace(block, (_m, a: string, b: string) => a + renderCardsTable(listDenoiserCards()) + b));
  }
  console.log(`Shipped ${target} (${bytes} bytes, ${card.weights} weights); card ${name}.json; regression ${regression.psnr.map((p) => p.toFixed(3)).join(' / ')} dB`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
