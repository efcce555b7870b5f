/**
 * `onnxtune export --target web <model.onnx> --out DIR`: a self-contained folder (page, model,
 * onnxruntime-web wasm files, samples) that any static host can serve.
 */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { metadataRows } from '../../denoise/model-info';
import { exportWebSite } from '../web/site';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { resolveModel } from '../../../pretrained/shipped';

export const EXPORT_TARGETS = ['web'] as const;

interface ExportArgs extends GlobalArgs {
  model: string;
  target: (typeof EXPORT_TARGETS)[number];
  out: string;
  force: boolean;
}

const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;

export const exportWebCommand: CommandModule<GlobalArgs, ExportArgs> = {
  command: 'export <model>',
  describe: 'Package an exported model for a target: --target web writes the browser demo with the model into a folder for any static host',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'an exported onnxtune .onnx or a shipped denoiser\'s name (onnxtune models)' })
      .option('target', { choices: EXPORT_TARGETS, demandOption: true, describe: 'what to package for' })
      .option('out', { type: 'string', demandOption: true, describe: 'folder to write (must be empty or absent)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace a non-empty --out folder' })
      .example('$0 export --target web model.onnx --out site/', 'then serve site/ with any static file server') as Argv<ExportArgs>,
  handler: async (args) => {
    const r = await exportWebSite(resolveModel(args.model), args.out, { force: args.force });
    const shown = path.relative(process.cwd(), r.dir);
    const lines = [
      `Wrote ${r.dir}: ${r.files.length} files, ${mib(r.bytes)}`,
      table(['model', 'value'], metadataRows(r.model.info)),
      '',
      `Copy ${shown.startsWith('..') ? r.dir : shown || '.'}/ to any static host (file:// cannot load wasm). It must serve .wasm as`,
      'application/wasm and .mjs as text/javascript. With the headers Cross-Origin-Opener-Policy: same-origin and',
      'Cross-Origin-Embedder-Policy: require-corp the page uses up to 4 wasm threads; without them, 1 thread.',
    ];
    printResult(lines.join('\n'), { dir: r.dir, files: r.files, bytes: r.bytes, info: r.model.info });
  },
};
