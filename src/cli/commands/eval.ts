/**
 * `onnxtune eval [model.onnx] --data DIR --sigma 15,25,50 [--baseline gaussian,median]`:
 * the evaluation protocol on a folder of clean images for an ONNX denoiser and/or classical
 * baselines, printed as one markdown table; --out writes eval.json and eval.md.
 * `--pairs` evaluates on real noisy/clean pairs instead (PolyU: `<name>_real.*` / `<name>_mean.*`).
 */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEVICES, type Device } from '../../backends/device';
import { BASELINE_NAMES, evaluateBaseline, evaluateBaselineOnPairs } from '../../eval/baseline-method';
import {
  evaluateMethod, evaluatePairs, loadTestImages, loadTestPairs, summaryTable, type DenoiseFn, type EvalPair, type EvalRow, type EvalSummary,
} from '../../eval/evaluate';
import type { LoadedImage } from '../../data/folder';
import { InputError } from '../../errors';
import { openDenoiser } from '../../inference/onnx-denoiser';
import { ENSEMBLE_SIZES } from '../../denoise/ensemble';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic';
import { learnedNothing } from '../../metrics/learned-nothing';
import { resolveModel } from '../../../pretrained/shipped';
import { printResult } from '../output';
import type { GlobalArgs } from '../main';

interface EvalArgs extends GlobalArgs {
  model?: string;
  data: string;
  sigma?: string;
  pairs?: boolean;
  'noisy-suffix'?: string;
  'clean-suffix'?: string;
  baseline?: string;
  channels?: number;
  seed: number;
  limit?: number;
  out?: string;
  device: Device;
  'no-noisy'?: boolean;
  reference?: string;
  'self-ensemble': number;
}

const DEFAULT_SIGMA = '25';
const DEFAULT_NOISY_SUFFIX = '_real';
const DEFAULT_CLEAN_SUFFIX = '_mean';

function parseSigmas(text: string): number[] {
  const sigmas = text.split(',').map((s) => Number(s.trim()));
  if (!sigmas.length || sigmas.some((s) => !(s > 0 && s <= 255))) {
    throw new InputError('--sigma', `expected comma-separated noise levels in (0, 255] on the 0–255 scale, got '${text}'`);
  }
  return sigmas;
}

export const evalCommand: CommandModule<GlobalArgs, EvalArgs> = {
  command: 'eval [model]',
  describe:
    'Evaluate an ONNX denoiser (any model with one image input and one output) and/or classical baselines on clean images ' +
    'with seeded Gaussian noise, or on real noisy/clean image pairs (--pairs)',
  builder: (y) =>
    y
      .positional('model', {
        type: 'string',
        describe: 'an .onnx denoiser taking [N,C,H,W] in [0,1] (onnxtune export, DnCNN, …) or a shipped denoiser\'s name (onnxtune models); also as --model',
      })
      .option('data', { type: 'string', demandOption: true, describe: 'folder of clean test images (PNG/JPEG/TIFF/WebP/BMP/PGM/PPM), or with --pairs of noisy/clean pairs' })
      .option('sigma', { type: 'string', describe: `noise levels on the 0–255 scale, comma-separated (noise N(0, σ/255), not clipped; default ${DEFAULT_SIGMA}); not with --pairs` })
      .option('pairs', {
        type: 'boolean',
        describe:
          'real noise: score the model on the noisy image of each pair in --data against its clean partner ' +
          `(<name>${DEFAULT_NOISY_SUFFIX}.<ext> vs <name>${DEFAULT_CLEAN_SUFFIX}.<ext>, as PolyU names them; matched like a job's data source 'pairs'); ` +
          "the σ column reads 'real'",
      })
      .option('noisy-suffix', { type: 'string', describe: `with --pairs: file-name suffix (before the extension) of the noisy image (default ${DEFAULT_NOISY_SUFFIX})` })
      .option('clean-suffix', { type: 'string', describe: `with --pairs: file-name suffix of the clean reference image (default ${DEFAULT_CLEAN_SUFFIX})` })
      .option('baseline', {
        type: 'string',
        describe:
          `classical baselines to add, comma-separated: ${BASELINE_NAMES.join(', ')} (best parameter per σ, or per set of pairs, on the set itself: an upper bound). ` +
          'nlm is told the true σ; with --pairs, each pair\'s σ measured against its clean image (RMS of noisy − clean), since blind estimates miss most real camera noise',
      })
      .option('channels', { type: 'number', choices: [1, 3], describe: 'load images as gray (1) or RGB (3); default: what the model takes, else 1' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the noise (the same seed gives the same noisy images for every method); unused with --pairs' })
      .option('limit', { type: 'number', describe: 'evaluate only the first N images (with --pairs: the first N pairs by name)' })
      .option('out', { type: 'string', describe: 'folder for eval.json (per-image rows and means) and eval.md' })
      .option('device', { choices: DEVICES, default: 'auto' as Device, describe: 'onnxruntime device for the model' })
      .option('self-ensemble', {
        type: 'number', choices: [...ENSEMBLE_SIZES], default: 1,
        describe: 'score the model with a geometric self-ensemble: each image denoised under 2, 4 or 8 flips/rotations, averaged (n× the time); the method is named <model> ×N',
      })
      .option('reference', {
        type: 'string',
        describe: 'a second .onnx (e.g. the float32 model of an int8 one) scored on the same noisy images; adds its rows, the PSNR delta (model − reference) and the max abs difference of the two outputs',
      })
      .example('$0 eval --model gray-blind --data ../shared/data/bsd68 --sigma 15,25,50', 'a shipped denoiser by name (onnxtune models)')
      .example('$0 eval ../shared/models/dncnn_25.onnx --data ../shared/data/bsd68 --sigma 25', 'reproduce DnCNN on BSD68')
      .example('$0 eval runs/x/export/denoiser.onnx --data ../shared/data/set12 --sigma 15,25,50 --baseline gaussian,median', 'compare with baselines')
      .example('$0 eval runs/x/export/denoiser.onnx --data ../shared/data/polyu_canon --pairs --channels 3 --baseline gaussian', 'real noise: PolyU *_real.JPG vs *_mean.JPG')
      .example('$0 eval model.onnx --data DIR --pairs --noisy-suffix _noisy --clean-suffix _gt', 'pairs named <name>_noisy.png / <name>_gt.png')
      .example('$0 eval dncnn.int8.onnx --reference ../shared/models/dncnn_25.onnx --data ../shared/data/bsd68 --sigma 25', 'int8 vs float32: PSNR delta, max abs')
      .check((a) => {
        if (!a.model && !a.baseline) throw new Error('give a model, --baseline, or both');
        if (a.reference && !a.model) throw new Error('--reference needs a model to compare with it');
        if (a.pairs && a.sigma !== undefined) throw new Error('--sigma and --pairs do not go together: --pairs uses the real noise of each pair');
        if (!a.pairs && (a['noisy-suffix'] !== undefined || a['clean-suffix'] !== undefined)) throw new Error('--noisy-suffix and --clean-suffix need --pairs');
        for (const k of ['noisy-suffix', 'clean-suffix'] as const) if (a[k] === '') throw new Error(`--${k} must not be empty`);
        return true;
      }) as Argv<EvalArgs>,
  handler: async (args) => {
    const pairsMode = Boolean(args.pairs);
    const sigmas = pairsMode ? [] : parseSigmas(args.sigma ?? DEFAULT_SIGMA);
    const baselines = (args.baseline ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    for (const name of baselines) {
      if (!BASELINE_NAMES.includes(name)) throw new InputError('--baseline', `unknown baseline '${name}'; choose from ${BASELINE_NAMES.join(', ')}`);
    }
    const noisySuffix = args['noisy-suffix'] ?? DEFAULT_NOISY_SUFFIX;
    const cleanSuffix = args['clean-suffix'] ?? DEFAULT_CLEAN_SUFFIX;
    const modelFile = args.model ? resolveModel(args.model) : undefined;
    const referenceFile = args.reference ? resolveModel(args.reference, '--reference') : undefined;
    const denoiser = modelFile ? await openDenoiser(modelFile, { device: args.device }) : undefined;
    const rows: Array<EvalRow & { method: string }> = [];
    const summaries: EvalSummary[] = [];
    let images: LoadedImage[] = [];
    let pairs: EvalPair[] = [];
    let comparison: ReferenceComparison | undefined;
    try {
      const channels = (args.channels ?? denoiser?.channels ?? 1) as 1 | 3;
      if (denoiser && denoiser.channels !== channels) {
        throw new InputError(modelFile as string, `the model takes ${denoiser.channels} channels; --channels ${channels} does not match`);
      }
      // Images (or pairs) are loaded once and shared by every method.
      if (pairsMode) pairs = await loadTestPairs({ data: args.data, channels, noisySuffix, cleanSuffix, limit: args.limit });
      else images = await loadTestImages({ data: args.data, sigmas, channels, limit: args.limit });
      if (denoiser) {
        const views = args['self-ensemble'];
        const name = path.basename(denoiser.file) + (views > 1 ? ` ×${views}` : '');
        // The protocol scores whole images: one tile as large as the image.
        // With --reference the outputs are kept, in case order, to compare with the reference's.
        const recorded: Float32Array[] = [];
        const whole: DenoiseFn = async (x, w, h) => {
          const out = await denoiser.run(x, w, h, { tile: Math.max(w, h), ensemble: views });
          if (referenceFile) recorded.push(out);
          return out;
        };
        const r = pairsMode ? await evaluatePairs(name, whole, pairs) : await evaluateMethod(name, whole, images, sigmas, args.seed);
        rows.push(...r.rows.map((x) => ({ ...x, method: name })));
        // A model whose PSNR stays at the noisy input's is flagged rather than left to be read as a result.
        const mark = (s: { psnr: number; noisyPsnr: number }) => (learnedNothing(s.noisyPsnr, s.psnr) ? '; learned nothing (output ≈ input)' : '');
        summaries.push(...r.summaries.map((s) => ({ ...s, note: `onnxruntime ${denoiser.ep}${mark(s)}` })));
        if (referenceFile) {
          comparison = await compareWithReference(referenceFile, args.device, r.summaries, pairsMode, images, pairs, sigmas, args.seed, recorded, views);
          rows.push(...comparison.rows);
          summaries.push(...comparison.summaries);
        }
      }
    } finally {
      await denoiser?.release();
    }
    for (const name of baselines) {
      const r = pairsMode ? await evaluateBaselineOnPairs(name, pairs) : await evaluateBaseline(name, images, sigmas, args.seed);
      rows.push(...r.rows.map((x) => ({ ...x, method: name })));
      summaries.push(...r.summaries);
    }
    const source = pairsMode ? `${pairs.length} real noisy/clean pairs: *${noisySuffix}.* vs *${cleanSuffix}.*` : undefined;
    const table = summaryTable(args.data, summaries, source) + (comparison ? `\n\n${comparison.text}` : '');
    if (args.out) {
      const report = pairsMode
        ? { data: args.data, pairs: { noisySuffix, cleanSuffix, count: pairs.length }, sigmas: ['real'], summaries, rows }
        : { data: args.data, seed: args.seed, sigmas, summaries, rows };
      if (comparison) Object.assign(report, { reference: comparison.json });
      writeJsonAtomic(path.join(args.out, 'eval.json'), report);
      writeFileAtomic(path.join(args.out, 'eval.md'), table + '\n');
    }
    printResult(table + (args.out ? `\n\nWrote ${path.join(args.out, 'eval.json')} and eval.md` : ''), { summaries, rows, ...(comparison ? { reference: comparison.json } : {}) });
  },
};

interface ReferenceComparison {
  rows: Array<EvalRow & { method: string }>;
  summaries: EvalSummary[];
  text: string;
  json: { model: string; perSigma: Array<{ sigma: EvalSummary['sigma']; psnrDelta: number; ssimDelta: number; maxAbs: number }> };
}

/**
 * Scores the reference model on the same cases as the model (same order, same noise) and
 * compares: PSNR/SSIM delta per σ and the max abs difference of the two outputs per image.
 * `outputs` are the model's outputs in the order the cases ran (the reference runs them in the same order, with the
 * same self-ensemble `views`).
 */
async function compareWithReference(
  file: string, device: Device, modelSummaries: readonly EvalSummary[], pairsMode: boolean,
  images: LoadedImage[], pairs: EvalPair[], sigmas: number[], seed: number, outputs: readonly Float32Array[], views = 1,
): Promise<ReferenceComparison> {
  const reference = await openDenoiser(file, { device });
  try {
    const name = path.basename(reference.file) + (views > 1 ? ` ×${views}` : '');
    const maxAbs = new Map<EvalSummary['sigma'], number>();
    let next = 0;
    const both: DenoiseFn = async (x, w, h, _c, sigma) => {
      const a = await reference.run(x, w, h, { tile: Math.max(w, h), ensemble: views });
      const b = outputs[next++];
      const key = pairsMode ? 'real' : sigma;
      let m = maxAbs.get(key) ?? 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
      maxAbs.set(key, m);
      return a;
    };
    const r = pairsMode ? await evaluatePairs(name, both, pairs) : await evaluateMethod(name, both, images, sigmas, seed);
    const perSigma = r.summaries.map((ref) => {
      const m = modelSummaries.find((s) => s.sigma === ref.sigma) as EvalSummary;
      return { sigma: ref.sigma, psnrDelta: m.psnr - ref.psnr, ssimDelta: m.ssim - ref.ssim, maxAbs: maxAbs.get(ref.sigma) ?? 0 };
    });
    const text = perSigma
      .map((p) => `vs reference ${name} at σ ${p.sigma}: PSNR ${p.psnrDelta >= 0 ? '+' : ''}${p.psnrDelta.toFixed(3)} dB, ` +
        `SSIM ${p.ssimDelta >= 0 ? '+' : ''}${p.ssimDelta.toFixed(4)}, max abs output difference ${p.maxAbs.toExponential(2)}`)
      .join('\n');
    return {
      rows: r.rows.map((x) => ({ ...x, method: name })),
      summaries: r.summaries.map((s) => ({ ...s, note: `onnxruntime ${reference.ep}; reference` })),
      text,
      json: { model: name, perSigma },
    };
  } finally {
    await reference.release();
  }
}
