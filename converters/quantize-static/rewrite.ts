/**
 * Rewrites a float model into QDQ form from a plan and calibrated ranges: a QuantizeLinear →
 * DequantizeLinear pair after each planned activation, int8 per-output-channel weights and
 * int32 biases (scale = input scale × weight scale) behind DequantizeLinear. This is the
 * pattern onnxruntime fuses into QLinearConv (DQ → Conv ← DQ(weight), Q after the Conv or its Relu).
 * Only the planned convs read the dequantized tensors; other readers (residual add, concat of
 * the raw input) keep reading float, except after a planned conv, whose output must feed the Q alone.
 * The inputs and output of a planned Add share one scale (the widest of theirs), so onnxruntime's
 * QLinearAdd adds integers exactly (scale ratios of 1) and every build (native, wasm) gives the same bits.
 */
import { InputError } from '../../src/errors';
import { GraphBuilder } from '../../src/onnx/builder';
import { DataType, isDefaultDomain, onnx, type ModelProto, type TensorProto } from '../../src/onnx/proto';
import { tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';
import { defaultOpset } from '../model-utils';
import { quantizeSymmetric } from '../quantize';
import type { QuantizationPlan } from './plan';
import type { TensorRange } from './ranges';

/** Element type of quantized activations; weights are always int8. */
export const ACTIVATION_TYPES = Object.freeze(['uint8', 'int8'] as const);
export type ActivationType = (typeof ACTIVATION_TYPES)[number];

/** Scale and zero point of one activation. */
export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/**
 * Asymmetric 8-bit parameters covering `range` (which contains 0, so 0 maps to an integer).
 * A non-negative range gets the lowest zero point, which lets onnxruntime drop a Relu before the Q.
 */
export function activationParams(range: TensorRange, type: ActivationType): ActivationParams {
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  const scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1;
  const zeroPoint = Math.max(qmin, Math.min(qmax, Math.round(qmin - lo / scale)));
  return { scale: Math.fround(scale), zeroPoint };
}

/** {@link activationParams} with a given scale (at least the range's own), so that `range` still fits. */
export function activationParamsForScale(range: TensorRange, scale: number, type: ActivationType): ActivationParams {
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  const s = Math.fround(scale);
  const zeroPoint = Math.max(qmin, Math.min(qmax, Math.round(qmin - Math.min(0, range.min) / s)));
  return { scale: s, zeroPoint };
}

/**
 * Tensors joined by planned Adds (inputs and output; residual chains join a whole stage), each group
 * mapped to one member list. A ResNet stage's block outputs and second-conv outputs form one group.
 */
export function addScaleGroups(plan: QuantizationPlan): string[][] {
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(t, r);
    return r;
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  for (const a of plan.adds) {
    for (const t of [...a.inputs, a.output]) if (!parent.has(t)) parent.set(t, t);
    union(a.inputs[0], a.output);
    union(a.inputs[1], a.output);
  }
  // A Resize output tied to its input (same scale and zero point) joins its input's group, whichever side an Add reads.
  for (const [t, src] of Object.entries(plan.tied ?? {})) {
    if (!parent.has(t) && !parent.has(src)) continue;
    for (const x of [t, src]) if (!parent.has(x)) parent.set(x, x);
    union(t, src);
  }
  const groups = new Map<string, string[]>();
  for (const t of parent.keys()) groups.set(find(t), [...(groups.get(find(t)) ?? []), t]);
  return [...groups.values()];
}

const bytesOf = (a: Float32Array | Int32Array | Int8Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * The QDQ model (see the module comment). The input model is not modified.
 * @throws InputError when the opset has no per-channel DequantizeLinear (< 13) or a range is missing.
 */
export function insertQdq(model: ModelProto, plan: QuantizationPlan, ranges: ReadonlyMap<string, TensorRange>, type: ActivationType = 'uint8'): {
  model: onnx.ModelProto;
  params: Map<string, ActivationParams>;
} {
  const graph = model.graph as onnx.GraphProto;
  const opset = defaultOpset(model);
  if (opset < 13) throw new InputError('model', `opset ${opset} has no per-channel DequantizeLinear; convert it first (onnxtune convert --opset 13)`);
  const names = GraphBuilder.fromGraph(graph);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t as TensorProto]));
  const qType = type === 'uint8' ? DataType.UINT8 : DataType.INT8;
  const newInits: onnx.TensorProto[] = [];
  const scalar = (name: string, dataType: number, bytes: Uint8Array) => {
    const n = names.uniqueName(name);
    newInits.push(onnx.TensorProto.create({ name: n, dims: [], dataType, rawData: bytes }));
    return n;
  };

  // Activations: Q → DQ right after the producer; `dq` maps each to its dequantized name.
  const params = new Map<string, ActivationParams>();
  const pairs = new Map<string, onnx.NodeProto[]>();
  const dq = new Map<string, string>();
  const quantized = new Map<string, string>();
  const tied = plan.tied ?? {};
  const grid = plan.concatGrid ?? {};
  // A tied tensor takes its source's parameters, a concat-grid tensor its Concat output's (a Resize output's source may
  // itself be on a Concat's grid): `root` follows the chain to the tensor whose own range decides.
  const root = (t: string): string => {
    let r = t;
    for (let hops = 0; hops < 8 && (tied[r] ?? grid[r]) !== undefined; hops++) r = (tied[r] ?? grid[r]) as string;
    return r;
  };
  const order = [...plan.activations.filter((t) => root(t) === t), ...plan.activations.filter((t) => root(t) !== t)];
  const rangeOf = (t: string) => {
    const range = ranges.get(root(t));
    if (!range) throw new InputError('calibration', `no range for tensor '${t}'; calibrate every tensor of the plan`);
    return range;
  };
  const sharedScale = new Map<string, number>();
  for (const group of addScaleGroups(plan)) {
    const s = Math.max(...group.map((t) => activationParams(rangeOf(t), type).scale));
    for (const t of group) sharedScale.set(t, s);
  }
  for (const t of order) {
    const range = rangeOf(t);
    const shared = sharedScale.get(t);
    const own = shared === undefined ? activationParams(range, type) : activationParamsForScale(range, shared, type);
    const p = root(t) !== t && params.has(root(t)) ? (params.get(root(t)) as ActivationParams) : own;
    params.set(t, p);
    const s = scalar(`${t}_scale`, DataType.FLOAT, bytesOf(Float32Array.of(p.scale)));
    const zp = scalar(`${t}_zero_point`, qType, bytesOf(type === 'uint8' ? Uint8Array.of(p.zeroPoint) : Int8Array.of(p.zeroPoint)));
    const q = names.uniqueName(`${t}_quantized`);
    const d = names.uniqueName(`${t}_dequantized`);
    dq.set(t, d);
    quantized.set(t, q);
    pairs.set(t, [
      onnx.NodeProto.create({ opType: 'QuantizeLinear', name: names.uniqueName(`${t}/QuantizeLinear`), input: [t, s, zp], output: [q] }),
      onnx.NodeProto.create({ opType: 'DequantizeLinear', name: names.uniqueName(`${t}/DequantizeLinear`), input: [q, s, zp], output: [d] }),
    ]);
  }

  // Weights and biases: int8 / int32 initializers behind DequantizeLinear (axis 0 = output channel).
  const pre: onnx.NodeProto[] = [];
  const convInputs = new Map<string, string[]>();
  const replacedInits = new Set<string>();
  const axis0 = [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })];
  for (const c of plan.convs) {
    const w = inits.get(c.weight) as TensorProto;
    const dims = tensorDims(w);
    const { q, scales } = quantizeSymmetric(tensorToFloat32(w), dims, 0);
    const wq = names.uniqueName(`${c.weight}_quantized`);
    const ws = names.uniqueName(`${c.weight}_scale`);
    const wz = names.uniqueName(`${c.weight}_zero_point`);
    const wd = names.uniqueName(`${c.weight}_dequantized`);
    newInits.push(
      onnx.TensorProto.create({ name: wq, dims, dataType: DataType.INT8, rawData: bytesOf(q) }),
      onnx.TensorProto.create({ name: ws, dims: [dims[0]], dataType: DataType.FLOAT, rawData: bytesOf(scales) }),
      onnx.TensorProto.create({ name: wz, dims: [dims[0]], dataType: DataType.INT8, rawData: new Uint8Array(dims[0]) }),
    );
    pre.push(onnx.NodeProto.create({ opType: 'DequantizeLinear', name: names.uniqueName(`${c.weight}/DequantizeLinear`), input: [wq, ws, wz], output: [wd], attribute: axis0 }));
    const inputs = [dq.get(c.input) as string, wd];
    if (c.bias) {
      const sx = (params.get(c.input) as ActivationParams).scale;
      const bs = Float32Array.from(scales, (s) => Math.fround(sx * s));
      const b = tensorToFloat32(inits.get(c.bias) as TensorProto);
      const bq = Int32Array.from(b, (v, i) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / bs[i]))));
      const [bqn, bsn, bzn, bd] = ['quantized', 'scale', 'zero_point', 'dequantized'].map((s) => names.uniqueName(`${c.bias}_${s}`));
      newInits.push(
        onnx.TensorProto.create({ name: bqn, dims: [bq.length], dataType: DataType.INT32, rawData: bytesOf(bq) }),
        onnx.TensorProto.create({ name: bsn, dims: [bq.length], dataType: DataType.FLOAT, rawData: bytesOf(bs) }),
        onnx.TensorProto.create({ name: bzn, dims: [bq.length], dataType: DataType.INT32, rawData: new Uint8Array(4 * bq.length) }),
      );
      pre.push(onnx.NodeProto.create({ opType: 'DequantizeLinear', name: names.uniqueName(`${c.bias}/DequantizeLinear`), input: [bqn, bsn, bzn], output: [bd], attribute: axis0 }));
      inputs.push(bd);
    }
    convInputs.set(c.node, inputs);
  }
  for (const c of plan.convs) {
    replacedInits.add(c.weight);
    if (c.bias) replacedInits.add(c.bias);
  }
  // A float weight still read elsewhere (shared) stays.
  for (const a of plan.adds) convInputs.set(a.node, a.inputs.map((i) => dq.get(i) as string));
  const concats = new Set(plan.concats ?? []);
  for (const n of graph.node ?? []) {
    const key = n.name || (n.output?.[0] ?? '');
    if (concats.has(key)) convInputs.set(key, (n.input ?? []).map((i) => dq.get(i) ?? i));
  }
  const planned = new Set(plan.convs.map((c) => c.node));
  const conv = new Set([...[...plan.convs, ...plan.adds].map((c) => c.output), ...Object.keys(tied)]);
  for (const n of graph.node ?? []) {
    if (planned.has(n.name || (n.output?.[0] ?? ''))) continue;
    for (const i of n.input ?? []) replacedInits.delete(i);
  }

  const nodes: onnx.NodeProto[] = [...pre];
  for (const t of (graph.input ?? []).map((i) => i.name ?? '')) nodes.push(...(pairs.get(t) ?? []));
  // Readers of a planned conv's or add's output (or fused Relu's) must all read the DQ, so the Q is its only consumer.
  const rename = (i: string) => (conv.has(i) ? (dq.get(i) ?? i) : i);
  for (const n of graph.node ?? []) {
    const key = n.name || (n.output?.[0] ?? '');
    // A Shape reads dims only: it reads the 8-bit tensor, so no DequantizeLinear runs for it.
    const shapeOf = n.opType === 'Shape' && isDefaultDomain(n.domain) ? quantized.get(n.input?.[0] ?? '') : undefined;
    const input = shapeOf ? [shapeOf] : (convInputs.get(key) ?? (n.input ?? []).map(rename));
    nodes.push(onnx.NodeProto.create({ ...n, input, output: [...(n.output ?? [])], attribute: [...(n.attribute ?? [])] }));
    for (const o of n.output ?? []) nodes.push(...(pairs.get(o) ?? []));
  }
  // A graph output produced by a planned conv keeps its float name and value.
  const initializer = [...(graph.initializer ?? []).filter((t) => !replacedInits.has(t.name ?? '')), ...newInits] as onnx.TensorProto[];
  const input = (graph.input ?? []).filter((vi) => !replacedInits.has(vi.name ?? '')).map((vi) => onnx.ValueInfoProto.create(vi));
  const newGraph = onnx.GraphProto.create({ ...graph, node: nodes, initializer, input });
  return { model: onnx.ModelProto.create({ ...model, graph: newGraph }), params };
}
