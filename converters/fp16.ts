/**
 * float32 → float16 conversion of an ONNX model: float weights and Constant values become
 * FLOAT16, every float32 tensor the graph computes becomes float16, and (by default) the graph
 * inputs and outputs stay float32 with one Cast at each boundary. Inputs that ONNX requires
 * in float32 (Resize roi/scales, Upsample scales) keep a float32 copy, and ops named in
 * `fp32Ops` compute in float32 with Casts around them. onnxruntime's CPU provider runs the
 * result: where it has no float16 kernel (Conv on x86, for one) its own graph transformer
 * adds Casts and computes in float32, so on CPU the file size halves and results match
 * float16-rounded weights; GPU providers compute in float16.
 */
import { InputError, UnsupportedOpError } from '../src/errors';
import { onnx, DataType, isDefaultDomain, type ModelProto, type NodeProto, type TensorProto } from '../src/onnx/proto';
import { tensorToFloat32 } from '../src/onnx/tensor';
import { float32ToFloat16 } from '../src/tensor/fp16';
import { nodeSubgraphs } from '../src/onnx/graph-utils';
import { inferElementTypes } from './graph-types';

/** Input slots that ONNX types as float32 whatever the data type (op → input indices). */
export const FP32_INPUT_SLOTS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  Resize: [1, 2],
  Upsample: [1],
});

/** Ops that always stay float32 (their scale/zero-point types are fixed by the int8 scheme). */
export const ALWAYS_FP32_OPS: readonly string[] = Object.freeze(['DequantizeLinear', 'QuantizeLinear', 'DynamicQuantizeLinear']);

const FP16_MAX = 65504;

/** Options of {@link convertToFloat16}. */
export interface Float16Options {
  /** Keep float32 graph inputs/outputs with Casts at the boundary (default true). */
  keepIoTypes?: boolean;
  /** Op types to compute in float32, with Casts around them (default none). */
  fp32Ops?: readonly string[];
}

/** What {@link convertToFloat16} did. */
export interface Float16Report {
  /** Float initializers (and Constant values) stored as float16. */
  initializers: number;
  /** Float initializers kept (also) in float32 for float32-only inputs. */
  keptFloat32: number;
  /** Cast nodes added. */
  casts: number;
  /** Nodes computing in float32. */
  fp32Nodes: number;
  /** Weight values outside the float16 range, clamped to ±65504. */
  clamped: number;
}

/** `t` as a FLOAT16 tensor named `name`; values beyond ±65504 are clamped and counted in `counter.clamped`. */
export function fp16Tensor(name: string, t: TensorProto, counter: { clamped: number }): onnx.TensorProto {
  const data = tensorToFloat32(t);
  for (let i = 0; i < data.length; i++) {
    if (Math.abs(data[i]) > FP16_MAX && Number.isFinite(data[i])) {
      data[i] = Math.sign(data[i]) * FP16_MAX;
      counter.clamped += 1;
    }
  }
  const half = float32ToFloat16(data);
  return onnx.TensorProto.create({ name, dims: t.dims ?? [], dataType: DataType.FLOAT16, rawData: new Uint8Array(half.buffer, half.byteOffset, half.byteLength) });
}

function castNode(input: string, output: string, to: number, name: string): onnx.NodeProto {
  return onnx.NodeProto.create({ opType: 'Cast', name, input: [input], output: [output], attribute: [{ name: 'to', type: 2, i: to }] });
}

/**
 * Converts a float32 model to float16 weights and compute (see the module comment).
 * The input model is not modified.
 * @throws UnsupportedOpError for graphs with subgraphs (If/Loop/Scan).
 * @throws InputError when the model has no graph.
 */
export function convertToFloat16(model: ModelProto, opts: Float16Options = {}): { model: onnx.ModelProto; report: Float16Report } {
  const graph = model.graph;
  if (!graph) throw new InputError('model', 'has no graph');
  const keepIo = opts.keepIoTypes ?? true;
  const fp32Ops = new Set([...(opts.fp32Ops ?? []), ...ALWAYS_FP32_OPS]);
  const report: Float16Report = { initializers: 0, keptFloat32: 0, casts: 0, fp32Nodes: 0, clamped: 0 };
  for (const n of graph.node ?? []) {
    if (nodeSubgraphs(n).length) throw new UnsupportedOpError(`${n.opType} with subgraphs`, n.name ?? '', ['graphs without If/Loop/Scan'], 'fp16 conversion does not descend into subgraphs.');
  }

  const types = inferElementTypes(graph);
  const isFloat = (name: string) => types.get(name) === DataType.FLOAT;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name as string, t]));
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name as string).filter((n) => !inits.has(n)));

  // Constant nodes with float values become initializers, so weights are handled in one way.
  const constNodes = new Set<NodeProto>();
  for (const n of graph.node ?? []) {
    const t = n.opType === 'Constant' && isDefaultDomain(n.domain) ? (n.attribute ?? []).find((a) => a.name === 'value')?.t : undefined;
    if (t && t.dataType === DataType.FLOAT && n.output?.[0]) {
      inits.set(n.output[0], onnx.TensorProto.create({ ...t, name: n.output[0] }));
      constNodes.add(n);
    }
  }
  const nodes = (graph.node ?? []).filter((n) => !constNodes.has(n));
  const region16 = (n: NodeProto) => !(fp32Ops.has(n.opType ?? '') && isDefaultDomain(n.domain));

  // Which float precisions each float32 tensor is read in.
  const wantedAs = new Map<string, Set<number>>();
  const want = (name: string, t: number) => wantedAs.set(name, new Set([...(wantedAs.get(name) ?? []), t]));
  for (const n of nodes) {
    const slots = FP32_INPUT_SLOTS[n.opType ?? ''] ?? [];
    (n.input ?? []).forEach((name, k) => {
      if (name && isFloat(name)) want(name, region16(n) && !slots.includes(k) ? DataType.FLOAT16 : DataType.FLOAT);
    });
  }
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name as string));

  // The precision each float tensor is available in after conversion.
  const produced = new Map<string, number>();
  for (const name of graphInputs) if (isFloat(name)) produced.set(name, keepIo ? DataType.FLOAT : DataType.FLOAT16);
  for (const n of nodes) {
    for (const o of n.output ?? []) if (o && isFloat(o)) produced.set(o, region16(n) ? DataType.FLOAT16 : DataType.FLOAT);
  }

  // Initializers: float16 where read in float16, float32 where read in float32 (both → two copies).
  const newInits: onnx.TensorProto[] = [];
  const initName = new Map<string, string>();
  const original = new Set(graph.initializer ?? []);
  for (const [name, t] of inits) {
    const uses = wantedAs.get(name);
    if (t.dataType !== DataType.FLOAT || (!uses && !graphOutputs.has(name))) {
      if (original.has(t)) newInits.push(t as onnx.TensorProto);
      continue;
    }
    const as16 = uses?.has(DataType.FLOAT16) ?? false;
    const as32 = (uses?.has(DataType.FLOAT) ?? false) || graphOutputs.has(name);
    if (as16 && as32) {
      newInits.push(t as onnx.TensorProto, fp16Tensor(`${name}_fp16`, t, report));
      initName.set(`${name}|${DataType.FLOAT16}`, `${name}_fp16`);
      report.keptFloat32 += 1;
    } else if (as16) {
      newInits.push(fp16Tensor(name, t, report));
    } else {
      newInits.push(t as onnx.TensorProto);
      report.keptFloat32 += 1;
    }
    if (as16) report.initializers += 1;
    produced.set(name, as16 && !as32 ? DataType.FLOAT16 : DataType.FLOAT);
  }

  // Rewrite nodes, adding Casts where a tensor is read in the other precision.
  const castCache = new Map<string, string>();
  const used = new Set<string>([...types.keys(), ...inits.keys()]);
  const fresh = (base: string) => {
    let n = base;
    for (let i = 1; used.has(n); i++) n = `${base}_${i}`;
    used.add(n);
    return n;
  };
  // Graph outputs computed in float16 get a float32 Cast under their own name.
  const outRename = new Map<string, string>();
  if (keepIo) for (const o of graphOutputs) if (produced.get(o) === DataType.FLOAT16) outRename.set(o, fresh(`${o}_fp16`));
  const rename = (name: string) => outRename.get(name) ?? name;
  const nodeNames = new Set(nodes.map((n) => n.name ?? ''));
  const castName = (output: string) => {
    let n = `${output}/CastTo${produced.get(output) === DataType.FLOAT16 ? '32' : '16'}`;
    for (let i = 1; nodeNames.has(n); i++) n = `${output}/Cast_${i}`;
    nodeNames.add(n);
    return n;
  };

  const out: onnx.NodeProto[] = [];
  const read = (name: string, as: number): string => {
    const direct = initName.get(`${name}|${as}`);
    if (direct) return direct;
    const have = produced.get(name);
    if (have === undefined || have === as) return rename(name);
    const key = `${name}|${as}`;
    let c = castCache.get(key);
    if (!c) {
      c = fresh(`${name}_${as === DataType.FLOAT16 ? 'fp16' : 'fp32'}`);
      out.push(castNode(rename(name), c, as, castName(c)));
      castCache.set(key, c);
      report.casts += 1;
    }
    return c;
  };
  for (const n of nodes) {
    const copy = onnx.NodeProto.create({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])], attribute: [...(n.attribute ?? [])] });
    const in16 = region16(n);
    if (!in16) report.fp32Nodes += 1;
    const slots = FP32_INPUT_SLOTS[n.opType ?? ''] ?? [];
    copy.input = (n.input ?? []).map((name, k) => (name && isFloat(name) ? read(name, in16 && !slots.includes(k) ? DataType.FLOAT16 : DataType.FLOAT) : name));
    copy.output = (n.output ?? []).map((o) => (o ? rename(o) : o));
    if (in16 && isDefaultDomain(n.domain)) {
      copy.attribute = (copy.attribute ?? []).map((a) => {
        if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT) return { ...a, i: DataType.FLOAT16 };
        if (n.opType === 'ConstantOfShape' && a.name === 'value' && a.t?.dataType === DataType.FLOAT) return { ...a, t: fp16Tensor('', a.t, report) };
        return a;
      });
    }
    out.push(copy);
  }
  for (const [o, internal] of outRename) {
    out.push(castNode(internal, o, DataType.FLOAT, castName(o)));
    report.casts += 1;
  }

  const retype = (vi: onnx.IValueInfoProto, t: number) =>
    onnx.ValueInfoProto.create({ ...vi, type: { tensorType: { ...(vi.type?.tensorType ?? {}), elemType: t } } });
  const newGraph = onnx.GraphProto.create({
    ...graph,
    node: out,
    initializer: newInits,
    input: (graph.input ?? []).map((vi) => (!keepIo && graphInputs.has(vi.name as string) && isFloat(vi.name as string) ? retype(vi, DataType.FLOAT16) : onnx.ValueInfoProto.create(vi))),
    output: (graph.output ?? []).map((vi) => (!keepIo && produced.get(vi.name as string) === DataType.FLOAT16 ? retype(vi, DataType.FLOAT16) : onnx.ValueInfoProto.create(vi))),
    // Shapes of intermediate tensors are re-inferred by the runtime; their types changed.
    valueInfo: [],
  });
  return { model: onnx.ModelProto.create({ ...model, graph: newGraph }), report };
}
