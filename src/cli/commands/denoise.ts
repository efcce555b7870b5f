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
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { checkTileOptions } from '../../denoise/tiling';

interface DenoiseArgs extends GlobalArgs {
  model: string;
  inputs: string[];
  out: string;
  tile: number;
  overlap: number;
  margin?: number;
  color: ColorMode;
  'bit-depth'?: BitDepth;
  force?: boolean;
  device: Device;
}

export const denoiseCommand: CommandModule<GlobalArgs, DenoiseArgs> = {
  command: 'denoise <model> <inputs..>',
  describe: 'Denoise images (PNG/JPEG/TIFF/WebP/BMP/PGM/PPM, 8/16-bit, gray/RGB, any size) with an ONNX denoiser; writes one file per input into --out (format by extension)',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'an .onnx denoiser (onnxtune export, DnCNN, …); its onnxtune.* metadata sets channels and value range' })
      .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'image files and/or folders of images' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (same file names; formats other than PNG/TIFF/JPEG become PNG)' })
      .option('tile', { type: 'number', default: 256, describe: 'tile side in pixels: larger images run tile by tile so memory stays bounded' })
      .option('overlap', { type: 'number', default: 64, describe: 'overlap between tiles, blended linearly (no seams)' })
      .option('margin', {
        type: 'number',
        describe: 'pixels at each shared tile side used as context only (weight 0), since a convolution sees padding there; default 16 (less when 2·margin would not fit in the overlap)',
      })
      .option('color', {
        choices: ['per-channel', 'luma'] as const, default: 'per-channel' as ColorMode,
        describe: 'a gray model on an RGB image: denoise each channel (RGB out) or the luma only (gray out)',
      })
      .option('bit-depth', { choices: [8, 16] as const, describe: 'output bits per channel (default: as the input; JPEG is always 8)' })
      .option('force', { type: 'boolean', describe: 'overwrite existing output files' })
      .option('device', { choices: DEVICES, default: 'auto' as Device, describe: 'onnxruntime device' })
      .example('$0 denoise runs/x/export/denoiser.onnx photos/ --out clean/', 'a folder')
      .example('$0 denoise ../shared/models/dncnn_25.onnx ../shared/data/rni6 --out rni6-dncnn', 'real noisy photos, no reference')
      .epilogue(
        'An image that cannot be read (corrupt, truncated, not an image) is reported and skipped; the others are still ' +
          'denoised, then the command ends with one error line naming the skipped files and exit code 2 (as for other bad input; 0 when every image was denoised).',
      ) as Argv<DenoiseArgs>,
  handler: async (args) => {
    try {
      // Before any image is read: the rules the tiler applies.
      checkTileOptions(args.tile, args.overlap, args.margin ?? 0);
    } catch (err) {
      throw new UsageError(`--tile ${args.tile} --overlap ${args.overlap}${args.margin === undefined ? '' : ` --margin ${args.margin}`}: ${(err as Error).message}`);
    }
    const { done, skipped } = await denoiseFiles(args.model, args.inputs, {
      out: args.out, tile: args.tile, overlap: args.overlap, margin: args.margin, color: args.color, bitDepth: args['bit-depth'], force: args.force, device: args.device,
    });
    printResult(
      table(['input', 'size', 'tiles', 'seconds', 'output'], done.map((d) => [d.input, `${d.width}×${d.height}×${d.channels}`, d.tiles, d.seconds.toFixed(2), d.output])),
      done,
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
