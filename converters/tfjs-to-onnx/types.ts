/**
 * The contract between the dispatcher and the per-layer mappers: what a mapper sees of one
 * layer call (config, inputs with their tfjs shapes, weights, naming helpers, the graph
 * builder) and what it returns (the ONNX tensor names of the call's outputs).
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { GraphBuilder } from '../../src/onnx/builder';

export type Layer = TfModule.layers.Layer;
export type LayersModel = TfModule.LayersModel;
export type SymbolicTensor = TfModule.SymbolicTensor;
/** A tfjs shape: batch first, `null` for unknown dims. */
export type Shape = Array<number | null>;

/** One tensor flowing into a call: its ONNX name and its tfjs (NHWC) shape. */
export interface TensorRef {
  name: string;
  shape: Shape;
}

/** Weights of a layer, keyed by the last part of their tfjs name ('kernel', 'bias', 'gamma', …). */
export interface Weight {
  data: Float32Array;
  shape: number[];
}

/** A BatchNormalization that may be folded into the convolution currently being emitted. */
export interface BatchNormFold {
  /** Per-channel multiplier gamma / sqrt(var + eps). */
  scale: Float64Array;
  /** Per-channel offset beta − mean · scale. */
  shift: Float64Array;
  /** The ONNX name the folded convolution must write (the BN's output). */
  outputName: string;
  /** The BatchNormalization layer's name (for naming the folded weights). */
  key: string;
}

/** What a mapper gets for one call of one layer. */
export interface EmitContext {
  readonly b: GraphBuilder;
  readonly opset: number;
  readonly layer: Layer;
  readonly className: string;
  /** `layer.getConfig()`. */
  readonly config: Record<string, unknown>;
  readonly inputs: readonly TensorRef[];
  /** tfjs shapes of the call's outputs. */
  readonly outputShapes: readonly Shape[];
  /** `${prefix}${layer.name}` (plus `_call<k>` when the layer is called more than once). */
  readonly scope: string;
  /** The tensor prefix of the whole conversion (for nested models). */
  readonly prefix: string;
  /** The ONNX name the call's output `i` should have (reserved on first use). */
  outputName(i?: number): string;
  /** A fresh intermediate tensor name under this call's scope. */
  tmp(suffix: string): string;
  /** The layer weight whose tfjs name ends with `/${key}`. @throws when missing. */
  weight(key: string): Weight;
  hasWeight(key: string): boolean;
  /** Adds (once per layer and key) a float initializer named `${prefix}${layer.name}/${key}`. */
  initializer(key: string, dims: readonly number[], data: Float32Array): string;
  /** A shared float constant (scalars for Clip, Mul, …), added once per conversion. */
  constant(key: string, dims: readonly number[], data: Float32Array | number[]): string;
  /** A shared int64 constant (Pad pads, Slice starts, Resize …), added once per conversion. */
  int64Constant(key: string, dims: readonly number[], data: number[]): string;
  /** When this call's only consumer is a foldable BatchNormalization, takes it over (call once, only if the mapper folds). */
  takeBatchNormFold(): BatchNormFold | undefined;
  /** Emits a nested model (a LayersModel used as a layer) and returns its output names. */
  emitNested(model: LayersModel, inputNames: string[]): string[];
}

/** Maps one layer call to ONNX nodes; returns the ONNX names of the call's outputs (inputs may be returned as aliases). */
export type LayerMapper = (ctx: EmitContext) => string[];
