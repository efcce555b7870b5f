/**
 * tfjsToOnnx: a whole tfjs LayersModel as a standalone ONNX model with NCHW inputs and
 * outputs (symbolic batch, height and width; fixed channels), checked structurally before
 * it is returned.
 */
import { InputError } from '../../src/errors';
import { GraphBuilder } from '../../src/onnx/builder';
import { assertModelValid } from '../../src/onnx/check';
import type { onnx } from '../../src/onnx/proto';
import { checkOpset, emitLayersModel } from './emit';
import { simplifyGraph } from './optimize';
import type { LayersModel, Shape } from './types';

/** Options of {@link tfjsToOnnx}. */
export interface TfjsToOnnxOptions {
  /** Default-domain opset, 13–21 (default 17). */
  opset?: number;
  /** Prefix of every internal tensor, node and initializer name (graph inputs/outputs keep their names). */
  prefix?: string;
  /** ONNX input names in the order of `model.inputs` (default: the tfjs input layer names). */
  inputNames?: readonly string[];
  /** ONNX output names in the order of `model.outputs` (default: the tfjs output layer names). */
  outputNames?: readonly string[];
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
  /**
   * Exact peepholes (optimize.ts; default true): explicit pads merged into the following
   * Conv/pool, crops into the preceding ConvTranspose, cancelling Transpose pairs and
   * GlobalPool → Flatten → Reshape [N, C, 1, 1] dropped. Only the node count changes.
   */
  optimize?: boolean;
}

/** ONNX dims for a tfjs shape: NCHW for 4-D with symbolic batch/height/width, symbolic batch otherwise. */
export function onnxDims(shape: Shape, name: string): Array<number | string> {
  if (shape.length === 4) {
    const c = shape[3];
    return ['batch', c ?? `${name}_channels`, `${name}_height`, `${name}_width`];
  }
  return ['batch', ...shape.slice(1).map((d, j) => d ?? `${name}_dim${j + 1}`)];
}

function uniqueList(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k ? `${n}_${k}` : n;
  });
}

/**
 * Converts a tfjs LayersModel (NHWC) to an ONNX model (NCHW) with the same outputs.
 * Weights are permuted at conversion time; no Transpose nodes are emitted for 4-D models
 * except around Flatten/Reshape of spatial maps.
 * @throws UnsupportedOpError for unsupported layers, configurations or opsets.
 */
export function tfjsToOnnx(model: LayersModel, opts: TfjsToOnnxOptions = {}): onnx.ModelProto {
  const opset = opts.opset ?? 17;
  checkOpset(opset);
  const label = `tfjs model '${model.name}'`;
  // Layer names, not SymbolicTensor names: tfjs suffixes tensor names (_1, _2…) when a process builds or loads a model twice.
  const inputNames = [...(opts.inputNames ?? model.inputs.map((t, i) => model.inputNames?.[i] ?? t.sourceLayer.name))];
  if (inputNames.length !== model.inputs.length) {
    throw new InputError(label, `has ${model.inputs.length} inputs, got ${inputNames.length} input names`);
  }
  if (new Set(inputNames).size !== inputNames.length) throw new InputError(label, `input names repeat: ${inputNames.join(', ')}`);
  const outputNames = uniqueList(opts.outputNames ?? model.outputs.map((t, i) => model.outputNames?.[i] ?? t.sourceLayer.name));
  if (outputNames.length !== model.outputs.length) {
    throw new InputError(label, `has ${model.outputs.length} outputs, got ${outputNames.length} output names`);
  }
  const b = new GraphBuilder(model.name);
  model.inputs.forEach((t, i) => b.addInput(inputNames[i], onnxDims([...t.shape], inputNames[i])));
  const produced = emitLayersModel(b, model, inputNames, opts.prefix ?? '', { opset, outputNames });
  model.outputs.forEach((t, i) => b.addOutput(produced[i], onnxDims([...t.shape], produced[i])));
  const onnxModel = b.toModel({ opset, metadata: opts.metadata, docString: `converted from tfjs model '${model.name}'` });
  if (opts.optimize !== false) simplifyGraph(onnxModel.graph as onnx.GraphProto);
  assertModelValid(onnxModel, label);
  return onnxModel;
}
