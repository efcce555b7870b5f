/**
 * The contract between the ONNX → tfjs dispatcher and the per-op mappers: declarative
 * OpMapper entries (op type, opset range, inputs, attributes with defaults, notes) with an
 * optional constant-folding rule and an optional layer builder. Types only.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import type { NodeProto, TensorProto } from '../../src/onnx/proto';
import type { ConstTensor } from './constants';

export type SymbolicTensor = TfModule.SymbolicTensor;
export type Layer = TfModule.layers.Layer;

/**
 * A graph value during conversion: an activation (a tfjs SymbolicTensor; rank-4 ONNX NCHW
 * tensors are held as NHWC tensors) or a constant folded at conversion time. `onnxOrder`
 * marks a rank-4 activation whose tfjs axes are the ONNX axes as they are: the result of a
 * Transpose (0, 2, 3, 1) of an NCHW activation (ConvNeXt's NHWC MLP block), already NHWC in tfjs.
 */
export type Value = { kind: 'tensor'; sym: SymbolicTensor; onnxOrder?: boolean } | { kind: 'const'; value: ConstTensor };

/** Attribute kinds an OpMapper declares. */
export type AttrType = 'int' | 'ints' | 'float' | 'floats' | 'string' | 'tensor';
/** A parsed attribute value. */
export type AttrValue = number | number[] | string | TensorProto;

/** One attribute of an op: its ONNX name, kind and default (undefined = absent). */
export interface AttrSpec {
  readonly onnxName: string;
  readonly type: AttrType;
  readonly default?: number | readonly number[] | string;
}

/**
 * One input slot. `tensor`: an activation or a constant; `const`: must be a constant
 * (weights, pads, scales…; folded from Constant/Identity/shape chains); `variadic` takes
 * every remaining input.
 */
export interface InputSpec {
  readonly name: string;
  readonly kind: 'tensor' | 'const';
  readonly optional?: boolean;
  readonly variadic?: boolean;
}

/** Op families, for the supported-ops table. */
export type OpCategory = 'conv' | 'activation' | 'normalization' | 'pooling' | 'elementwise' | 'shape' | 'constant';

/** What a folding rule sees: the node, its parsed attributes and its constant inputs. */
export interface FoldContext {
  readonly node: NodeProto;
  readonly opset: number;
  readonly attrs: Readonly<Record<string, AttrValue | undefined>>;
  /** Constant inputs by position (undefined for omitted optional inputs). */
  readonly inputs: ReadonlyArray<ConstTensor | undefined>;
}

/** What a layer builder sees for one node. */
export interface BuildContext {
  readonly tf: Tf;
  readonly node: NodeProto;
  readonly opset: number;
  readonly attrs: Readonly<Record<string, AttrValue | undefined>>;
  /** Input `i` (undefined when omitted). */
  input(i: number): Value | undefined;
  /** Input `i` as an activation. @throws UnsupportedOpError when it is a constant. */
  tensor(i: number): SymbolicTensor;
  /** Input `i` as a constant (undefined when omitted). @throws UnsupportedOpError when it is an activation. */
  constant(i: number): ConstTensor | undefined;
  /** The constant value of any tensor name, or undefined when it is not a constant. */
  constantOf(name: string): ConstTensor | undefined;
  /**
   * The sole consumer of `from`'s first output when it is one of `ops`, that tensor is not a
   * graph output, and the consumer's other inputs are constants; otherwise undefined.
   */
  consumer(ops: readonly string[], from?: NodeProto): NodeProto | undefined;
  /** Takes over `node` (a consumer found with {@link consumer}): its first output becomes this node's first result. */
  absorb(node: NodeProto): void;
  /**
   * A unique, valid tfjs layer name for this node. Without `suffix`, the name of the layer
   * producing the node's (final) output: a graph output keeps its ONNX name.
   */
  layerName(suffix?: string): string;
  /** Calls `layer` on `inputs`; optional `weights` (tfjs layout) are set right after it is built. */
  apply(layer: Layer, inputs: SymbolicTensor | SymbolicTensor[], weights?: ReadonlyArray<{ data: Float32Array; shape: number[] }>): SymbolicTensor;
  /** Throws UnsupportedOpError for this node: `what` is the unsupported configuration. */
  unsupported(what: string, supported: readonly string[], hint?: string): never;
}

/** One row of a mapping table (style.md item 8). */
export interface OpMapper {
  readonly onnxOp: string;
  /** Opset range of the default domain this entry handles, inclusive. */
  readonly opsets: readonly [number, number];
  readonly category: OpCategory;
  readonly inputs: readonly InputSpec[];
  readonly attrs: readonly AttrSpec[];
  /** Evaluates the node in JS when all its inputs are constants. */
  readonly fold?: (ctx: FoldContext) => ConstTensor[];
  /** Maps the node to tfjs layers; returns one value per node output it produces. */
  readonly build?: (ctx: BuildContext) => Value[];
  /** How the op maps, one line, for the supported-ops table. */
  readonly notes: string;
  /**
   * Whether the mapper accepts activations held in ONNX axis order (Value.onnxOrder):
   * 'elementwise' — the result has its inputs' order (the dispatcher marks it); 'handled' —
   * the builder reads the flag and sets it on its results. Absent: such inputs are refused.
   */
  readonly onnxOrder?: 'elementwise' | 'handled';
}
