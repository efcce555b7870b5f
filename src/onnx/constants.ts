/**
 * The constant resolver: which tensors of a graph are constants and what they hold, wherever
 * the exporter put them — initializers (also when listed as graph inputs, IR < 4), Constant and
 * ConstantOfShape nodes, Identity/Cast/Reshape/Unsqueeze/Transpose… chains over them, and
 * DequantizeLinear of int8/uint8/int32 initializers (QDQ models). Stage detection, tap cutting,
 * `inspect` and the ONNX → tfjs converter all ask it, so they agree on what a weight is.
 * Evaluation is lazy and memoized; walks are iterative, end on cycles, and are size-capped.
 */
import { InputError } from '../errors';
import { attrInt, attrInts, CONST_OPS, evaluateConstNode, MAX_CONSTANT_ELEMENTS, resolveReshape } from './const-rules';
import { broadcastDims, constFromTensorProto, type ConstTensor } from './const-tensor';
import { isDefaultDomain, toNumber, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto';
import { nodeSubgraphs } from './graph-utils';
import { tensorDims } from './tensor';

/** Options of {@link ConstantResolver}. */
export interface ConstantResolverOptions {
  /** Default-domain opset (default: 17, or the model's with {@link constantResolver}). */
  opset?: number;
  /** Name for error messages (the file). */
  label?: string;
  /** Cap on one computed constant's elements (default MAX_CONSTANT_ELEMENTS). */
  maxElements?: number;
  /** Cap on all elements one resolver computes (default 4 × maxElements). */
  maxTotalElements?: number;
}

type Status = 'const' | 'data';

const RULE_OPS = new Set(CONST_OPS);

/** Lazily evaluates the constant tensors of one graph. */
export class ConstantResolver {
  readonly opset: number;
  private readonly label: string;
  private readonly maxElements: number;
  private readonly maxTotal: number;
  private computed = 0;
  private readonly initializers = new Map<string, TensorProto>();
  private readonly producer = new Map<string, NodeProto>();
  private readonly graphInputs = new Set<string>();
  private readonly status = new Map<string, Status>();
  private readonly values = new Map<string, ConstTensor>();

  constructor(graph: GraphProto, opts: ConstantResolverOptions = {}) {
    this.opset = opts.opset ?? 17;
    this.label = opts.label ?? 'model';
    this.maxElements = opts.maxElements ?? MAX_CONSTANT_ELEMENTS;
    this.maxTotal = opts.maxTotalElements ?? 4 * this.maxElements;
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    // An initializer also listed as a graph input (IR < 4) is a weight, never a data input.
    for (const vi of graph.input ?? []) if (vi.name && !this.initializers.has(vi.name)) this.graphInputs.add(vi.name);
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o && !this.producer.has(o)) this.producer.set(o, n);
    }
  }

  /** True for an initializer or a tensor computed from constants only by ops with an evaluation rule. */
  isConstant(name: string | null | undefined): boolean {
    return Boolean(name) && this.classify(name as string) === 'const';
  }

  /** True when `name` is an initializer (including one also listed as a graph input). */
  isInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  /**
   * The value of a constant tensor.
   * @returns undefined when `name` is not a constant (computed from a graph input, unknown, or by an op with no rule).
   * @throws InputError when the constant subgraph is malformed, has a cycle, or a result exceeds the size caps.
   */
  value(name: string | null | undefined): ConstTensor | undefined {
    if (!name || !this.isConstant(name)) return undefined;
    const memo = this.values.get(name);
    if (memo) return memo;
    // Post-order over the producers still to evaluate, without recursion (chains may be long).
    const stack: Array<[string, boolean]> = [[name, false]];
    while (stack.length) {
      const [t, expanded] = stack.pop() as [string, boolean];
      if (this.values.has(t)) continue;
      const init = this.initializers.get(t);
      if (init) {
        this.values.set(t, this.fromInitializer(init));
        continue;
      }
      const node = this.producer.get(t) as NodeProto;
      if (expanded) {
        this.evaluate(node);
        continue;
      }
      stack.push([t, true]);
      for (const i of node.input ?? []) if (i && !this.values.has(i)) stack.push([i, false]);
    }
    return this.values.get(name);
  }

  /**
   * Dims of a constant, computed without materializing it where the ops allow (initializers,
   * Constant, ConstantOfShape, Identity/Cast/(De)QuantizeLinear, Transpose, Reshape, (Un)Squeeze,
   * Flatten and broadcasting arithmetic over them), so detection never copies large weights.
   */
  dims(name: string | null | undefined): number[] | undefined {
    if (!name || !this.isConstant(name)) return undefined;
    return this.shapeOf(name, 0);
  }

  /** Values of an integer constant as numbers; undefined when not an integer constant. */
  ints(name: string | null | undefined): number[] | undefined {
    const v = this.value(name);
    return v && v.dtype === 'int' ? Array.from(v.data) : undefined;
  }

  /** Values of a constant as float32 (weights). */
  floats(name: string | null | undefined): Float32Array | undefined {
    const v = this.value(name);
    return v ? Float32Array.from(v.data) : undefined;
  }

  private shapeOf(t: string, depth: number): number[] | undefined {
    const memo = this.values.get(t);
    if (memo) return [...memo.dims];
    const init = this.initializers.get(t);
    if (init) {
      try {
        return tensorDims(init);
      } catch (err) {
        throw new InputError(this.label, `initializer '${t}': ${(err as Error).message}`, { cause: err });
      }
    }
    const node = this.producer.get(t) as NodeProto;
    // Deep chains (and anything unusual) are evaluated, iteratively.
    if (depth > 64) return this.value(t)?.dims;
    const ins = node.input ?? [];
    const inDims = (i: number) => (ins[i] ? this.shapeOf(ins[i], depth + 1) : undefined);
    const axesOf = () => (this.opset >= 13 ? (ins[1] ? this.ints(ins[1]) : undefined) : attrInts(node, 'axes'));
    try {
      switch (node.opType) {
        case 'Identity': case 'Cast': case 'CastLike': case 'DequantizeLinear': case 'QuantizeLinear':
          return inDims(0);
        case 'Constant': {
          const v = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
          return v ? tensorDims(v) : this.value(t)?.dims;
        }
        case 'ConstantOfShape': {
          const shape = this.ints(ins[0]);
          return shape && shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? shape : undefined;
        }
        case 'Transpose': {
          const d = inDims(0);
          const perm = attrInts(node, 'perm') ?? d?.map((_, i) => d.length - 1 - i);
          return d && perm && perm.length === d.length ? perm.map((p) => d[p]) : undefined;
        }
        case 'Reshape': {
          const d = inDims(0);
          const target = this.opset < 5 ? attrInts(node, 'shape') : this.ints(ins[1]);
          return d && target ? resolveReshape(d, target, attrInt(node, 'allowzero', 0) === 1) : undefined;
        }
        case 'Unsqueeze': {
          const d = inDims(0);
          const axes = axesOf();
          if (!d || !axes) return undefined;
          const rank = d.length + axes.length;
          const norm = axes.map((a) => (a < 0 ? a + rank : a));
          let k = 0;
          return Array.from({ length: rank }, (_, i) => (norm.includes(i) ? 1 : d[k++]));
        }
        case 'Squeeze': {
          const d = inDims(0);
          const axes = axesOf()?.map((a) => (a < 0 ? a + (d?.length ?? 0) : a));
          return d?.filter((v, i) => (axes ? !axes.includes(i) : v !== 1));
        }
        case 'Flatten': {
          const d = inDims(0);
          if (!d) return undefined;
          const a0 = attrInt(node, 'axis', 1) as number;
          const a = a0 < 0 ? a0 + d.length : a0;
          const prod = (x: number[]) => x.reduce((p, v) => p * v, 1);
          return [prod(d.slice(0, a)), prod(d.slice(a))];
        }
        case 'Add': case 'Sub': case 'Mul': case 'Div': {
          const a = inDims(0);
          const b = inDims(1);
          return a && b ? broadcastDims(a, b) : undefined;
        }
        default:
          return this.value(t)?.dims;
      }
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(this.label, `node '${node.name || t}' (${node.opType}): ${(err as Error).message}`, { cause: err });
    }
  }

  /** Constant or data (or unknown → data), iteratively with a cycle guard; memoized. */
  private classify(name: string): Status {
    const known = this.status.get(name);
    if (known) return known;
    const onPath = new Set<string>();
    const stack: Array<[string, boolean]> = [[name, false]];
    while (stack.length) {
      const [t, expanded] = stack.pop() as [string, boolean];
      if (this.status.has(t)) continue;
      if (this.initializers.has(t)) {
        this.status.set(t, 'const');
        continue;
      }
      const node = this.producer.get(t);
      if (!node || this.graphInputs.has(t) || !this.evaluable(node)) {
        this.status.set(t, 'data');
        continue;
      }
      const ins = (node.input ?? []).filter((i) => i);
      if (expanded) {
        onPath.delete(t);
        this.status.set(t, ins.every((i) => this.status.get(i) === 'const') ? 'const' : 'data');
        continue;
      }
      if (onPath.has(t)) {
        // A node that (indirectly) reads its own output: an invalid graph, never a constant.
        this.status.set(t, 'data');
        continue;
      }
      onPath.add(t);
      stack.push([t, true]);
      for (const i of ins) {
        if (onPath.has(i)) this.status.set(i, 'data');
        else if (!this.status.has(i)) stack.push([i, false]);
      }
    }
    return this.status.get(name) as Status;
  }

  private evaluable(node: NodeProto): boolean {
    return isDefaultDomain(node.domain) && RULE_OPS.has(node.opType ?? '') && nodeSubgraphs(node).length === 0;
  }

  private fromInitializer(t: TensorProto): ConstTensor {
    return this.account(constFromTensorProto(t, this.label), `initializer '${t.name ?? ''}'`);
  }

  private evaluate(node: NodeProto): void {
    const inputs = (node.input ?? []).map((i) => (i ? this.values.get(i) : undefined));
    const outs = evaluateConstNode(node, inputs, this.opset, { maxElements: this.maxElements, label: this.label }) ?? [];
    (node.output ?? []).forEach((o, k) => {
      if (!o || !outs[k] || this.producer.get(o) !== node) return;
      // Reshape-like rules share their input's buffer: only new buffers count against the cap.
      const shared = inputs.some((c) => c?.data === outs[k].data);
      this.values.set(o, shared ? outs[k] : this.account(outs[k], `'${o}'`));
    });
    const first = node.output?.[0];
    if (first && !this.values.has(first)) {
      throw new InputError(this.label, `node '${node.name || first}' (${node.opType}) produced no value for '${first}'`);
    }
  }

  private account(c: ConstTensor, what: string): ConstTensor {
    this.computed += c.data.length;
    if (this.computed > this.maxTotal) {
      throw new InputError(this.label, `constants up to ${what} hold ${this.computed} elements, more than the ${this.maxTotal} one model may compute; refusing to go on`);
    }
    return c;
  }
}


/** The default-domain opset of a model (17 when it declares none). */
export function modelOpset(model: ModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => isDefaultDomain(x.domain));
  try {
    return o ? toNumber(o.version) : 17;
  } catch {
    return 17;
  }
}

/** A resolver for `model`'s main graph with the model's opset. */
export function constantResolver(model: ModelProto, opts: Omit<ConstantResolverOptions, 'opset'> = {}): ConstantResolver {
  return new ConstantResolver(model.graph ?? {}, { ...opts, opset: modelOpset(model) });
}

/** What {@link summarizeWeights} returns. */
export interface WeightSummary {
  /** Constant tensors that nodes on the data path read (weights, biases, shape arguments). */
  tensors: number;
  /** Their elements, from dims (nothing is evaluated beyond what dims need). */
  elements: number;
  /** By where they come from: 'initializer', or the op producing them ('Constant', 'ConstantOfShape', 'DequantizeLinear', …). */
  bySource: Record<string, { tensors: number; elements: number }>;
}

/**
 * Counts the weights of a model wherever the exporter put them: every constant tensor read by a
 * node that is not itself folded away, grouped by the op that produces it.
 * @throws InputError as {@link ConstantResolver.dims} does, for a malformed constant subgraph.
 */
export function summarizeWeights(model: ModelProto, consts: ConstantResolver = constantResolver(model)): WeightSummary {
  const producer = new Map<string, NodeProto>();
  for (const n of model.graph?.node ?? []) for (const o of n.output ?? []) if (o && !producer.has(o)) producer.set(o, n);
  const seen = new Set<string>();
  const summary: WeightSummary = { tensors: 0, elements: 0, bySource: {} };
  for (const n of model.graph?.node ?? []) {
    if ((n.output ?? []).some((o) => consts.isConstant(o))) continue;
    for (const i of n.input ?? []) {
      if (!i || seen.has(i) || !consts.isConstant(i)) continue;
      seen.add(i);
      const dims = consts.dims(i);
      const elements = dims ? dims.reduce((a, b) => a * b, 1) : 0;
      const kind = consts.isInitializer(i) ? 'initializer' : producer.get(i)?.opType ?? 'initializer';
      const entry = (summary.bySource[kind] ??= { tensors: 0, elements: 0 });
      entry.tensors += 1;
      entry.elements += elements;
      summary.tensors += 1;
      summary.elements += elements;
    }
  }
  return summary;
}
