/**
 * `onnxtune quantize <model.onnx> --calibrate <images|folder…> [--sigma 25 | --pairs] --out <model.int8.onnx>`:
 * static int8 quantization in QDQ form, calibrated by running the float model on the given
 * images in onnxruntime-node. Prints what ran on int8, what stayed float and why, the
 * calibration method, sizes, the fp32 → int8 difference on the calibration images, and how
 * many Convs onnxruntime fuses into QLinearConv.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  ACTIVATION_TYPES, CALIBRATION_METHODS, KEEP_FLOAT_POLICIES, compareOutputs, loadCalibrationFeeds, optimizedOpCounts, quantizeStatic,
  type ActivationType, type CalibrationMethod, type KeepFloatPolicy,
} from '../../../converters/quantize-static';
import { InputError } from '../../errors';
import { encodeModel, loadModel, saveModel } from '../../onnx/model-io';
import { toNumber } from '../../onnx/proto';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';
import { resolveModel } from '../../../pretrained/shipped';

interface QuantizeArgs extends GlobalArgs {
  model: string;
  calibrate: string[];
  out: string;
  sigma?: number;
  pairs?: boolean;
  'noisy-suffix': string;
  'clean-suffix': string;
  method: CalibrationMethod;
  percentile: number;
  activations: ActivationType;
  'keep-float': KeepFloatPolicy;
  exclude?: string[];
  'int8-add': boolean;
  'pad-outputs': number;
  'pad-inputs': number;
  'mixed-concat': 'scale' | 'split' | 'off';
  'int8-layout': boolean;
  'fold-upsample'?: boolean;
  'input-residual': boolean;
  limit: number;
  seed: number;
  channels?: number;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export const quantizeCommand: CommandModule<GlobalArgs, QuantizeArgs> = {
  command: 'quantize <model>',
  describe: 'Static int8 quantization (QDQ): int8 weights per channel, 8-bit activations calibrated on images, int8 compute in onnxruntime',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'a float32 .onnx model (opset ≥ 13) taking [N,C,H,W] images in [0,1] or a shipped denoiser\'s name (onnxtune models)' })
      .option('calibrate', { type: 'string', array: true, demandOption: true, describe: 'calibration images and/or folders (first --limit images, by name)' })
      .option('out', { type: 'string', demandOption: true, describe: 'the quantized .onnx to write' })
      .option('sigma', { type: 'number', describe: 'add seeded Gaussian noise N(0, σ/255) to the calibration images (the σ the model denoises)' })
      .option('pairs', { type: 'boolean', describe: 'the folders hold real noisy/clean pairs: calibrate on the noisy images' })
      .option('noisy-suffix', { type: 'string', default: '_real', describe: 'with --pairs: suffix of the noisy images' })
      .option('clean-suffix', { type: 'string', default: '_mean', describe: 'with --pairs: suffix of the clean images' })
      .option('method', { choices: CALIBRATION_METHODS, default: 'percentile' as CalibrationMethod, describe: 'how activation ranges are chosen: percentile (of |x|, see --percentile), minmax (every value inside), entropy (KL, TensorRT style; clips denoiser features too hard)' })
      .option('percentile', { type: 'number', default: 99.999, describe: 'with --method percentile: % of |x| kept inside the range' })
      .option('activations', { choices: ACTIVATION_TYPES, default: 'uint8' as ActivationType, describe: 'activation type (weights are int8)' })
      .option('keep-float', {
        choices: KEEP_FLOAT_POLICIES,
        default: 'none' as KeepFloatPolicy,
        describe: 'none: every conv on int8 (a last conv with few output channels is padded, see --pad-outputs); output-convs: a last conv with ≤ 4 output channels stays float; image-convs: convs with ≤ 4 input or output channels (they touch the image) stay float, a little better PSNR, but onnxruntime-web may then differ from node by an 8-bit step here and there',
      })
      .option('exclude', { type: 'string', array: true, describe: 'Conv node names that stay float' })
      .option('int8-add', {
        type: 'boolean',
        default: true,
        describe: 'run an Add on int8 when both inputs are quantized (ResNet residuals), its inputs and output on one scale so the integer add is exact (node and web agree); --no-int8-add: float Adds',
      })
      .option('pad-outputs', {
        type: 'number',
        default: 16,
        describe: 'with --keep-float none: a last conv with fewer output channels than this gets zero channels up to it and a Slice after (onnxruntime\'s int8 conv computes 16 output channels at a time: 32 → 1 at 256² 6.5 ms, as 32 → 16 2.0 ms); 0: off',
      })
      .option('pad-inputs', {
        type: 'number',
        default: 4,
        describe: 'with --keep-float none: a conv reading fewer channels than this (the image) gets zero input channels up to it by a float Pad (onnxruntime\'s int8 conv takes input channels four at a time: 3 → 16 at 256² 3.5 ms, as 4 → 16 1.8 ms); 0: off',
      })
      .option('mixed-concat', {
        choices: ['scale', 'split', 'off'] as const,
        default: 'scale' as const,
        describe: 'a Conv over a Concat of inputs with very different ranges (features next to the raw image): scale the narrow ones by powers of two (weights ÷ the same; no extra ops), split the Conv per input (float Adds), or leave it (one 8-bit scale for all)',
      })
      .option('int8-layout', {
        type: 'boolean',
        default: true,
        describe: 'nearest Resize and Concat between quantized Convs run on 8-bit data (--no-int8-layout: float)',
      })
      .option('input-residual', {
        type: 'boolean',
        default: true,
        describe: "a 1-channel input zero-padded for the int8 kernels (the gray image) gets its 8-bit rounding error ×16 in a padding channel and the convs reading it the image weights ÷ 16: ~4 more bits for the image at no int8 cost (gray-s25 BSD68 σ25 int8 drop 0.050 → 0.029 dB, DnCNN 0.053 → 0.041); --no-input-residual turns it off",
      })
      .option('fold-upsample', {
        type: 'boolean',
        describe: 'a 3×3 conv over a concat with a nearest ×2 upsampling (a U-Net level) becomes a half-resolution phase conv + DepthToSpace (as NHWC Reshape/Transpose steps) + int8 Add: exact in float, no upsampled tensor, faster (gray-s25 256²/512²: 2.8× → 3.3× at 1 thread), file 24 % larger, but its one shared 8-bit scale can cost accuracy. Default: both ways, the fold kept when its int8 error on the calibration images (without the input residual) is ≤ 1.05× the unfolded one; --fold-upsample / --no-fold-upsample force it',
      })
      .option('limit', { type: 'number', default: 16, describe: 'calibration images used at most' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the calibration noise' })
      .option('channels', { type: 'number', choices: [1, 3], describe: 'image channels when the model input does not fix them' })
      .check((a) => {
        if (a.pairs && a.sigma !== undefined) throw new InputError('quantize', '--sigma and --pairs do not go together: pairs bring their own noise');
        if (!(Number.isInteger(a['pad-outputs']) && a['pad-outputs'] >= 0)) throw new InputError('--pad-outputs', `expected a channel count ≥ 0 (0: off), got ${a['pad-outputs']}`);
        if (!(Number.isInteger(a['pad-inputs']) && a['pad-inputs'] >= 0)) throw new InputError('--pad-inputs', `expected a channel count ≥ 0 (0: off), got ${a['pad-inputs']}`);
        if (!(a.percentile > 0 && a.percentile <= 100)) throw new InputError('--percentile', `expected a % in (0, 100], got ${a.percentile}`);
        return true;
      })
      .example('$0 quantize ../shared/models/dncnn_25.onnx --calibrate ../shared/data/train400 --sigma 25 --out dncnn.int8.onnx', 'DnCNN on 16 noisy Train400 images')
      .example('$0 quantize export/denoiser.onnx --calibrate data/polyu --pairs --method minmax --out denoiser.int8.onnx', 'real-noise pairs, min/max ranges')
      .example('$0 quantize model.onnx --calibrate a.png b.png --sigma 15 --keep-float image-convs --out m.int8.onnx', 'first/last conv in float') as Argv<QuantizeArgs>,
  handler: async (args) => {
    const modelFile = resolveModel(args.model);
    const model = loadModel(modelFile);
    const input = model.graph?.input?.find((i) => !(model.graph?.initializer ?? []).some((t) => t.name === i.name));
    if (!input?.name) throw new InputError(modelFile, 'has no image input');
    const cdim = input.type?.tensorType?.shape?.dim?.[1]?.dimValue;
    const channels = (args.channels ?? (cdim != null ? toNumber(cdim) : 1)) as 1 | 3;
    if (channels !== 1 && channels !== 3) throw new InputError(modelFile, `input '${input.name}' has ${channels} channels; images have 1 or 3`);
    const { feeds, source } = await loadCalibrationFeeds({
      paths: args.calibrate,
      inputName: input.name,
      channels,
      sigma: args.sigma,
      pairs: args.pairs ? { noisySuffix: args['noisy-suffix'], cleanSuffix: args['clean-suffix'] } : undefined,
      limit: args.limit,
      seed: args.seed,
    });
    const t0 = performance.now();
    const { model: q, report } = await quantizeStatic(model, feeds, {
      method: args.method,
      percentile: args.percentile,
      activations: args.activations,
      keepFloat: args['keep-float'],
      excludeNodes: args.exclude,
      quantizeAdd: args['int8-add'],
      padOutputs: args['pad-outputs'],
      padInputs: args['pad-inputs'],
      splitConcat: args['mixed-concat'] !== 'off',
      splitConcatMode: args['mixed-concat'] === 'split' ? 'split' : 'scale',
      quantizeLayout: args['int8-layout'],
      foldUpsample: args['fold-upsample'] ?? 'auto',
      inputResidual: args['input-residual'],
      calibration: source,
    });
    const seconds = (performance.now() - t0) / 1000;
    saveModel(q, args.out);
    const diff = report.calibrationDiff ?? (await compareOutputs(model, q, feeds));
    const ops = await optimizedOpCounts(q);
    const convs = (q.graph?.node ?? []).filter((n) => n.opType === 'Conv').length;
    const bytes = { fp32: fs.statSync(modelFile).size, int8: encodeModel(q).length };
    const lines = [
      `${path.basename(modelFile)} (${kib(bytes.fp32)}) → ${args.out} (${kib(bytes.int8)}, ${((100 * bytes.int8) / bytes.fp32).toFixed(1)}%) in ${seconds.toFixed(1)} s`,
      `calibration: ${feeds.length} images (${String(source.noise)}), method ${report.method}${report.percentile ? ` ${report.percentile}%` : ''}, ` +
        `activations ${report.activations}, weights ${report.weights}`,
      `int8: ${report.quantized.length} of ${convs} Conv (${report.quantized.filter((c) => c.fusedRelu).length} with their Relu); ` +
        `onnxruntime runs ${ops.QLinearConv ?? 0} as QLinearConv, ${ops.Conv ?? 0} Conv in float` +
        (report.adds.length ? `; ${report.adds.length} Add on int8 (${ops.QLinearAdd ?? 0} QLinearAdd)` : ''),
    ];
    for (const p of report.paddedConvs) lines.push(`last conv ${p.node}: ${p.from} → ${p.to} output channels on int8 (zeros), sliced back to ${p.from}`);
    for (const p of report.paddedInputs) lines.push(`conv ${p.node}: ${p.from} → ${p.to} input channels on int8 (zeros appended by a Pad)`);
    for (const r of report.inputResiduals) lines.push(`input ${r.tensor}: its 8-bit rounding error ×${r.factor} in a padding channel, read by ${r.convs.join(', ')} (weights ÷ ${r.factor}): ~${Math.log2(r.factor)} more bits for the image`);
    if (report.materializedWeights) lines.push(`weights read through Cast/Constant (e.g. float16 storage): ${report.materializedWeights} made float initializers first`);
    if (report.foldDecision) {
      const d = report.foldDecision;
      lines.push(`upsampling fold: int8 mean abs error ${d.foldedMeanAbs.toExponential(2)} folded vs ${d.unfoldedMeanAbs.toExponential(2)} not: ${d.folded ? 'folded' : 'not folded (costs accuracy here; --fold-upsample forces it)'}`);
    }
    for (const f of report.foldedUpsamples) {
      lines.push(`upsampling ${f.resize} folded into ${f.conv}: a ${f.channels.upsampled}-channel phase conv at half resolution + DepthToSpace steps` + (f.channels.rest ? `, plus the other ${f.channels.rest} channels' conv (int8 Add)` : ''));
    }
    for (const s of report.splitConvs) {
      const how = s.mode === 'scale' ? Object.entries(s.factors ?? {}).map(([t, f]) => `${t} ×${f}`).join(', ') : `${s.parts.length} Convs summed`;
      lines.push(`mixed-range Concat before ${s.conv}: ${how} (weights ÷ the same)`);
    }
    if (report.concats.length || report.resizes.length || report.moved.length) {
      const moved = [...(report.resizes.length ? [`${report.resizes.length} nearest Resize`] : []), ...(report.moved.length ? [`${report.moved.length} DepthToSpace step outputs`] : [])];
      lines.push(`8-bit layout ops: ${ops.QLinearConcat ?? 0} QLinearConcat` + (moved.length ? `, ${moved.join(' and ')} on their input's 8-bit grid` : '') +
          (report.concatGrid.length ? `, ${report.concatGrid.length} tensors quantized onto their Concat's grid (copied, not requantized)` : '') +
          (report.layoutHints.length ? `, ${report.layoutHints.length} image input(s) of a Concat given an NHWC layout hint` : ''));
    }
    if (report.keptFloat.length) lines.push('kept float:', table(['node', 'why'], report.keptFloat.map((k) => [k.node, k.reason])));
    lines.push(`fp32 → int8 on the calibration images: max abs ${diff.maxAbs.toExponential(2)}, mean abs ${diff.meanAbs.toExponential(2)}`);
    printResult(lines.join('\n'), { ...report, out: args.out, bytes, seconds, diff, onnxruntimeOps: ops });
  },
};
