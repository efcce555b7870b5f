/** `onnxtune demo`: the default job (configs/mnist-dae.yaml) on the embedded MNIST digits. */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PROJECT_ROOT } from '../../version';
import type { GlobalArgs } from '../main';
import { handleRun, runOptions, type RunArgs } from './run';

export const DEMO_JOB = path.join(PROJECT_ROOT, 'configs', 'mnist-dae.yaml');

export const demoCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'demo',
  describe: 'Run the default job: denoise MNIST digits with the project\'s pretrained ONNX encoder and a trained tfjs decoder',
  builder: (y) =>
    runOptions(y)
      .example('$0 demo', 'the full demo (a few minutes on 2 CPU cores)')
      .example('$0 demo --set train.epochs=1', 'a shorter demo') as Argv<RunArgs>,
  handler: (args) => handleRun(args, args.resume ? undefined : DEMO_JOB),
};
