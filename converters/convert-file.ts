/**
 * convertModelFile: the file-level conversion behind `onnxtune convert`. The direction comes
 * from the file types (.onnx, tfjs model.json); the ONNX result can then be moved to another
 * opset, converted to float16 or int8 weights and given an NHWC interface. Afterwards the
 * result is run against the source on the same random inputs, so the report states the
 * accuracy change next to the sizes.
 */
import * as path from 'node:path';
import { initTf, type Tf } from '../src/backends/tf';
import { InputError } from '../src/errors';
import { modelInfo } from '../src/onnx/info';
import { encodeModel, loadModel, saveModel } from '../src/onnx/model-io';
import type { ModelProto } from '../src/onnx/proto';
import { convertToFloat16, type Float16Report } from './fp16';
import { float16Weights, type Float16WeightsReport } from './fp16-weights';
import { loadTfjsModel, modelBytes, modelFormat, saveTfjsModel, type ModelFormat } from './io';
import { defaultOpset } from './model-utils';
import { wrapNhwc } from './nhwc';
import { onnxToTfjs, type OnnxToTfjsReport } from './onnx-to-tfjs';
import { convertOpset, type OpsetReport } from './opset';
import { quantizeWeightsInt8, type QuantizeReport } from './quantize';
import { tfjsToOnnx } from './tfjs-to-onnx';
import { compareRunners, onnxRunner, tfjsRunner, type OutputComparison, type VerifyOptions } from './verify';

/** Options of {@link convertModelFile}. */
export interface ConvertFileOptions {
  /** Default-domain opset of an ONNX result (tfjs → ONNX default 17; ONNX → ONNX default: unchanged). */
  opset?: number;
  /** Store weights and compute in float16. */
  fp16?: boolean;
  /** With fp16: keep float32 inputs/outputs (default true). */
  keepIoTypes?: boolean;
  /** With fp16: op types computed in float32. */
  fp32Ops?: readonly string[];
  /** Store large weights as float16 but compute in float32 (Casts folded by onnxruntime at load). */
  fp16Weights?: boolean;
  /** int8 weight quantization. */
  quantize?: 'int8';
  /** Give the ONNX result NHWC inputs/outputs (tfjs results are always NHWC). */
  nhwc?: boolean;
  /** ONNX → tfjs: NCHW dims per input name, replacing symbolic dims ('' = the only input). */
  inputShapes?: Record<string, number[]>;
  /** Compare the result with the source on random inputs (default true). */
  check?: boolean;
  /** Options of that comparison (sizes for symbolic dims, seed, tolerance). */
  checkOptions?: VerifyOptions;
}

/** What {@link convertModelFile} did. */
export interface ConvertFileReport {
  input: { file: string; format: ModelFormat; bytes: number; nodes?: number };
  output: { file: string; format: ModelFormat; bytes: number; nodes?: number };
  /** The steps applied, in order. */
  steps: string[];
  onnxToTfjs?: OnnxToTfjsReport;
  opset?: OpsetReport;
  fp16?: Float16Report;
  fp16Weights?: Float16WeightsReport;
  int8?: { weights: number; skipped: number; maxWeightError: number; perChannel: number };
  /** Result vs source on the same random inputs (absent with check: false). */
  check?: { outputs: OutputComparison[]; inputs: Array<{ name: string; dims: number[] }> };
}

/**
 * Converts `input` to `output` (see the module comment).
 * @throws InputError for unsupported format pairs or option combinations.
 * @throws UnsupportedOpError (or UnsupportedOnnxOpsError) when the model cannot be converted.
 */
export async function convertModelFile(input: string, output: string, opts: ConvertFileOptions = {}): Promise<ConvertFileReport> {
  const from = modelFormat(input, 'input');
  const to = modelFormat(output, 'output');
  if (from === 'tfjs' && to === 'tfjs') throw new InputError(output, 'tfjs → tfjs is not a conversion; write a .onnx file');
  if (to === 'tfjs' && (opts.fp16 || opts.quantize)) throw new InputError(output, '--fp16 and --quantize apply to .onnx outputs only');
  if (opts.fp16 && opts.quantize) throw new InputError(output, 'choose one of --fp16 and --quantize int8');
  if (opts.fp16Weights && (opts.fp16 || opts.quantize)) throw new InputError(output, 'choose one of --fp16, --fp16-weights and --quantize int8');
  if (to === 'tfjs' && opts.fp16Weights) throw new InputError(output, '--fp16-weights applies to .onnx outputs only');
  const steps: string[] = [];
  const report: Partial<ConvertFileReport> = { steps };
  let tfCache: Tf | undefined;
  const tf = async () => (tfCache ??= (await initTf()).tf);

  if (to === 'tfjs') {
    const source = loadModel(input);
    const t = await tf();
    const inputShapes = resolveInputShapes(source, opts.inputShapes, input);
    const { model, report: r } = onnxToTfjs(t, source, { inputShapes, label: input, name: path.basename(input, '.onnx') });
    steps.push('onnx → tfjs (NHWC)');
    const file = await saveTfjsModel(t, model, output);
    report.onnxToTfjs = r;
    if (opts.check !== false) {
      const a = await onnxRunner(source, input);
      const b = tfjsRunner(t, model);
      try {
        const c = await compareRunners(a, b, { ...opts.checkOptions, shapes: opts.checkOptions?.shapes ?? shapesFor(source, inputShapes) });
        report.check = { outputs: c.outputs, inputs: c.inputs };
      } finally {
        await a.release();
        await b.release();
      }
    } else {
      model.dispose();
    }
    return {
      ...report,
      input: { file: input, format: from, bytes: modelBytes(input), nodes: modelInfo(source).nodeCount },
      output: { file, format: to, bytes: modelBytes(file) },
    } as ConvertFileReport;
  }

  let source: ModelProto;
  let result: ModelProto;
  let tfSource: Awaited<ReturnType<typeof loadTfjsModel>> | undefined;
  if (from === 'tfjs') {
    const t = await tf();
    tfSource = await loadTfjsModel(t, input);
    result = tfjsToOnnx(tfSource, { opset: opts.opset ?? 17 });
    source = result;
    steps.push(`tfjs → onnx (opset ${opts.opset ?? 17})`);
  } else {
    source = loadModel(input);
    result = source;
    if (opts.opset !== undefined && opts.opset !== defaultOpset(source)) {
      const r = convertOpset(source, opts.opset, input);
      result = r.model;
      report.opset = r.report;
      steps.push(`opset ${r.report.from} → ${r.report.to}`);
    }
  }
  if (opts.fp16) {
    const r = convertToFloat16(result, { keepIoTypes: opts.keepIoTypes ?? true, fp32Ops: opts.fp32Ops });
    result = r.model;
    report.fp16 = r.report;
    steps.push(`float16${opts.keepIoTypes === false ? ' (float16 inputs/outputs)' : ''}`);
  }
  if (opts.fp16Weights) {
    const r = float16Weights(result);
    result = r.model;
    report.fp16Weights = r.report;
    steps.push('float16 weights (float32 compute)');
  }
  if (opts.quantize === 'int8') {
    const r = quantizeWeightsInt8(result);
    result = r.model;
    report.int8 = summarizeInt8(r.report);
    steps.push('int8 weights');
  }
  if (opts.nhwc) {
    result = wrapNhwc(result, input);
    steps.push('NHWC inputs/outputs');
  }
  saveModel(result, output);

  const canCheck = opts.check !== false && !(opts.fp16 && opts.keepIoTypes === false) && (from === 'tfjs' || result !== source);
  if (canCheck) {
    const t = from === 'tfjs' ? await tf() : undefined;
    const a = from === 'tfjs' ? tfjsRunner(t as Tf, tfSource!) : await onnxRunner(source, input);
    const b = await onnxRunner(result, output);
    try {
      const c = await compareRunners(a, b, opts.checkOptions);
      report.check = { outputs: c.outputs, inputs: c.inputs };
    } finally {
      await a.release();
      await b.release();
    }
  } else {
    tfSource?.dispose();
  }
  return {
    ...report,
    input: { file: input, format: from, bytes: modelBytes(input), nodes: from === 'onnx' ? modelInfo(source).nodeCount : undefined },
    output: { file: output, format: to, bytes: encodeModel(result).length, nodes: modelInfo(result).nodeCount },
  } as ConvertFileReport;
}

function summarizeInt8(r: QuantizeReport): NonNullable<ConvertFileReport['int8']> {
  return {
    weights: r.weights.length,
    skipped: r.skipped.length,
    maxWeightError: r.weights.reduce((m, w) => Math.max(m, w.maxError), 0),
    perChannel: r.weights.filter((w) => w.axis !== null).length,
  };
}

function graphInputNames(model: ModelProto): string[] {
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  return (model.graph?.input ?? []).filter((vi) => !inits.has(vi.name)).map((vi) => vi.name as string);
}

/** Input shapes by name, with '' standing for the only input. @throws InputError for unknown names. */
function resolveInputShapes(model: ModelProto, shapes: Record<string, number[]> | undefined, label: string): Record<string, number[]> | undefined {
  if (!shapes) return undefined;
  const names = graphInputNames(model);
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(shapes)) {
    if (k === '' && names.length !== 1) throw new InputError(label, `has ${names.length} inputs (${names.join(', ')}); name the one --input-shape sets`);
    const name = k === '' ? names[0] : k;
    if (!names.includes(name)) throw new InputError(label, `has no input '${name}' (inputs: ${names.join(', ')})`);
    out[name] = v;
  }
  return out;
}

/** NCHW check shapes from user-given input shapes, in graph-input order. */
function shapesFor(model: ModelProto, inputShapes?: Record<string, number[]>): number[][] | undefined {
  if (!inputShapes) return undefined;
  const names = graphInputNames(model);
  if (!names.every((n) => inputShapes[n])) return undefined;
  return names.map((n) => inputShapes[n]);
}
