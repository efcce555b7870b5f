/**
 * `onnxtune verify <a> <b>`: runs two models (.onnx in onnxruntime, tfjs model.json in
 * TensorFlow.js) on the same seeded random or given inputs and reports max abs/rel error per
 * output; exits 1 (ParityError) when any element is outside atol + rtol·|a|.
 */
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors';
import { readNpy } from '../../io/npy';
import { assertParity, verifyModels, type VerifyReport } from '../../../converters/verify';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { parseShapeArg } from './convert';
import { loadImageAs } from '../../data/folder';
import { noisyImage } from '../../eval/evaluate';
import { nhwcToNchw } from '../../tensor/layout';

/** An image as one NCHW input, with the eval protocol's seeded noise when `sigma` is given. */
async function imageInput(file: string, channels: 1 | 3, sigma: number | undefined, seed: number): Promise<{ data: Float32Array; dims: number[] }> {
  const img = await loadImageAs(file, channels);
  const hwc = sigma ? noisyImage(img, sigma, seed) : img.data;
  return { data: channels === 1 ? hwc : nhwcToNchw(hwc, 1, img.height, img.width, 3), dims: [1, channels, img.height, img.width] };
}

interface VerifyArgs extends GlobalArgs {
  a: string;
  b: string;
  input?: string[];
  shape?: string[];
  batch?: number;
  size?: number;
  range?: string;
  seed: number;
  atol: number;
  rtol: number;
  image?: string;
  sigma?: number;
  channels?: number;
}

function formatReport(r: VerifyReport): string {
  const head = [
    `a: ${r.a.file} (${r.a.format}, ${r.a.layout})`,
    `b: ${r.b.file} (${r.b.format}, ${r.b.layout})`,
    `inputs (NCHW): ${r.inputs.map((i) => `${i.name} [${i.dims.join(', ')}] ${i.source}`).join('; ')}`,
    `tolerance: |a − b| ≤ ${r.atol} + ${r.rtol}·|a|`,
    '',
  ];
  const rows = r.outputs.map((o) => [o.name, `[${o.dims.join(', ')}]`, o.maxAbs.toExponential(3), o.maxRel.toExponential(3), o.meanAbs.toExponential(3), o.passed ? 'ok' : `FAIL (${o.failures})`]);
  return [...head, table(['output', 'dims', 'max abs', 'max rel', 'mean abs', 'status'], rows), '', r.passed ? 'parity: ok' : 'parity: FAILED'].join('\n');
}

export const verifyModelsCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify <a> <b>',
  describe: 'Run two models (.onnx or tfjs model.json) on the same inputs and report max abs/rel error per output',
  builder: (y) =>
    y
      .positional('a', { type: 'string', demandOption: true, describe: 'reference model (.onnx or tfjs model.json)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'model to check' })
      .option('input', { type: 'string', array: true, describe: 'input data as .npy (NCHW for 4-D): file.npy or name=file.npy, one per input in order' })
      .option('shape', { type: 'string', array: true, describe: 'NCHW dims of random inputs, e.g. 1x3x64x64 (one per input in order)' })
      .option('batch', { type: 'number', describe: 'batch size for a symbolic batch dim (default 1)' })
      .option('size', { type: 'number', describe: 'size for symbolic H/W dims (default 32)' })
      .option('range', { type: 'string', describe: 'range of random inputs, lo,hi (default 0,1)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the random inputs' })
      .option('atol', { type: 'number', default: 1e-4, describe: 'absolute tolerance' })
      .option('rtol', { type: 'number', default: 1e-4, describe: 'relative tolerance (times |a|)' })
      .example('$0 verify model.onnx out/model.json', 'ONNX vs its tfjs conversion')
      .option('image', { type: 'string', describe: 'an image file as the (only) input, [1, C, H, W] in [0,1]' })
      .option('sigma', { type: 'number', describe: 'with --image: add seeded Gaussian noise N(0, σ/255), as eval does' })
      .option('channels', { type: 'number', choices: [1, 3], default: 1, describe: 'with --image: load it as gray (1) or RGB (3)' })
      .check((a) => {
        if (a.image && (a.input || a.shape)) throw new InputError('--image', 'give --image or --input/--shape, not both');
        if (a.sigma !== undefined && !a.image) throw new InputError('--sigma', 'needs --image');
        return true;
      })
      .example('$0 verify model.onnx model.fp16.onnx --atol 1e-2', 'float16 vs float32')
      .example('$0 verify dncnn_25.onnx dncnn.int8.onnx --image ../shared/data/set12/01.png --sigma 25 --atol 0.05', 'int8 vs float32 on a noisy image') as Argv<VerifyArgs>,
  handler: async (args) => {
    let inputs = args.input?.map((spec) => {
      const eq = spec.indexOf('=');
      const file = eq > 0 && !spec.slice(0, eq).endsWith('.npy') ? spec.slice(eq + 1) : spec;
      const arr = readNpy(file);
      return { data: arr.data, dims: arr.dims };
    });
    if (args.image) inputs = [await imageInput(args.image, args.channels as 1 | 3, args.sigma, args.seed)];
    const shapes = args.shape?.map((s) => parseShapeArg(s, '--shape')[1]);
    let range: [number, number] | undefined;
    if (args.range) {
      const r = args.range.split(',').map(Number);
      if (r.length !== 2 || r.some((v) => !Number.isFinite(v))) throw new InputError('--range', `'${args.range}' is not lo,hi`);
      range = [r[0], r[1]];
    }
    const report = await verifyModels(args.a, args.b, { inputs, shapes, batch: args.batch, size: args.size, range, seed: args.seed, atol: args.atol, rtol: args.rtol });
    printResult(formatReport(report), report);
    assertParity(report);
  },
};
