/**
 * Rewrites a model's weights the ways real exporters store them, for the weight-source tests:
 * Constant nodes; ConstantOfShape (× a Constant so values differ); Identity/Cast/Transpose/
 * Unsqueeze/Reshape chains over a transposed initializer; DequantizeLinear of int8/uint8/int32
 * initializers (and, for `qdq`, Q → DQ pairs on activations); initializers also listed as graph
 * inputs with IR version 3. `toOpset9` moves a model to opset 9's attribute forms (Caffe2-era
 * exports). Built with GraphBuilder and the core constant resolver; never runs a model.
 */
import { makeAttribute, GraphBuilder } from '../../src/onnx/builder';
import { constantResolver } from '../../src/onnx/constants';
import { constFromTensorProto, constToTensorProto, transposeConst } from '../../src/onnx/const-tensor';
import { DataType, onnx, type ModelProto, type NodeProto, type TensorProto } from '../../src/onnx/proto';
import { floatTensor, int64Tensor, tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';

/** Where the weights live after a rewrite. */
export type WeightSource = 'initializer' | 'constant' | 'constant-of-shape' | 'chain' | 'int8' | 'qdq' | 'ir3-inputs';
export const WEIGHT_SOURCES: readonly WeightSource[] = ['initializer', 'constant', 'constant-of-shape', 'chain', 'int8', 'qdq', 'ir3-inputs'];

/** A rewritten model and the float model whose tensors it must reproduce. */
export interface Rewritten {
  model: onnx.ModelProto;
  /** The original, with weights replaced by their dequantized values for `int8`; the rewrite itself for `qdq`. */
  reference: onnx.ModelProto;
}

function opsetOf(model: ModelProto): number {
  return Number((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 17);
}

function withGraph(model: ModelProto, graph: Partial<onnx.IGraphProto>, opts: { opset?: number; irVersion?: number } = {}): onnx.ModelProto {
  const g = model.graph ?? {};
  const opset = opts.opset ?? opsetOf(model);
  return onnx.ModelProto.create({
    ...model,
    irVersion: opts.irVersion ?? Math.max(Number(model.irVersion ?? 8), opset >= 13 ? 7 : 4),
    opsetImport: [{ domain: '', version: opset }],
    graph: onnx.GraphProto.create({ ...g, ...graph }),
  });
}

const attr = makeAttribute;
const node = (opType: string, input: string[], output: string[], attrs: onnx.AttributeProto[] = []) =>
  onnx.NodeProto.create({ opType, input, output, name: `${output[0]}/${opType}`, attribute: attrs });

/**
 * Opset 9 forms of the ops our fixtures use: Slice starts/ends/axes, Pad pads/value, Squeeze/
 * Unsqueeze axes and Clip bounds become attributes (their constant inputs are read with the resolver).
 * @throws Error for what opset 9 cannot express (Slice steps ≠ 1).
 */
export function toOpset9(model: ModelProto): onnx.ModelProto {
  const consts = constantResolver(model);
  const ints = (name: string | undefined, what: string) => {
    const v = name ? consts.ints(name) : undefined;
    if (!v) throw new Error(`${what}: not a constant`);
    return v;
  };
  const nodes = (model.graph?.node ?? []).map((n): NodeProto => {
    const ins = n.input ?? [];
    const keep = (k: number, attrs: onnx.AttributeProto[]) =>
      onnx.NodeProto.create({ ...n, input: ins.slice(0, k), attribute: [...(n.attribute ?? []), ...attrs] });
    if (consts.isConstant(n.output?.[0])) return n;
    switch (n.opType) {
      case 'Slice': {
        if (ins[4] && ints(ins[4], 'Slice steps').some((s) => s !== 1)) throw new Error(`not expressible in opset 9: Slice steps (node '${n.name}')`);
        const starts = ints(ins[1], 'Slice starts');
        const axes = ins[3] ? ints(ins[3], 'Slice axes') : starts.map((_, i) => i);
        return keep(1, [attr('starts', starts), attr('ends', ints(ins[2], 'Slice ends')), attr('axes', axes)]);
      }
      case 'Pad': {
        const value = ins[2] ? consts.floats(ins[2])?.[0] ?? 0 : 0;
        const hasPads = (n.attribute ?? []).some((a) => a.name === 'pads');
        if (hasPads) return n;
        return keep(1, [attr('pads', ints(ins[1], 'Pad pads')), onnx.AttributeProto.create({ name: 'value', type: 1, f: value })]);
      }
      case 'MaxPool':
      case 'AveragePool': {
        // ceil_mode and MaxPool dilations arrived in opset 10: drop them at their defaults.
        const extra = (n.attribute ?? []).filter((a) => a.name === 'ceil_mode' || a.name === 'dilations');
        if (extra.some((a) => (a.name === 'ceil_mode' ? Number(a.i) !== 0 : (a.ints ?? []).some((d) => Number(d) !== 1)))) {
          throw new Error(`not expressible in opset 9: ${n.opType} with ceil_mode or dilations (node '${n.name}')`);
        }
        return onnx.NodeProto.create({ ...n, attribute: (n.attribute ?? []).filter((a) => !extra.includes(a)) });
      }
      case 'Squeeze':
      case 'Unsqueeze':
        return ins[1] ? keep(1, [attr('axes', ints(ins[1], `${n.opType} axes`))]) : n;
      case 'Clip': {
        const f = (i: number) => (ins[i] ? consts.floats(ins[i])?.[0] : undefined);
        const bounds = [['min', f(1)], ['max', f(2)]].filter((b): b is [string, number] => b[1] !== undefined);
        return keep(1, bounds.map(([k, v]) => onnx.AttributeProto.create({ name: k, type: 1, f: v })));
      }
      default:
        return n;
    }
  });
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const initializer = (model.graph?.initializer ?? []).filter((t) => used.has(t.name ?? ''));
  const live = nodes.filter((n) => n.opType !== 'Constant' || (n.output ?? []).some((o) => used.has(o)));
  return withGraph(model, { node: live, initializer }, { opset: 9, irVersion: 4 });
}

// Local aliases: `Math.x` per element is slow in jest's sandbox (globals are proxied).
const { abs, fround, max, round } = Math;

function isFloat(t: TensorProto): boolean {
  return t.dataType === DataType.FLOAT;
}

/** A typed integer tensor (INT8, UINT8, INT32) from values. */
function intTensor(name: string, dims: number[], type: number, values: ArrayLike<number>): onnx.TensorProto {
  const size = type === DataType.INT32 ? 4 : 1;
  const raw = new Uint8Array(values.length * size);
  const v = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) {
    if (type === DataType.INT8) v.setInt8(i, values[i]);
    else if (type === DataType.UINT8) v.setUint8(i, values[i]);
    else v.setInt32(i * 4, values[i], true);
  }
  return onnx.TensorProto.create({ name, dims, dataType: type, rawData: raw });
}

interface Quantized {
  q: onnx.TensorProto;
  scale: onnx.TensorProto;
  zp: onnx.TensorProto;
  axis?: number;
  /** What DequantizeLinear computes, float32. */
  dequantized: Float32Array;
}

/**
 * Rank-4 conv weights: symmetric int8 per output channel (axis 0); conv biases: int32 per tensor;
 * anything else: uint8 per tensor with a mid-range zero point.
 */
function quantize(t: TensorProto, role: 'weight' | 'bias' | 'other', perAxisOk: boolean): Quantized {
  const name = t.name ?? '';
  const dims = tensorDims(t);
  const w = tensorToFloat32(t);
  const n = w.length;
  const perAxis = perAxisOk && role === 'weight' && dims.length === 4;
  const groups = perAxis ? dims[0] : 1;
  const per = n / groups;
  const type = role === 'weight' ? DataType.INT8 : role === 'bias' ? DataType.INT32 : DataType.UINT8;
  const [qmax, zp] = type === DataType.INT8 ? [127, 0] : type === DataType.INT32 ? [2 ** 24, 0] : [127, 128];
  const scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    let m = 0;
    for (let i = g * per; i < (g + 1) * per; i++) m = max(m, abs(w[i]));
    scales[g] = m > 0 ? m / qmax : 1;
  }
  const q = new Int32Array(n);
  const deq = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = scales[(i / per) | 0];
    q[i] = round(w[i] / s) + zp;
    deq[i] = fround((q[i] - zp) * s);
  }
  const sDims = perAxis ? [groups] : [];
  return {
    q: intTensor(`${name}__q`, dims, type, q),
    scale: floatTensor(`${name}__scale`, sDims, scales),
    zp: intTensor(`${name}__zp`, sDims, type, new Array(groups).fill(zp)),
    axis: perAxis ? 0 : undefined,
    dequantized: deq,
  };
}

/** The role of each float initializer: conv weight (input 1), conv bias (input 2) or other. */
function roles(model: ModelProto): Map<string, 'weight' | 'bias' | 'other'> {
  const consts = constantResolver(model);
  const m = new Map<string, 'weight' | 'bias' | 'other'>();
  // Follow Identity aliases (torch style) back to the initializer.
  const source = (name: string) => {
    let t = name;
    for (const n of model.graph?.node ?? []) if (n.opType === 'Identity' && n.output?.[0] === t && consts.isInitializer(n.input?.[0] ?? '')) t = n.input?.[0] as string;
    return t;
  };
  for (const n of model.graph?.node ?? []) {
    if (n.opType !== 'Conv') continue;
    if (n.input?.[1]) m.set(source(n.input[1]), 'weight');
    if (n.input?.[2]) m.set(source(n.input[2]), 'bias');
  }
  return m;
}

/** Inserts QuantizeLinear → DequantizeLinear (uint8, scale 1/20) after the image input and every Relu. */
function fakeQuantActivations(model: onnx.ModelProto, input: string): onnx.ModelProto {
  const g = model.graph ?? {};
  const targets = new Set([input, ...(g.node ?? []).filter((n) => n.opType === 'Relu').map((n) => n.output?.[0] as string)]);
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  const scale = floatTensor('act__scale', [], Float32Array.of(0.05));
  const zp = intTensor('act__zp', [], DataType.UINT8, [0]);
  const renamed = (t: string) => (targets.has(t) && !outputs.has(t) ? `${t}__fq` : t);
  const nodes: onnx.NodeProto[] = [];
  const pair = (t: string) => {
    nodes.push(node('QuantizeLinear', [t, 'act__scale', 'act__zp'], [`${t}__q`]));
    nodes.push(node('DequantizeLinear', [`${t}__q`, 'act__scale', 'act__zp'], [`${t}__fq`]));
  };
  if (targets.has(input)) pair(input);
  for (const n of g.node ?? []) {
    nodes.push(onnx.NodeProto.create({ ...n, input: (n.input ?? []).map(renamed) }));
    const out = n.output?.[0];
    if (n.opType === 'Relu' && out && !outputs.has(out)) pair(out);
  }
  return withGraph(model, { node: nodes, initializer: [...(g.initializer ?? []), scale, zp] });
}

/**
 * `model` with its weights stored the way `source` says (see {@link WeightSource}).
 * @param input the image input (never rewritten).
 */
export function rewriteWeights(model: ModelProto, source: WeightSource, input: string): Rewritten {
  const g = model.graph ?? {};
  const opset = opsetOf(model);
  const inits = g.initializer ?? [];
  const orig = onnx.ModelProto.create(model);
  if (source === 'initializer') return { model: orig, reference: orig };
  if (source === 'ir3-inputs') {
    const have = new Set((g.input ?? []).map((v) => v.name));
    const extra = inits.filter((t) => !have.has(t.name)).map((t) => {
      const b = new GraphBuilder();
      b.addInput(t.name ?? '', tensorDims(t), t.dataType ?? DataType.FLOAT);
      return b.inputs[0];
    });
    const m = withGraph(model, { input: [...(g.input ?? []), ...extra] }, { irVersion: 3 });
    return { model: m, reference: orig };
  }
  if (source === 'int8' || source === 'qdq') {
    // Per-axis DequantizeLinear needs opset 13; an opset 9 model becomes opset 10 (per tensor), where
    // only Slice changed form (starts/ends became inputs), so such a model has no int8 form here.
    const target = opset >= 13 ? opset : 10;
    if (target === 10 && (g.node ?? []).some((n) => n.opType === 'Slice')) throw new Error('not expressible: opset 9 Slice in an opset 10 QDQ model');
    const role = roles(model);
    const keep: onnx.TensorProto[] = [];
    const refInits: onnx.TensorProto[] = [];
    const front: onnx.NodeProto[] = [];
    for (const t of inits) {
      if (!isFloat(t)) {
        keep.push(t as onnx.TensorProto);
        refInits.push(t as onnx.TensorProto);
        continue;
      }
      const qz = quantize(t, role.get(t.name ?? '') ?? 'other', target >= 13);
      keep.push(qz.q, qz.scale, qz.zp);
      front.push(node('DequantizeLinear', [qz.q.name, qz.scale.name, qz.zp.name], [t.name ?? ''], qz.axis === undefined ? [] : [attr('axis', qz.axis)]));
      refInits.push(floatTensor(t.name ?? '', tensorDims(t), qz.dequantized));
    }
    const m = withGraph(model, { node: [...front, ...(g.node ?? [])], initializer: keep }, { opset: target });
    const reference = withGraph(model, { initializer: refInits }, { opset: target });
    if (source === 'int8') return { model: m, reference };
    const fq = fakeQuantActivations(m, input);
    return { model: fq, reference: fq };
  }
  const front: onnx.NodeProto[] = [];
  const keep: onnx.TensorProto[] = [];
  for (const t of inits) {
    const name = t.name ?? '';
    const dims = tensorDims(t);
    const value = onnx.TensorProto.create({ ...t, name: '' });
    const constant = (out: string, v: onnx.TensorProto) => front.push(node('Constant', [], [out], [attr('value', v)]));
    const shape = (out: string, d: number[]) => constant(out, int64Tensor('', [d.length], d));
    if (source === 'constant') {
      constant(name, value);
    } else if (source === 'constant-of-shape') {
      const data = isFloat(t) ? tensorToFloat32(t) : undefined;
      if (!data) {
        constant(name, value);
        continue;
      }
      shape(`${name}__shape`, dims);
      const uniform = data.every((v) => v === data[0]);
      // A uniform tensor (a zero bias) is ConstantOfShape alone; others are 2 × (W / 2), exact in float32.
      const fill = floatTensor('', [1], Float32Array.of(uniform ? data[0] : 2));
      if (uniform) {
        front.push(node('ConstantOfShape', [`${name}__shape`], [name], [attr('value', fill)]));
      } else {
        front.push(node('ConstantOfShape', [`${name}__shape`], [`${name}__filled`], [attr('value', fill)]));
        constant(`${name}__half`, floatTensor('', dims, data.map((v) => v * 0.5)));
        front.push(node('Mul', [`${name}__filled`, `${name}__half`], [name]));
      }
    } else {
      // chain: stored transposed; Identity → Cast → Transpose → Unsqueeze → Reshape restore it.
      const c = constFromTensorProto(t, name);
      const perm = dims.map((_, i) => dims.length - 1 - i);
      const stored = constToTensorProto(`${name}__stored`, transposeConst(c, perm));
      keep.push(stored);
      front.push(node('Identity', [stored.name], [`${name}__id`]));
      front.push(node('Cast', [`${name}__id`], [`${name}__cast`], [attr('to', t.dataType === DataType.FLOAT ? DataType.FLOAT : DataType.INT64)]));
      front.push(dims.length > 1 ? node('Transpose', [`${name}__cast`], [`${name}__t`], [attr('perm', perm)]) : node('Identity', [`${name}__cast`], [`${name}__t`]));
      if (opset >= 13) {
        shape(`${name}__axes`, [0]);
        front.push(node('Unsqueeze', [`${name}__t`, `${name}__axes`], [`${name}__u`]));
      } else {
        front.push(node('Unsqueeze', [`${name}__t`], [`${name}__u`], [attr('axes', [0])]));
      }
      shape(`${name}__dims`, dims);
      front.push(node('Reshape', [`${name}__u`, `${name}__dims`], [name]));
    }
  }
  const m = withGraph(model, { node: [...front, ...(g.node ?? [])], initializer: keep });
  return { model: m, reference: orig };
}
