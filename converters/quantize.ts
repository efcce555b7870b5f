/**
 * Dynamic int8 weight quantization: the float weights of Conv/ConvTranspose (per output
 * channel) and Gemm/MatMul (per tensor) are stored as symmetric int8 (zero point 0, scale =
 * max|w| / 127) and a DequantizeLinear node turns them back into float at run time, so the
 * model still computes in float and runs on any provider. Weights shrink 4×; the rounding
 * error of each weight is at most scale / 2.
 */
import { InputError } from '../src/errors';
import { log } from '../src/log';
import { DataType, onnx, type ModelProto, type TensorProto } from '../src/onnx/proto';
import { tensorDims, tensorToFloat32 } from '../src/onnx/tensor';
import { defaultOpset } from './model-utils';

/** Which input holds the weight, and its output-channel axis (undefined = per tensor). */
const WEIGHT_SLOTS: Readonly<Record<string, { input: number; axis?: number }>> = Object.freeze({
  Conv: { input: 1, axis: 0 },
  ConvTranspose: { input: 1, axis: 1 },
  Gemm: { input: 1 },
  MatMul: { input: 1 },
});

/** Ops whose weights {@link quantizeWeightsInt8} quantizes. */
export const QUANTIZED_OPS: readonly string[] = Object.freeze(Object.keys(WEIGHT_SLOTS));

/** Options of {@link quantizeWeightsInt8}. */
export interface QuantizeOptions {
  /** Per-output-channel scales for Conv/ConvTranspose (default true; needs opset ≥ 13, else per tensor). */
  perChannel?: boolean;
  /** Weights with fewer elements stay float (default 16). */
  minElements?: number;
}

/** One quantized weight. */
export interface QuantizedWeight {
  name: string;
  op: string;
  dims: number[];
  /** Channel axis of the scales, or null for one scale. */
  axis: number | null;
  /** max |w − dequantized(w)| over the tensor. */
  maxError: number;
}

/** What {@link quantizeWeightsInt8} did. */
export interface QuantizeReport {
  weights: QuantizedWeight[];
  /** Float weights left as they were (too small, not an initializer, shared with another use). */
  skipped: string[];
}

/** Symmetric int8 quantization of `data` with one scale per slice of `axis` (or one overall). */
export function quantizeSymmetric(data: Float32Array, dims: readonly number[], axis: number | null): { q: Int8Array; scales: Float32Array; maxError: number } {
  const channels = axis === null ? 1 : dims[axis];
  const inner = axis === null ? data.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const chanOf = (i: number) => (axis === null ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) maxAbs[chanOf(i)] = Math.max(maxAbs[chanOf(i)], Math.abs(data[i]));
  const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(data.length);
  let maxError = 0;
  for (let i = 0; i < data.length; i++) {
    const s = scales[chanOf(i)];
    const v = Math.max(-127, Math.min(127, Math.round(data[i] / s)));
    q[i] = v;
    maxError = Math.max(maxError, Math.abs(data[i] - v * s));
  }
  return { q, scales, maxError };
}

/**
 * Quantizes the weights of Conv, ConvTranspose, Gemm and MatMul to int8 with DequantizeLinear
 * (see the module comment). The input model is not modified.
 * @throws InputError when the model has no graph or its opset is below 10 (no DequantizeLinear).
 */
export function quantizeWeightsInt8(model: ModelProto, opts: QuantizeOptions = {}): { model: onnx.ModelProto; report: QuantizeReport } {
  const graph = model.graph;
  if (!graph) throw new InputError('model', 'has no graph');
  const opset = defaultOpset(model);
  if (opset < 10) throw new InputError('model', `opset ${opset} has no DequantizeLinear; convert it to opset ≥ 13 first (onnxtune convert --opset 13)`);
  let perChannel = opts.perChannel ?? true;
  if (perChannel && opset < 13) {
    log.warn(`opset ${opset} < 13 has no per-channel DequantizeLinear; quantizing per tensor`);
    perChannel = false;
  }
  const minElements = opts.minElements ?? 16;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name as string, t]));
  const report: QuantizeReport = { weights: [], skipped: [] };

  // Every reader of each initializer, so a weight shared with a non-weight use stays float.
  const readers = new Map<string, Array<{ op: string; slot: number; axis: number | undefined }>>();
  for (const n of graph.node ?? []) {
    (n.input ?? []).forEach((name, slot) => {
      if (!name || !inits.has(name)) return;
      const w = WEIGHT_SLOTS[n.opType ?? ''];
      let axis = w?.axis;
      if (n.opType === 'Gemm') axis = undefined;
      readers.set(name, [...(readers.get(name) ?? []), { op: n.opType ?? '', slot: w && w.input === slot ? slot : -1, axis }]);
    });
  }

  const pre: onnx.NodeProto[] = [];
  const newInits: onnx.TensorProto[] = [];
  const replaced = new Map<string, string>();
  for (const t of graph.initializer ?? []) {
    const name = t.name as string;
    const uses = readers.get(name) ?? [];
    const asWeight = uses.length > 0 && uses.every((u) => u.slot >= 0);
    if (t.dataType !== DataType.FLOAT || !asWeight) {
      if (t.dataType === DataType.FLOAT && uses.some((u) => u.slot >= 0)) report.skipped.push(name);
      newInits.push(t as onnx.TensorProto);
      continue;
    }
    const dims = tensorDims(t as TensorProto);
    const data = tensorToFloat32(t as TensorProto);
    const axes = new Set(uses.map((u) => u.axis));
    if (data.length < minElements || axes.size !== 1) {
      report.skipped.push(name);
      newInits.push(t as onnx.TensorProto);
      continue;
    }
    const wanted = [...axes][0];
    const axis = perChannel && wanted !== undefined && dims.length > wanted ? wanted : null;
    const { q, scales, maxError } = quantizeSymmetric(data, dims, axis);
    const qName = `${name}_quantized`;
    const sName = `${name}_scale`;
    const zName = `${name}_zero_point`;
    const scaleDims = axis === null ? [] : [dims[axis]];
    newInits.push(
      onnx.TensorProto.create({ name: qName, dims, dataType: DataType.INT8, rawData: new Uint8Array(q.buffer) }),
      onnx.TensorProto.create({ name: sName, dims: scaleDims, dataType: DataType.FLOAT, rawData: new Uint8Array(scales.buffer) }),
      onnx.TensorProto.create({ name: zName, dims: scaleDims, dataType: DataType.INT8, rawData: new Uint8Array(scales.length) }),
    );
    const out = `${name}_dequantized`;
    pre.push(
      onnx.NodeProto.create({
        opType: 'DequantizeLinear',
        name: `${name}/DequantizeLinear`,
        input: [qName, sName, zName],
        output: [out],
        attribute: axis === null ? [] : [{ name: 'axis', type: 2, i: axis }],
      }),
    );
    replaced.set(name, out);
    report.weights.push({ name, op: uses[0].op, dims, axis, maxError });
  }
  const nodes = (graph.node ?? []).map((n) =>
    onnx.NodeProto.create({ ...n, input: (n.input ?? []).map((i) => replaced.get(i) ?? i), output: [...(n.output ?? [])], attribute: [...(n.attribute ?? [])] }),
  );
  const newGraph = onnx.GraphProto.create({
    ...graph,
    node: [...pre, ...nodes],
    initializer: newInits,
    // An initializer listed as a graph input (IR < 4) that was replaced is no longer an input.
    input: (graph.input ?? []).filter((vi) => !replaced.has(vi.name as string)).map((vi) => onnx.ValueInfoProto.create(vi)),
  });
  return { model: onnx.ModelProto.create({ ...model, graph: newGraph }), report };
}
