/**
 * A residual denoiser passes an error in its input image straight to its output (output = x − noise(x)), and on int8
 * the image reaches the Convs on an 8-bit grid: step ≈ 1.8/255 over a noisy image's −0.4…1.4. On gray-s25 that is
 * 0.02 of its 0.05 dB int8 loss (bench/README.md). The image's 1-channel tensor is zero-padded to 4 channels for
 * onnxruntime's int8 kernels (pad-inputs.ts, split-concat.ts), so a second channel is free. This pass fills it with
 * the image's rounding error, scaled up: the padded tensor becomes
 *
 *   [q(t), F·(t − q(t)), 0, …]   with q(t) = DequantizeLinear(QuantizeLinear(t)) on the padded tensor's own grid,
 *
 * and each Conv reading it gets, for that channel, its image weights ÷ F. In float that is w·q(t) + (w/F)·F·(t − q(t))
 * = w·t exactly; on int8 the first channel is on the grid already (no error) and the second carries the error F× finer,
 * so the image reaches the Conv with about log2(F) more bits. F is a power of two ≤ 16 that keeps F·step/2 inside the
 * grid on both sides of its zero point (the weights ÷ F keep ~127/F int8 levels). The extra work is a few elementwise
 * float ops on one full-resolution channel. Runs on the QDQ model; the input model is not modified.
 */
import { GraphBuilder, makeAttribute } from '../../src/onnx/builder';
import { constantResolver } from '../../src/onnx/constants';
import { DataType, isDefaultDomain, onnx, type ModelProto, type NodeProto, type TensorProto } from '../../src/onnx/proto';
import { floatTensor, int64Tensor, tensorDims } from '../../src/onnx/tensor';
import { stringAttr } from './plan';
import type { ActivationParams } from './rewrite';

/** The largest image-residual factor (the Conv weights for the residual channel are the image's ÷ this). */
export const MAX_RESIDUAL_FACTOR = 16;

/** One padded 1-channel tensor that got the residual channel. */
export interface InputResidual {
  /** The padded tensor (as quantized). */
  tensor: string;
  factor: number;
  /** Convs whose weights for the residual channel were set. */
  convs: string[];
}

/**
 * Adds the residual channel (see the module comment) to every quantized tensor made by a constant-zero channel Pad of
 * a 1-channel tensor, when every reader of its 8-bit values is a quantized Conv, or a Concat on the same grid read by
 * quantized Convs.
 * @param channels channel count of the quantized tensors (as calibration observed them), by name
 * @param params the activations' 8-bit parameters (insertQdq's)
 */
export function addInputResiduals(
  qdq: ModelProto,
  channels: ReadonlyMap<string, number>,
  params: ReadonlyMap<string, ActivationParams>,
): { model: onnx.ModelProto; residuals: InputResidual[] } {
  const graph = qdq.graph;
  if (!graph) return { model: onnx.ModelProto.create(qdq), residuals: [] };
  const producer = new Map<string, NodeProto>();
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  }
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t as TensorProto]));
  const is = (n: NodeProto | undefined, op: string): n is NodeProto => n?.opType === op && isDefaultDomain(n.domain);
  const consts = constantResolver(qdq);
  const valuesOf = (name: string | undefined) => {
    const c = name ? consts.value(name) : undefined;
    return c ? Array.from(c.data as ArrayLike<number>, Number) : undefined;
  };
  // A Conv reading `dq` (a DequantizeLinear output) through its int8 weights: [conv, weight DQ node].
  const int8Conv = (n: NodeProto) => {
    if (!is(n, 'Conv')) return undefined;
    const wdq = producer.get(n.input?.[1] ?? '');
    const wq = is(wdq, 'DequantizeLinear') ? inits.get(wdq.input?.[0] ?? '') : undefined;
    return wq && wq.dataType === DataType.INT8 && tensorDims(wq).length === 4 ? { conv: n, weight: wq } : undefined;
  };
  const names = GraphBuilder.fromGraph(graph);
  const residuals: InputResidual[] = [];
  const replacedWeights = new Map<string, onnx.TensorProto>();
  const replacePad = new Map<NodeProto, onnx.NodeProto[]>();
  const newInits: onnx.TensorProto[] = [];

  for (const pad of graph.node ?? []) {
    const [t, padsName, value] = pad.input ?? [];
    const p = pad.output?.[0] ?? '';
    if (!is(pad, 'Pad') || (value && !valuesOf(value)?.every((v) => v === 0)) || stringAttr(pad, 'mode', 'constant') !== 'constant') continue;
    // Zeros appended to the channels only, of a 1-channel tensor (the padded tensor's channels, as calibrated, less them).
    const pads = valuesOf(padsName);
    if (!pads || pads.length !== 8 || pads.some((v, i) => (i === 5 ? v < 1 : v !== 0)) || channels.get(p) !== 1 + pads[5]) continue;
    // Its Q → DQ, and where the DQ's values go: Convs, or Concats on the same grid that only Convs read.
    const q = (readers.get(p) ?? []).find((r) => is(r, 'QuantizeLinear'));
    const own = params.get(p);
    if (!q || !own || (readers.get(p) ?? []).length !== 1) continue;
    const dqs = (readers.get(q.output?.[0] ?? '') ?? []).filter((r) => is(r, 'DequantizeLinear'));
    const targets: Array<{ conv: NodeProto; weight: TensorProto; offset: number }> = [];
    let ok = dqs.length === (readers.get(q.output?.[0] ?? '') ?? []).length;
    for (const dq of dqs) {
      for (const r of readers.get(dq.output?.[0] ?? '') ?? []) {
        const direct = int8Conv(r);
        if (direct && direct.conv.input?.[0] === dq.output?.[0]) {
          targets.push({ ...direct, offset: 0 });
          continue;
        }
        if (!is(r, 'Concat')) {
          ok = false;
          continue;
        }
        // A Concat copies the values when its output has the same grid (QLinearConcat, shareConcatGrid).
        const cat = r.output?.[0] ?? '';
        const catQ = (readers.get(cat) ?? [])[0];
        const catParams = params.get(cat);
        const at = (r.input ?? []).indexOf(dq.output?.[0] ?? '');
        const before = (r.input ?? []).slice(0, at).map((i) => channels.get(sourceOf(i, producer)) ?? -1);
        if (!catParams || catParams.scale !== own.scale || catParams.zeroPoint !== own.zeroPoint || !is(catQ, 'QuantizeLinear') || (readers.get(cat) ?? []).length !== 1 || before.some((c) => c < 1)) {
          ok = false;
          continue;
        }
        const offset = before.reduce((a, c) => a + c, 0);
        for (const cdq of readers.get(catQ.output?.[0] ?? '') ?? []) {
          for (const c of readers.get(cdq.output?.[0] ?? '') ?? []) {
            const conv = is(cdq, 'DequantizeLinear') ? int8Conv(c) : undefined;
            if (conv && conv.conv.input?.[0] === cdq.output?.[0]) targets.push({ ...conv, offset });
            else ok = false;
          }
        }
      }
    }
    if (!ok || !targets.length) continue;
    const factor = residualFactor(own);
    if (factor < 2) continue;
    // The residual channel's weights: the image channel's int8 values ÷ F (same per-channel scales).
    const convs: string[] = [];
    for (const { conv, weight, offset } of targets) {
      const current = replacedWeights.get(weight.name ?? '') ?? weight;
      const [cout, cin, kh, kw] = tensorDims(current);
      const w = new Int8Array(new Uint8Array(current.rawData as Uint8Array).slice().buffer);
      const k = kh * kw;
      for (let o = 0; o < cout; o++) {
        for (let j = 0; j < k; j++) w[(o * cin + offset + 1) * k + j] = Math.round(w[(o * cin + offset) * k + j] / factor);
      }
      replacedWeights.set(weight.name ?? '', onnx.TensorProto.create({ ...current, rawData: new Uint8Array(w.buffer) }));
      convs.push(conv.name || (conv.output?.[0] ?? 'Conv'));
    }
    // t → Q → DQ = q(t) on the padded tensor's grid; F·(t − q(t)); [q(t), F·r] padded as before (one channel fewer).
    const [scale, zero] = [q.input?.[1] ?? '', q.input?.[2] ?? ''];
    const [tq8, tq, diff, res, both, fName, padsTwo] = ['on_grid_quantized', 'on_grid', 'rounding_error', 'rounding_error_scaled', 'with_residual', 'residual_factor', 'residual_pads'].map((s) => names.uniqueName(`${t}_${s}`));
    newInits.push(floatTensor(fName, [], Float32Array.of(factor)), int64Tensor(padsTwo, [8], pads.map((v, i) => (i === 5 ? v - 1 : v))));
    const node = (opType: string, input: string[], output: string, attribute: onnx.AttributeProto[] = []) =>
      onnx.NodeProto.create({ opType, name: names.uniqueName(`${p}/input_residual/${opType}`), input, output: [output], attribute });
    replacePad.set(pad, [
      node('QuantizeLinear', [t, scale, zero], tq8),
      node('DequantizeLinear', [tq8, scale, zero], tq),
      node('Sub', [t, tq], diff),
      node('Mul', [diff, fName], res),
      node('Concat', [tq, res], both, [makeAttribute('axis', 1)]),
      onnx.NodeProto.create({ ...pad, input: [both, padsTwo, ...(pad.input ?? []).slice(2)], output: [p], attribute: [...(pad.attribute ?? [])] }),
    ]);
    residuals.push({ tensor: p, factor, convs });
  }
  if (!residuals.length) return { model: onnx.ModelProto.create(qdq), residuals };
  const nodes = (graph.node ?? []).flatMap((n) => replacePad.get(n) ?? [n as onnx.NodeProto]);
  const initializer = [...(graph.initializer ?? []).map((t) => replacedWeights.get(t.name ?? '') ?? (t as onnx.TensorProto)), ...newInits];
  const out = onnx.GraphProto.create({ ...graph, node: nodes, initializer });
  return { model: onnx.ModelProto.create({ ...qdq, graph: out }), residuals };
}

/** The largest power of two ≤ {@link MAX_RESIDUAL_FACTOR} with F·step/2 inside the grid below and above the zero point. */
export function residualFactor(p: ActivationParams, levels = 255): number {
  const room = Math.min(p.zeroPoint, levels - p.zeroPoint);
  let f = 1;
  while (f * 2 <= MAX_RESIDUAL_FACTOR && f <= room) f *= 2;
  return f;
}

/** The float tensor behind a DequantizeLinear output (its Q's input), for channel counts. */
function sourceOf(t: string, producer: ReadonlyMap<string, NodeProto>): string {
  const dq = producer.get(t);
  const q = dq?.opType === 'DequantizeLinear' ? producer.get(dq.input?.[0] ?? '') : undefined;
  return q?.opType === 'QuantizeLinear' ? (q.input?.[0] ?? t) : t;
}
