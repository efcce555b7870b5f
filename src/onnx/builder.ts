/**
 * GraphBuilder: appends inputs, outputs, initializers and nodes to one ONNX graph with
 * correctly typed attributes and collision-free names, then wraps it in a ModelProto.
 * It refuses to produce a tensor twice, so builder bugs surface at build time, not in ORT.
 */
import { ONNXTUNE_VERSION } from '../version-number';
import { forEachGraph, makeValueInfo } from './graph-utils';
import { AttributeType, onnx, type GraphProto, type TensorProto } from './proto';
import { floatTensor, int64Tensor } from './tensor';

const FLOAT_TAG = Symbol('onnxtune.float');

/** A number (or list) that must be written as FLOAT/FLOATS even when integral. */
export interface FloatAttr {
  readonly [FLOAT_TAG]: true;
  readonly value: number | readonly number[];
}

/** Forces a FLOAT attribute, e.g. `{ alpha: floatAttr(1) }` (a bare `1` would be written as INT). */
export function floatAttr(value: number): FloatAttr {
  return { [FLOAT_TAG]: true, value };
}

/** Forces a FLOATS attribute, e.g. `{ scales: floatsAttr([1, 2]) }`. */
export function floatsAttr(values: readonly number[]): FloatAttr {
  return { [FLOAT_TAG]: true, value: [...values] };
}

/**
 * Attribute values: integral number → INT, other number → FLOAT, number[] → INTS (FLOATS if any
 * is fractional), string → STRING, string[] → STRINGS, floatAttr/floatsAttr → FLOAT/FLOATS,
 * a TensorProto → TENSOR.
 */
export type AttrValue = number | readonly number[] | string | readonly string[] | FloatAttr | TensorProto;

function isFloatAttr(v: unknown): v is FloatAttr {
  return typeof v === 'object' && v !== null && FLOAT_TAG in v;
}

/** Builds one AttributeProto with the type implied by `value` (see {@link AttrValue}). */
export function makeAttribute(name: string, value: AttrValue): onnx.AttributeProto {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  if (isFloatAttr(value)) {
    return typeof value.value === 'number'
      ? onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.value })
      : onnx.AttributeProto.create({ name, type: AttributeType.FLOATS, floats: [...value.value] });
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`attribute '${name}': ${value} is not finite`);
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value })
      : onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
  }
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: utf8(value) });
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      if (value.length > 0) {
        return onnx.AttributeProto.create({ name, type: AttributeType.STRINGS, strings: (value as string[]).map(utf8) });
      }
    }
    const nums = value as number[];
    if (nums.some((v) => typeof v !== 'number')) throw new TypeError(`attribute '${name}': mixed list`);
    return nums.every((v) => Number.isInteger(v))
      ? onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...nums] })
      : onnx.AttributeProto.create({ name, type: AttributeType.FLOATS, floats: [...nums] });
  }
  return onnx.AttributeProto.create({ name, type: AttributeType.TENSOR, t: value as TensorProto });
}

/** Options for {@link GraphBuilder.toModel}. */
export interface ToModelOptions {
  /** Default-domain opset (default 17). */
  opset?: number;
  producerName?: string;
  /** Defaults to onnxtune's package version. */
  producerVersion?: string;
  /** Written as metadata_props. */
  metadata?: Record<string, string>;
  /** IR version (default 8); raised automatically to what the opset needs (opset 19–20 → 9, 21+ → 10). */
  irVersion?: number;
  /** Extra operator sets, e.g. `{ 'com.microsoft': 1 }`. */
  extraOpsets?: Record<string, number>;
  docString?: string;
}

/** The lowest IR version that may declare `opset` of the default domain. */
export function minIrVersionForOpset(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 13) return 7;
  return 3;
}

/** Accumulates one ONNX graph. Nodes must be added in topological order. */
export class GraphBuilder {
  readonly inputs: onnx.ValueInfoProto[] = [];
  readonly outputs: onnx.ValueInfoProto[] = [];
  readonly initializers: onnx.TensorProto[] = [];
  readonly nodes: onnx.NodeProto[] = [];
  readonly valueInfo: onnx.ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly produced = new Set<string>();

  constructor(readonly name = 'onnxtune') {}

  /** A builder that continues `graph` (its nodes, initializers, inputs, outputs and value-info are copied by reference). */
  static fromGraph(graph: GraphProto): GraphBuilder {
    const b = new GraphBuilder(graph.name ?? 'onnxtune');
    forEachGraph(graph, (g) => {
      for (const n of g.node ?? []) {
        if (n.name) b.used.add(n.name);
        for (const o of n.output ?? []) if (o) b.used.add(o);
      }
      for (const t of g.initializer ?? []) if (t.name) b.used.add(t.name);
      for (const vi of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) if (vi.name) b.used.add(vi.name);
    });
    for (const vi of graph.input ?? []) {
      b.inputs.push(onnx.ValueInfoProto.create(vi));
      if (vi.name) b.produced.add(vi.name);
    }
    for (const t of graph.initializer ?? []) {
      b.initializers.push(t as onnx.TensorProto);
      if (t.name) b.produced.add(t.name);
    }
    for (const n of graph.node ?? []) {
      b.nodes.push(onnx.NodeProto.create(n));
      for (const o of n.output ?? []) if (o) b.produced.add(o);
    }
    for (const vi of graph.output ?? []) b.outputs.push(onnx.ValueInfoProto.create(vi));
    for (const vi of graph.valueInfo ?? []) b.valueInfo.push(onnx.ValueInfoProto.create(vi));
    return b;
  }

  /** Whether `name` is already used by any tensor or node. */
  has(name: string): boolean {
    return this.used.has(name);
  }

  /** Whether `name` is a tensor available to later nodes (input, initializer or node output). */
  isProduced(name: string): boolean {
    return this.produced.has(name);
  }

  /** Marks `name` as taken so {@link uniqueName} never returns it. */
  reserve(name: string): void {
    this.used.add(name);
  }

  /** `prefix` if free, else `prefix_1`, `prefix_2`, …; the result is reserved. */
  uniqueName(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.used.has(name); i++) name = `${prefix}_${i}`;
    this.used.add(name);
    return name;
  }

  private produce(name: string, what: string): void {
    if (!name) throw new Error(`${what}: empty tensor name`);
    if (this.produced.has(name)) throw new Error(`${what}: tensor '${name}' is already produced in this graph`);
    this.produced.add(name);
    this.used.add(name);
  }

  /** Adds a FLOAT graph input; string dims are symbolic (e.g. 'batch'). */
  addInput(name: string, dims: ReadonlyArray<number | string>, elemType: number = onnx.TensorProto.DataType.FLOAT): string {
    this.produce(name, `input '${name}'`);
    this.inputs.push(makeValueInfo(name, dims, elemType));
    return name;
  }

  /** Declares a graph output (it must be produced by the time the model is checked); dims undefined = unknown shape. */
  addOutput(name: string, dims?: ReadonlyArray<number | string>, elemType: number = onnx.TensorProto.DataType.FLOAT): string {
    if (this.outputs.some((o) => o.name === name)) throw new Error(`output '${name}' declared twice`);
    this.used.add(name);
    this.outputs.push(makeValueInfo(name, dims, elemType));
    return name;
  }

  /** Records a shape for an intermediate tensor. */
  addValueInfo(name: string, dims?: ReadonlyArray<number | string>, elemType: number = onnx.TensorProto.DataType.FLOAT): void {
    this.valueInfo.push(makeValueInfo(name, dims, elemType));
  }

  /** Adds a FLOAT initializer; returns its name. */
  addInitializer(name: string, dims: readonly number[], data: Float32Array): string {
    this.produce(name, `initializer '${name}'`);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** Adds an INT64 initializer; returns its name. */
  addInt64Initializer(name: string, dims: readonly number[], values: ArrayLike<number | bigint>): string {
    this.produce(name, `initializer '${name}'`);
    this.initializers.push(int64Tensor(name, dims, values));
    return name;
  }

  /** Adds an already-built TensorProto as an initializer. */
  addTensor(t: TensorProto): string {
    const name = t.name ?? '';
    this.produce(name, `initializer '${name}'`);
    this.initializers.push(t as onnx.TensorProto);
    return name;
  }

  /**
   * Appends a node. Inputs must already exist ('' marks an omitted optional input).
   * @param name node name; defaults to a unique name derived from the first output.
   * @throws Error when an input is unknown or an output is already produced.
   */
  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Record<string, AttrValue | undefined> = {},
    name?: string,
    domain?: string,
  ): onnx.NodeProto {
    for (const i of inputs) {
      if (i && !this.produced.has(i)) throw new Error(`${opType} node: input '${i}' is not produced yet`);
    }
    for (const o of outputs) if (o) this.produce(o, `${opType} node`);
    const nodeName = this.uniqueName(name ?? `${outputs[0] || opType}/${opType}`);
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => makeAttribute(k, v));
    const node = onnx.NodeProto.create({ opType, input: [...inputs], output: [...outputs], name: nodeName, attribute });
    if (domain) node.domain = domain;
    this.nodes.push(node);
    return node;
  }

  /** The graph as a GraphProto (arrays are copied; nodes and tensors are shared). */
  toGraph(): onnx.GraphProto {
    return onnx.GraphProto.create({
      name: this.name,
      node: [...this.nodes],
      initializer: [...this.initializers],
      input: [...this.inputs],
      output: [...this.outputs],
      valueInfo: [...this.valueInfo],
    });
  }

  /** Wraps the graph in a ModelProto with the given opset, producer and metadata. */
  toModel(opts: ToModelOptions = {}): onnx.ModelProto {
    const opset = opts.opset ?? 17;
    const irVersion = Math.max(opts.irVersion ?? 8, minIrVersionForOpset(opset));
    const opsetImport: onnx.IOperatorSetIdProto[] = [{ domain: '', version: opset }];
    for (const [domain, version] of Object.entries(opts.extraOpsets ?? {})) opsetImport.push({ domain, version });
    return onnx.ModelProto.create({
      irVersion,
      opsetImport,
      producerName: opts.producerName ?? 'onnxtune',
      producerVersion: opts.producerVersion ?? ONNXTUNE_VERSION,
      docString: opts.docString ?? '',
      graph: this.toGraph(),
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }
}
