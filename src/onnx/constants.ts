/**
 * The constant resolver: which tensors of a graph are constants and what they hold, wherever
 * the exporter put them — initializers (also when listed as graph inputs, IR < 4), Constant and
 * ConstantOfShape nodes, Identity/Cast/Reshape/Unsqueeze/Transpose… chains over them, and
 * DequantizeLinear of int8/uint8/int32 initializers (QDQ models). Stage detection, tap cutting,
 * `inspect` and the ONNX → tfjs converter all ask it, so they agree on what a weight is.
 * Evaluation is lazy and memoized; walks are iterative, end on cycles, and are size-capped.
 */
import { InputError } from '../errors';
import { CONST_OPS, evaluateConstNode, MAX_CONSTANT_ELEMENTS } from './const-rules';
import { constFromTensorProto, type ConstTensor } from './const-tensor';
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

/** Ops whose output has the dims of their first input (dims are read without evaluating them). */
const SAME_DIMS = new Set(['Identity', 'Cast', 'CastLike', 'DequantizeLinear', 'QuantizeLinear']);

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
   * Dims of a constant, read without materializing it where possible (initializers, ConstantOfShape,
   * and Identity/Cast/DequantizeLinear chains over them), so detection never copies large weights.
   */
  dims(name: string | null | undefined): number[] | undefined {
    if (!name || !this.isConstant(name)) return undefined;
    let t = name;
    for (let hops = 0; hops <= this.producer.size; hops++) {
      const memo = this.values.get(t);
      if (memo) return [...memo.dims];
      const init = this.initializers.get(t);
      if (init) return tensorDims(init);
      const node = this.producer.get(t) as NodeProto;
      const op = node.opType ?? '';
      if (SAME_DIMS.has(op) && node.input?.[0]) {
        t = node.input[0];
        continue;
      }
      if (op === 'ConstantOfShape') {
        const shape = this.ints(node.input?.[0]);
        return shape && shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? shape : undefined;
      }
      return this.value(t)?.dims;
    }
    return undefined;
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
      if (o && outs[k] && this.producer.get(o) === node) this.values.set(o, this.account(outs[k], `'${o}'`));
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
