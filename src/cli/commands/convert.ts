/**
 * `onnxtune convert <in> <out>`: ONNX ↔ tfjs with the direction taken from the file types,
 * plus opset conversion, float16 and int8 weights and an NHWC interface for ONNX outputs.
 * Prints sizes, what was done and the result-vs-source error on random inputs.
 * `onnxtune convert --list-ops` prints what the converters support (generated tables).
 */
import * as fs from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors';
import { writeFileAtomic } from '../../io/atomic';
import { convertModelFile, type ConvertFileReport } from '../../../converters/convert-file';
import { SUPPORTED_ONNX_OPS, SUPPORTED_TFJS_LAYERS, supportedOpsMarkdown } from '../../../converters/supported-ops';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';

interface ConvertArgs extends GlobalArgs {
  input?: string;
  output?: string;
  opset?: number;
  fp16?: boolean;
  'fp16-weights'?: boolean;
  'keep-io-types'?: boolean;
  'fp32-ops'?: string[];
  quantize?: 'int8';
  nhwc?: boolean;
  'input-shape'?: string[];
  check?: boolean;
  'check-size'?: number;
  'list-ops'?: boolean;
  'update-readme'?: string;
}

const README_BLOCK = /(<!-- supported-ops:begin -->\n)[\s\S]*?(\n<!-- supported-ops:end -->)/;

/** `name=1,3,224,224` (or `1x3x224x224`) → [name, dims]. */
export function parseShapeArg(arg: string, what: string): [string | undefined, number[]] {
  const eq = arg.lastIndexOf('=');
  const name = eq > 0 ? arg.slice(0, eq) : undefined;
  const dims = arg.slice(eq + 1).split(/[x,]/).map(Number);
  if (!dims.length || dims.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new InputError(what, `'${arg}' is not a shape like input=1,3,224,224 or 1x3x224x224`);
  }
  return [name, dims];
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function formatReport(r: ConvertFileReport): string {
  const lines = [
    `${r.input.file} (${r.input.format}, ${kib(r.input.bytes)}${r.input.nodes !== undefined ? `, ${r.input.nodes} nodes` : ''})`,
    `→ ${r.output.file} (${r.output.format}, ${kib(r.output.bytes)}${r.output.nodes !== undefined ? `, ${r.output.nodes} nodes` : ''}; ` +
      `${((100 * r.output.bytes) / Math.max(r.input.bytes, 1)).toFixed(1)}% of the input size)`,
    `steps: ${r.steps.join(', ')}`,
  ];
  if (r.onnxToTfjs) {
    const t = r.onnxToTfjs;
    const custom = Object.entries(t.customLayers).map(([k, v]) => `${k}×${v}`).join(', ');
    lines.push(`tfjs: ${t.layers} layers from ${t.nodes} nodes (${t.folded} folded, ${t.fused} fused)${custom ? `; custom layers ${custom} (registerOnnxLayers before loading)` : ''}`);
    lines.push(`tfjs inputs: ${t.inputs.map((i) => `${i.name} [${i.tfjsShape.map((d) => d ?? '?').join(', ')}] (NHWC)`).join('; ')}`);
  }
  if (r.opset) lines.push(`opset ${r.opset.from} → ${r.opset.to}: ${Object.entries(r.opset.rewritten).map(([k, v]) => `${k} ×${v}`).join(', ') || 'no node changed'}`);
  if (r.fp16Weights) lines.push(`float16 weights: ${r.fp16Weights.converted} stored as float16 (max rounding ${r.fp16Weights.maxRoundingError.toExponential(1)}), ${r.fp16Weights.keptFloat32} small ones kept float32; compute stays float32`);
  if (r.fp16) lines.push(`float16: ${r.fp16.initializers} weights, ${r.fp16.casts} casts, ${r.fp16.fp32Nodes} nodes in float32${r.fp16.clamped ? `, ${r.fp16.clamped} values clamped to ±65504` : ''}`);
  if (r.int8) lines.push(`int8: ${r.int8.weights} weights (${r.int8.perChannel} per channel), ${r.int8.skipped} left float, max weight error ${r.int8.maxWeightError.toExponential(2)}`);
  if (r.check) {
    lines.push('', `result vs source on random inputs ${r.check.inputs.map((i) => `${i.name} [${i.dims.join(', ')}]`).join(', ')}:`);
    lines.push(table(['output', 'dims', 'max abs', 'max rel', 'mean abs'], r.check.outputs.map((o) => [o.name, `[${o.dims.join(', ')}]`, o.maxAbs.toExponential(2), o.maxRel.toExponential(2), o.meanAbs.toExponential(2)])));
  }
  return lines.join('\n');
}

export const convertCommand: CommandModule<GlobalArgs, ConvertArgs> = {
  command: 'convert [input] [output]',
  describe: 'Convert ONNX ↔ TensorFlow.js (direction from the file types), change opset, float16 or int8 weights',
  builder: (y) =>
    y
      .positional('input', { type: 'string', describe: 'a .onnx file or a tfjs model.json (or its folder)' })
      .positional('output', { type: 'string', describe: 'a .onnx file, or a tfjs model.json / folder' })
      .option('opset', { type: 'number', describe: 'default-domain opset of an ONNX output (10–21; tfjs → ONNX 13–21, default 17)' })
      .option('fp16', { type: 'boolean', describe: 'float16 weights and compute (ONNX output)' })
      .option('fp16-weights', { type: 'boolean', describe: 'float16 storage of weights, float32 compute: half the file, same speed (ONNX output)' })
      .option('keep-io-types', { type: 'boolean', default: true, describe: 'with --fp16: keep float32 inputs/outputs (--no-keep-io-types for float16)' })
      .option('fp32-ops', { type: 'string', array: true, describe: 'with --fp16: op types to compute in float32' })
      .option('quantize', { choices: ['int8'] as const, describe: 'int8 weights (per output channel for Conv) with DequantizeLinear' })
      .option('nhwc', { type: 'boolean', describe: 'ONNX output takes and returns NHWC (one Transpose at each 4-D input/output); tfjs is always NHWC' })
      .option('input-shape', { type: 'string', array: true, describe: 'ONNX → tfjs: fixed NCHW dims, name=1,3,224,224 (or just dims for the only input)' })
      .option('check', { type: 'boolean', default: true, describe: 'run result and source on random inputs and report the error' })
      .option('check-size', { type: 'number', describe: 'spatial size for symbolic dims in that check (default 32)' })
      .option('list-ops', { type: 'boolean', describe: 'print the supported ops and layers instead (markdown)' })
      .option('update-readme', { type: 'string', describe: 'with --list-ops: replace the block between <!-- supported-ops:begin/end --> in this file' })
      .check((a) => {
        if (!a['list-ops'] && (!a.input || !a.output)) throw new InputError('convert', 'needs <input> and <output> (or --list-ops)');
        return true;
      })
      .example('$0 convert model.onnx out/model.json', 'ONNX → tfjs LayersModel (NHWC)')
      .example('$0 convert out/model.json back.onnx --opset 13', 'tfjs → ONNX')
      .example('$0 convert model.onnx model.fp16.onnx --fp16', 'float16 weights, float32 inputs/outputs')
      .example('$0 convert model.onnx model.small.onnx --fp16-weights', 'half the file, float32 compute')
      .example('$0 convert model.onnx model.int8.onnx --quantize int8', 'int8 weights') as Argv<ConvertArgs>,
  handler: async (args) => {
    if (args['list-ops']) {
      const md = supportedOpsMarkdown();
      const file = args['update-readme'];
      if (file) {
        const text = fs.readFileSync(file, 'utf8');
        if (!README_BLOCK.test(text)) throw new InputError(file, 'no <!-- supported-ops:begin --> … <!-- supported-ops:end --> markers');
        writeFileAtomic(file, text.replace(README_BLOCK, (_m, a: string, b: string) => a + md + b));
        printResult(`Updated ${file}`, { file });
        return;
      }
      printResult(md, { onnxToTfjs: SUPPORTED_ONNX_OPS, tfjsToOnnx: SUPPORTED_TFJS_LAYERS });
      return;
    }
    const shapes = (args['input-shape'] ?? []).map((s) => parseShapeArg(s, '--input-shape'));
    const inputShapes = shapes.length ? Object.fromEntries(shapes.map(([n, d]) => [n ?? '', d])) : undefined;
    const report = await convertModelFile(args.input as string, args.output as string, {
      opset: args.opset,
      fp16: args.fp16,
      fp16Weights: args['fp16-weights'],
      keepIoTypes: args['keep-io-types'],
      fp32Ops: args['fp32-ops'],
      quantize: args.quantize,
      nhwc: args.nhwc,
      inputShapes,
      check: args.check,
      checkOptions: {
        size: args['check-size'],
        shapes: inputShapes && '' in inputShapes ? [inputShapes['']] : undefined,
      },
    });
    printResult(formatReport(report), report);
  },
};
