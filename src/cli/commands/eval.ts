/**
 * `onnxtune eval [model.onnx] --data DIR --sigma 15,25,50 [--baseline gaussian,median]`:
 * the evaluation protocol on a folder of clean images for an ONNX denoiser and/or classical
 * baselines, printed as one markdown table; --out writes eval.json and eval.md.
 */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEVICES, type Device } from '../../backends/device';
import { BASELINE_NAMES, evaluateBaseline } from '../../eval/baseline-method';
import { evaluateMethod, loadTestImages, summaryTable, type EvalRow, type EvalSummary } from '../../eval/evaluate';
import { InputError } from '../../errors';
import { openDenoiser } from '../../inference/onnx-denoiser';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic';
import { printResult } from '../output';
import type { GlobalArgs } from '../main';

interface EvalArgs extends GlobalArgs {
  model?: string;
  data: string;
  sigma: string;
  baseline?: string;
  channels?: number;
  seed: number;
  limit?: number;
  out?: string;
  device: Device;
  'no-noisy'?: boolean;
}

function parseSigmas(text: string): number[] {
  const sigmas = text.split(',').map((s) => Number(s.trim()));
  if (!sigmas.length || sigmas.some((s) => !(s > 0 && s <= 255))) {
    throw new InputError('--sigma', `expected comma-separated noise levels in (0, 255] on the 0–255 scale, got '${text}'`);
  }
  return sigmas;
}

export const evalCommand: CommandModule<GlobalArgs, EvalArgs> = {
  command: 'eval [model]',
  describe: 'Evaluate an ONNX denoiser (any model with one image input and one output) and/or classical baselines on clean images with seeded Gaussian noise',
  builder: (y) =>
    y
      .positional('model', { type: 'string', describe: 'an .onnx denoiser taking [N,C,H,W] in [0,1] (onnxtune export, DnCNN, …)' })
      .option('data', { type: 'string', demandOption: true, describe: 'folder of clean test images (PNG/JPEG/TIFF)' })
      .option('sigma', { type: 'string', default: '25', describe: 'noise levels on the 0–255 scale, comma-separated (noise N(0, σ/255), not clipped)' })
      .option('baseline', { type: 'string', describe: `classical baselines to add, comma-separated: ${BASELINE_NAMES.join(', ')} (best parameter per σ on the set itself, an upper bound; nlm is told the true σ)` })
      .option('channels', { type: 'number', choices: [1, 3], describe: 'load images as gray (1) or RGB (3); default: what the model takes, else 1' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the noise (the same seed gives the same noisy images for every method)' })
      .option('limit', { type: 'number', describe: 'evaluate only the first N images' })
      .option('out', { type: 'string', describe: 'folder for eval.json (per-image rows and means) and eval.md' })
      .option('device', { choices: DEVICES, default: 'auto' as Device, describe: 'onnxruntime device for the model' })
      .example('$0 eval ../shared/models/dncnn_25.onnx --data ../shared/data/bsd68 --sigma 25', 'reproduce DnCNN on BSD68')
      .example('$0 eval runs/x/export/denoiser.onnx --data ../shared/data/set12 --sigma 15,25,50 --baseline gaussian,median', 'compare with baselines')
      .check((a) => {
        if (!a.model && !a.baseline) throw new Error('give a model, --baseline, or both');
        return true;
      }) as Argv<EvalArgs>,
  handler: async (args) => {
    const sigmas = parseSigmas(args.sigma);
    const denoiser = args.model ? await openDenoiser(args.model, { device: args.device }) : undefined;
    const channels = (args.channels ?? denoiser?.channels ?? 1) as 1 | 3;
    if (denoiser && denoiser.channels !== channels) {
      throw new InputError(args.model as string, `the model takes ${denoiser.channels} channels; --channels ${channels} does not match`);
    }
    const images = await loadTestImages({ data: args.data, sigmas, channels, limit: args.limit });
    const rows: Array<EvalRow & { method: string }> = [];
    const summaries: EvalSummary[] = [];
    try {
      if (denoiser) {
        // The protocol scores whole images: one tile as large as the image.
        const whole = (x: Float32Array, w: number, h: number) => denoiser.run(x, w, h, { tile: Math.max(w, h) });
        const r = await evaluateMethod(path.basename(denoiser.file), whole, images, sigmas, args.seed);
        rows.push(...r.rows.map((x) => ({ ...x, method: path.basename(denoiser.file) })));
        summaries.push(...r.summaries.map((s) => ({ ...s, note: `onnxruntime ${denoiser.ep}` })));
      }
    } finally {
      await denoiser?.release();
    }
    for (const name of (args.baseline ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const r = await evaluateBaseline(name, images, sigmas, args.seed);
      rows.push(...r.rows.map((x) => ({ ...x, method: name })));
      summaries.push(...r.summaries);
    }
    const table = summaryTable(args.data, summaries);
    if (args.out) {
      writeJsonAtomic(path.join(args.out, 'eval.json'), { data: args.data, seed: args.seed, sigmas, summaries, rows });
      writeFileAtomic(path.join(args.out, 'eval.md'), table + '\n');
    }
    printResult(table + (args.out ? `\n\nWrote ${path.join(args.out, 'eval.json')} and eval.md` : ''), { summaries, rows });
  },
};
