/** `onnxtune pretrain`: (re)make the project's own pretrained MNIST encoder ONNX file. */
import type { Argv, CommandModule } from 'yargs';
import { MNIST_ENCODER_DIR, pretrainMnistEncoder } from '../../../pipeline/pretrain-mnist-encoder';
import { printResult } from '../output';
import type { GlobalArgs } from '../main';

interface PretrainArgs extends GlobalArgs {
  out: string;
  epochs: number;
  seed: number;
}

export const pretrainCommand: CommandModule<GlobalArgs, PretrainArgs> = {
  command: 'pretrain',
  describe: 'Train the small MNIST conv autoencoder with TensorFlow.js and write its encoder as ONNX (pretrained/mnist-conv-ae/)',
  builder: (y) =>
    y
      .option('out', { type: 'string', default: MNIST_ENCODER_DIR, describe: 'folder for encoder.onnx and pretrain.json' })
      .option('epochs', { type: 'number', default: 3, describe: 'training epochs over the 8,000 training digits' })
      .option('seed', { type: 'number', default: 42, describe: 'seed of the split (keep 42 to match configs/mnist-dae.yaml), noise and init' })
      .example('$0 pretrain', 'retrain the shipped encoder (about 35 s with native TF.js)')
      .example('$0 pretrain --out my-encoder --epochs 5', 'train longer into ./my-encoder/') as Argv<PretrainArgs>,
  handler: async (args) => {
    const r = await pretrainMnistEncoder({ outDir: args.out, epochs: args.epochs, seed: args.seed });
    printResult(`Wrote ${r.file} (val MSE ${r.valMse.toFixed(4)}, ${r.seconds.toFixed(0)} s)`, r);
  },
};
