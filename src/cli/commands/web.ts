/**
 * `onnxtune web [model.onnx] [--port N]`: builds the browser demo if needed and serves it on
 * 127.0.0.1 with the model (without one, the short demo model is trained once and reused),
 * until Ctrl-C.
 */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { metadataRows } from '../../denoise/model-info';
import { buildWebApp, ensureWebBuild } from '../web/build';
import { ensureDefaultModel } from '../web/default-model';
import { readWebModel } from '../../inference/model-file';
import { startWebDemo } from '../web/site';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { resolveModel } from '../../../pretrained/shipped';

interface WebArgs extends GlobalArgs {
  model?: string;
  port: number;
  rebuild: boolean;
  'build-only': boolean;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const webCommand: CommandModule<GlobalArgs, WebArgs> = {
  command: 'web [model]',
  describe: 'Serve the browser demo (onnxruntime-web) on 127.0.0.1 with an exported model; Ctrl-C stops it',
  builder: (y) =>
    y
      .positional('model', { type: 'string', describe: 'an exported onnxtune .onnx (default: train the short demo model once into runs/web-default-model) or a shipped denoiser\'s name (onnxtune models)' })
      .option('port', { type: 'number', default: 8177, describe: 'port on 127.0.0.1 (0 picks a free one)' })
      .option('rebuild', { type: 'boolean', default: false, describe: 'rebuild the page even when the build is up to date' })
      .option('build-only', { type: 'boolean', default: false, describe: 'build the page if needed (dist/web-demo, or ~/.cache/onnxtune/ where the package is read-only; $ONNXTUNE_WEB_BUILD_DIR) and exit without serving' })
      .example('$0 web runs/mnist-dae-*/export/mnist-denoiser.onnx', 'serve the demo with your model')
      .example('$0 web --port 0', 'serve with the default model on a free port') as Argv<WebArgs>,
  handler: async (args) => {
    if (args['build-only']) {
      const b = args.rebuild ? await buildWebApp() : await ensureWebBuild();
      printResult(`Web page ${b.built ? 'built' : 'up to date'}: ${b.dir} (build ${b.key}, onnxruntime-web ${b.ortWeb})`, b);
      return;
    }
    const modelFile = args.model ? resolveModel(args.model) : await ensureDefaultModel();
    // Describe (and refuse) the model before building or binding anything.
    const model = readWebModel(modelFile);
    if (args.rebuild) await buildWebApp();
    const demo = await startWebDemo({ model: modelFile, port: args.port });
    const lines = [
      `Model ${path.resolve(modelFile)}`,
      table(['model', 'value'], metadataRows(model.info)),
      ...model.info.warnings.map((w) => `warning: ${w}`),
      '',
      `Serving the demo at ${demo.url} (page build ${demo.build.key}, onnxruntime-web ${demo.build.ortWeb}). Ctrl-C stops it.`,
    ];
    printResult(lines.join('\n'), { url: demo.url, port: demo.port, model: path.resolve(modelFile), info: model.info, build: demo.build });
    await untilSignal();
    await demo.close();
  },
};
