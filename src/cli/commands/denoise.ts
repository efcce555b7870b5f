/**
 * `onnxtune denoise <model.onnx> <images or folders...> --out DIR`: denoise image files. An image
 * that cannot be read is reported (a warning naming it) and skipped while the others are denoised;
 * the command then ends with one error line listing the skipped files and exit code 2.
 */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEVICES, type Device } from '../../backends/device';
import { InputError, UsageError } from '../../errors';
import { denoiseFiles, type ColorMode } from '../../inference/denoise-files';
import type { BitDepth } from '../../images/write';
import { resolveModel } from '../../../pretrained/shipped';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { ENSEMBLE_SIZES } from '../../denoise/ensemble';
import { checkTileOptions, defaultOverlap } from '../../denoise/tiling';

interface DenoiseArgs extends GlobalArgs {
  model?: string;
  inputs?: string[];
  page: boolean;
  out: string;
  tile: number;
  overlap?: number;
  margin?: number;
  'self-ensemble': number;
  color: ColorMode;
  'bit-depth'?: BitDepth;
  force?: boolean;
  device: Device;
}

export const denoiseCommand: CommandModule<GlobalArgs, DenoiseArgs> = {
  command: 'denoise [inputs..]',
  describe: 'Denoise images (PNG/JPEG/TIFF/WebP/BMP/PGM/PPM, 8/16-bit, gray/RGB, any size) with an ONNX denoiser; writes one file per input into --out (format by extension)',
  builder: (y) =>
    y
      .usage('$0 denoise <model> <inputs..> --out DIR\n$0 denoise --model <name or file> <inputs..> --out DIR')
      .positional('inputs', { type: 'string', array: true, describe: 'the model (unless --model is given), then image files and/or folders of images' })
      .option('model', {
        type: 'string',
        describe: 'a shipped denoiser\'s name (gray-s25, gray-blind, color-blind, real-camera: onnxtune models) or an .onnx denoiser (onnxtune export, DnCNN, …); its onnxtune.* metadata sets channels and value range',
      })
      .option('page', { type: 'boolean', default: true, describe: 'also write DIR/index.html: a before/after slider per image (previews in DIR/compare/); --no-page to skip' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (same file names; formats other than PNG/TIFF/JPEG become PNG)' })
      .option('tile', { type: 'number', default: 256, describe: 'tile side in pixels: larger images run tile by tile so memory stays bounded' })
      .option('overlap', { type: 'number', describe: 'overlap between tiles, blended linearly (no seams); default a quarter of --tile, at most 64' })
      .option('margin', {
        type: 'number',
        describe: 'pixels at each shared tile side used as context only (weight 0), since a convolution sees padding there; default 16 (less when 2·margin would not fit in the overlap)',
      })
      .option('self-ensemble', {
        type: 'number', choices: [...ENSEMBLE_SIZES], default: 1,
        describe: 'denoise each tile under 2, 4 or 8 flips/rotations and average: a little better (gray-s25 fine-tuned, Set12 σ25: +0.16 dB with 8) at 2–8× the time',
      })
      .option('color', {
        choices: ['per-channel', 'luma'] as const, default: 'per-channel' as ColorMode,
        describe: 'a gray model on an RGB image: denoise each channel (RGB out) or the luma only (gray out)',
      })
      .option('bit-depth', { choices: [8, 16] as const, describe: 'output bits per channel (default: as the input; JPEG is always 8)' })
      .option('force', { type: 'boolean', describe: 'overwrite existing output files' })
      .option('device', { choices: DEVICES, default: 'auto' as Device, describe: 'onnxruntime device' })
      .example('$0 denoise --model real-camera ../shared/data/rni6 --out rni6-clean', 'a shipped denoiser on real noisy photos; open rni6-clean/index.html')
      .example('$0 denoise runs/x/export/denoiser.onnx photos/ --out clean/', 'your own export on a folder')
      .example('$0 denoise ../shared/models/dncnn_25.onnx ../shared/data/rni6 --out rni6-dncnn', 'real noisy photos, no reference')
      .epilogue(
        'Each output keeps its input\'s format, bit depth and transparency (the alpha channel is copied, not denoised); photos are written upright (EXIF orientation applied). ' +
          'An image that cannot be read (corrupt, truncated, not an image) is reported and skipped; the others are still ' +
          'denoised, then the command ends with one error line naming the skipped files and exit code 2 (as for other bad input; 0 when every image was denoised).',
      ) as Argv<DenoiseArgs>,
  handler: async (args) => {
    let inputs = [...(args.inputs ?? [])];
    let modelArg = args.model;
    if (modelArg === undefined) {
      // The positional form: the first argument is the model.
      if (inputs.length < 2) throw new UsageError('give a model and images: onnxtune denoise <model> <images..> --out DIR, or --model <name> <images..>');
      modelArg = inputs.shift() as string;
    }
    if (!inputs.length) throw new UsageError('no images given: onnxtune denoise --model <name> <images or folders..> --out DIR');
    const model = resolveModel(modelArg, args.model === undefined ? 'model (first argument)' : '--model');
    try {
      // Before any image is read: the rules the tiler applies.
      checkTileOptions(args.tile, args.overlap ?? defaultOverlap(args.tile), args.margin ?? 0);
    } catch (err) {
      const given = [`--tile ${args.tile}`, args.overlap === undefined ? '' : `--overlap ${args.overlap}`, args.margin === undefined ? '' : `--margin ${args.margin}`];
      throw new UsageError(`${given.filter(Boolean).join(' ')}: ${(err as Error).message}`);
    }
    const { done, skipped, page } = await denoiseFiles(model, inputs, {
      out: args.out, tile: args.tile, overlap: args.overlap, margin: args.margin, ensemble: args['self-ensemble'], color: args.color, bitDepth: args['bit-depth'], force: args.force, device: args.device,
      page: args.page,
    });
    printResult(
      table(['input', 'size', 'tiles', 'seconds', 'output'], done.map((d) => [d.input, `${d.width}×${d.height}×${d.channels}`, d.tiles, d.seconds.toFixed(2), d.output])) +
        (page ? `\n\nBefore/after page: ${page}` : ''),
      done, // the JSON stays the list of files; the page is always <out>/index.html
    );
    if (skipped.length) {
      const total = done.length + skipped.length;
      const first = skipped[0].error;
      const others = skipped.slice(1).map((s) => path.basename(s.input));
      const what = `${skipped.length} of ${total} images could not be read and ${skipped.length === 1 ? 'was' : 'were'} skipped`;
      const rest = done.length ? `the other ${done.length} ${done.length === 1 ? 'was' : 'were'} denoised into ${args.out}` : 'nothing was written';
      throw new InputError(first.file, `${first.reason}; ${what}${others.length ? ` (also ${others.join(', ')})` : ''}; ${rest}`);
    }
  },
};
