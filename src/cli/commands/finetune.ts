/**
 * `onnxtune finetune <model.onnx> <images or folders...> --out tuned.onnx`: adapts an exported
 * model's decoder head to clean photos with synthetic Gaussian noise, with the same core as the
 * web page's Fine-tune panel (pipeline/finetune), and writes ONE combined model.
 */
import type { Argv, CommandModule } from 'yargs';
import { DEVICES, type Device } from '../../backends/device';
import { UsageError } from '../../errors';
import { expandInputs } from '../../inference/denoise-files';
import { log } from '../../log';
import { parseSigma } from '../../../pipeline/finetune/finetune';
import { finetuneFiles } from '../../../pipeline/finetune/run';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { resolveModel } from '../../../pretrained/shipped';

interface FinetuneArgs extends GlobalArgs {
  model: string;
  inputs: string[];
  out: string;
  sigma: string;
  pairs?: boolean;
  'noisy-suffix': string;
  'clean-suffix': string;
  steps: number;
  batch: number;
  lr: number;
  patch: number;
  seed: number;
  device: Device;
}

export const finetuneCommand: CommandModule<GlobalArgs, FinetuneArgs> = {
  command: 'finetune <model> <inputs..>',
  describe: "Fine-tune an exported model's decoder head on your own clean photos (synthetic noise) or noisy/clean pairs (--pairs); writes one .onnx",
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'an .onnx exported by onnxtune (its metadata names the encoder taps) or a shipped denoiser\'s name (onnxtune models)' })
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'clean image files and/or folders' })
      .option('out', { type: 'string', demandOption: true, describe: 'the fine-tuned .onnx to write' })
      .option('sigma', { type: 'string', default: '25', describe: 'Gaussian noise σ on the 0-255 scale, or a range like 15-50 (one level per image); not with --pairs' })
      .option('pairs', { type: 'boolean', describe: 'real noise: the inputs are noisy/clean pairs, <name>_real.* / <name>_mean.* (PolyU naming; see --noisy-suffix, --clean-suffix), as the page\'s Pairs option' })
      .option('noisy-suffix', { type: 'string', default: '_real', describe: 'with --pairs: file-name suffix of the noisy image' })
      .option('clean-suffix', { type: 'string', default: '_mean', describe: 'with --pairs: file-name suffix of the clean image' })
      .option('steps', { type: 'number', default: 200, describe: 'optimizer steps' })
      .option('batch', { type: 'number', default: 8, describe: 'patches per step' })
      .option('lr', { type: 'number', default: 1e-3, describe: 'Adam learning rate' })
      .option('patch', { type: 'number', default: 64, describe: "patch side (rounded to the model's stride multiple)" })
      .option('seed', { type: 'number', default: 1, describe: 'seeds the noise and the batch order (the page uses the same streams)' })
      .option('device', { choices: DEVICES, default: 'auto' as Device, describe: 'onnxruntime and TF.js device' })
      .example('$0 finetune runs/x/export/denoiser.onnx my-photos/ --sigma 50 --steps 300 --out tuned.onnx', 'adapt to σ=50 on your photos')
      .example('$0 finetune color-blind shots/ --pairs --noisy-suffix _noisy --clean-suffix _gt --out my-camera.onnx', 'adapt a shipped model to your camera\'s real noise') as Argv<FinetuneArgs>,
  handler: async (args) => {
    let sigma: [number, number];
    try {
      sigma = parseSigma(args.sigma);
    } catch (err) {
      throw new UsageError(`--sigma ${args.sigma}: ${(err as Error).message}`);
    }
    for (const [name, v] of [['steps', args.steps], ['batch', args.batch], ['patch', args.patch]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer, got ${v}`);
    }
    if (!(args.lr > 0)) throw new UsageError(`--lr must be > 0, got ${args.lr}`);
    const images = expandInputs(args.inputs);
    const every = Math.max(1, Math.round(args.steps / 10));
    const r = await finetuneFiles(resolveModel(args.model), images, {
      out: args.out, sigma, pairs: args.pairs ? { noisySuffix: args['noisy-suffix'], cleanSuffix: args['clean-suffix'] } : undefined, steps: args.steps, batchSize: args.batch, lr: args.lr, patch: args.patch, seed: args.seed, device: args.device,
      onStep: (s, loss) => s % every === 0 && log.info(`step ${s}/${args.steps}: loss ${loss.toExponential(3)}`),
    });
    printResult(
      table(['model', 'images', 'patches', 'steps', 'loss before', 'loss after', 'ms/step', 'runtime'], [
        [r.out, r.images, r.patches, r.steps, r.lossBefore.toExponential(3), r.lossAfter.toExponential(3), r.msPerStep.toFixed(1), r.runtime],
      ]),
      r,
    );
  },
};
