/**
 * A Conv reading a channel Concat of tensors with very different ranges gets one 8-bit scale for
 * all of them, sized by the widest: a U-Net level that concatenates ReLU features (0…30) with the
 * raw image (0…1) leaves the image about eight 8-bit steps, and the denoiser loses most of what it
 * sees of it (gray-s25: −0.9 dB on Set12 from that one Conv). Conv is linear in its input channels,
 * so Conv(Concat(a, b), W) = Conv(a, W_a) + Conv(b, W_b): the narrow-range inputs get Convs of
 * their own (their own scales), the others stay concatenated, and float Adds sum the parts.
 * The MACs are the same; the Adds are elementwise.
 */
import type { FloatTensor } from '../../src/backends/ort';
import { GraphBuilder } from '../../src/onnx/builder';
import { DataType, isDefaultDomain, onnx, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import { tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';
import { attrInt } from '../../src/onnx/const-rules';
import { cloneNode } from '../../src/onnx/graph-utils';
import { pruneUnused } from '../model-utils';
import { observeRanges } from './calibrate';

/** Options of {@link splitMixedRangeConcats}. */
export interface SplitConcatOptions {
  /** An input whose range spans less than 1/ratio of the widest input's gets its own Conv (default 4). */
  ratio?: number;
  /**
   * 'scale' (default): multiply each narrow input by a power of two (folded into the Conv that makes it where it can,
   * else one Mul) and divide the Conv's weights for its channels by the same power, so one scale suits all inputs and
   * the graph keeps one Conv; 'split': one Conv per range group, summed by float Adds (exact ranges, more elementwise work).
   */
  mode?: 'scale' | 'split';
  threads?: number;
}

/** One Conv split over its Concat's inputs. */
export interface ConcatSplit {
  conv: string;
  mode: 'scale' | 'split';
  /** With 'scale': the power of two each narrow input was multiplied by. */
  factors?: Record<string, number>;
  /** The input tensors of each part, in the Concat's order (the first part keeps the bias). */
  parts: string[][];
}

const span = (r: { min: number; max: number }) => Math.max(0, r.max) - Math.min(0, r.min);

/**
 * The model with mixed-range Concat → Conv pairs split (see the module comment); the input model
 * is not modified. Ranges and channel counts come from running the float model on `feeds`.
 */
export async function splitMixedRangeConcats(
  model: ModelProto,
  feeds: readonly Record<string, FloatTensor>[],
  opts: SplitConcatOptions = {},
): Promise<{ model: onnx.ModelProto; splits: ConcatSplit[] }> {
  const graph = model.graph as onnx.GraphProto;
  const ratio = opts.ratio ?? 4;
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const readCount = new Map<string, number>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) readCount.set(i, (readCount.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) readCount.set(o.name ?? '', (readCount.get(o.name ?? '') ?? 0) + 1);
  const candidates = (graph.node ?? []).flatMap((conv) => {
    if (conv.opType !== 'Conv' || !isDefaultDomain(conv.domain) || attrInt(conv, 'group', 1) !== 1) return [];
    const cat = producer.get(conv.input?.[0] ?? '');
    const w = inits.get(conv.input?.[1] ?? '');
    const b = conv.input?.[2] ? inits.get(conv.input[2]) : undefined;
    if (!cat || cat.opType !== 'Concat' || !isDefaultDomain(cat.domain) || (cat.input ?? []).length < 2) return [];
    // One reader (this Conv) and distinct inputs: the rewrite edits the Concat and maps channels by input name.
    if ((readCount.get(cat.output?.[0] ?? '') ?? 0) !== 1 || new Set(cat.input).size !== cat.input?.length) return [];
    if (!w || w.dataType !== DataType.FLOAT || (conv.input?.[2] && (!b || b.dataType !== DataType.FLOAT))) return [];
    const axis = attrInt(cat, 'axis', 0) ?? 0;
    if (axis !== 1 && axis !== -3) return [];
    return [{ conv, cat }];
  });
  if (!candidates.length || !feeds.length) return { model: onnx.ModelProto.create(model), splits: [] };

  // Ranges and channel counts of every Concat input, from the float model.
  const tensors = [...new Set(candidates.flatMap((c) => c.cat.input ?? []))];
  const stats = await observeRanges(model, tensors, feeds, { threads: opts.threads });

  const names = GraphBuilder.fromGraph(graph);
  const replace = new Map<NodeProto, onnx.NodeProto[]>();
  const newInits: onnx.TensorProto[] = [];
  const splits: ConcatSplit[] = [];
  const scaled: Array<{ conv: NodeProto; cat: NodeProto; factors: Record<string, number>; channels: Map<string, number> }> = [];
  for (const { conv, cat } of candidates) {
    const inputs = cat.input as string[];
    if (inputs.some((t) => !(stats.get(t)?.channels ?? 0))) continue;
    const widest = Math.max(...inputs.map((t) => span(stats.get(t) as { min: number; max: number })));
    const narrow = inputs.filter((t) => span(stats.get(t) as { min: number; max: number }) * ratio < widest);
    if (!narrow.length) continue;
    const wide = inputs.filter((t) => !narrow.includes(t));
    const parts = [...(wide.length ? [wide] : []), ...narrow.map((t) => [t])];
    if (parts.length < 2) continue;
    const convName = conv.name || (conv.output?.[0] as string);
    const w = inits.get(conv.input?.[1] as string) as onnx.TensorProto;
    const dims = tensorDims(w);
    const [cout, cin, ...k] = dims;
    // Channel counts that do not add up to the Conv's input channels: leave this Conv alone (either mode).
    if (inputs.reduce((a, t) => a + (stats.get(t) as { channels: number }).channels, 0) !== cin) continue;
    if ((opts.mode ?? 'scale') === 'scale') {
      const factors: Record<string, number> = {};
      for (const t of narrow) factors[t] = 2 ** Math.floor(Math.log2(widest / span(stats.get(t) as { min: number; max: number })));
      scaled.push({ conv, cat, factors, channels: new Map(inputs.map((t) => [t, (stats.get(t) as { channels: number }).channels])) });
      splits.push({ conv: convName, mode: 'scale', parts, factors });
      continue;
    }

    const kk = k.reduce((a, d) => a * d, 1);
    const offsets = new Map<string, number>();
    let off = 0;
    for (const t of inputs) {
      offsets.set(t, off);
      off += (stats.get(t) as { channels: number }).channels;
    }
    const wf = tensorToFloat32(w);
    const nodes: onnx.NodeProto[] = [];
    const outs = parts.map((part, p) => {
      const chans = part.flatMap((t) => Array.from({ length: (stats.get(t) as { channels: number }).channels }, (_, c) => (offsets.get(t) as number) + c));
      const sub = new Float32Array(cout * chans.length * kk);
      for (let o = 0; o < cout; o++) {
        chans.forEach((c, j) => sub.set(wf.subarray((o * cin + c) * kk, (o * cin + c + 1) * kk), (o * chans.length + j) * kk));
      }
      const wName = names.uniqueName(`${conv.input?.[1]}_part${p}`);
      newInits.push(onnx.TensorProto.create({ name: wName, dims: [cout, chans.length, ...k], dataType: DataType.FLOAT, rawData: new Uint8Array(sub.buffer) }));
      let x = part[0];
      if (part.length > 1) {
        x = names.uniqueName(`${cat.output?.[0]}_part${p}`);
        nodes.push(onnx.NodeProto.create({ ...cat, name: names.uniqueName(`${cat.name || 'Concat'}_part${p}`), input: part, output: [x] }));
      }
      const y = names.uniqueName(`${conv.output?.[0]}_part${p}`);
      const convInputs = [x, wName, ...(p === 0 && conv.input?.[2] ? [conv.input[2]] : [])];
      nodes.push(onnx.NodeProto.create({ ...conv, name: names.uniqueName(`${convName}_part${p}`), input: convInputs, output: [y] }));
      return y;
    });
    let sum = outs[0];
    outs.slice(1).forEach((y, i) => {
      const last = i === outs.length - 2;
      const o = last ? (conv.output?.[0] as string) : names.uniqueName(`${conv.output?.[0]}_sum${i}`);
      nodes.push(onnx.NodeProto.create({ opType: 'Add', name: names.uniqueName(`${convName}_sum${i}`), input: [sum, y], output: [o] }));
      sum = o;
    });
    replace.set(conv, nodes);
    splits.push({ conv: convName, mode: 'split', parts });
  }
  if (!splits.length) return { model: onnx.ModelProto.create(model), splits };
  // Every node is copied: the scale pass edits inputs in place, and the caller's model must stay as it was.
  const copies = new Map<NodeProto, onnx.NodeProto>();
  const nodes = (graph.node ?? []).flatMap((n) => replace.get(n) ?? [copies.set(n, cloneNode(n)).get(n) as onnx.NodeProto]);
  const out = onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...newInits] as onnx.TensorProto[] });
  applyScales(out, scaled.map((e) => ({ ...e, conv: copies.get(e.conv) as onnx.NodeProto, cat: copies.get(e.cat) as onnx.NodeProto })), names);
  pruneUnused(out, { allNodes: true });
  return { model: onnx.ModelProto.create({ ...model, graph: out }), splits };
}

/**
 * Multiplies each narrow Concat input by its power-of-two factor and divides the reading Conv's weights for those
 * channels by it (both exact in float). The factor goes into the Conv that makes the input (through a Relu) when
 * only the Concat reads it; otherwise a Mul by the factor feeds the Concat.
 */
function applyScales(
  graph: onnx.GraphProto,
  scaled: ReadonlyArray<{ conv: onnx.NodeProto; cat: onnx.NodeProto; factors: Record<string, number>; channels: Map<string, number> }>,
  names: GraphBuilder,
): void {
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const readers = new Map<string, number>();
  for (const n of graph.node) for (const i of n.input ?? []) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of graph.output) readers.set(o.name as string, (readers.get(o.name as string) ?? 0) + 1);
  const producer = new Map<string, onnx.NodeProto>();
  for (const n of graph.node as onnx.NodeProto[]) for (const o of n.output ?? []) producer.set(o, n);
  const replaceInit = (name: string, f: (v: Float32Array, dims: number[]) => Float32Array): string => {
    const t = inits.get(name) as onnx.TensorProto;
    const dims = tensorDims(t);
    const fresh = names.uniqueName(`${name}_equalized`);
    const v = f(tensorToFloat32(t), dims); // f may change dims (channel padding)
    const nt = onnx.TensorProto.create({ name: fresh, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(v.buffer) });
    graph.initializer.push(nt);
    inits.set(fresh, nt);
    return fresh;
  };
  const scalableConv = (n: onnx.NodeProto | undefined) =>
    n && n.opType === 'Conv' && isDefaultDomain(n.domain) && inits.get(n.input?.[1] ?? '')?.dataType === DataType.FLOAT
    && (!n.input?.[2] || inits.get(n.input[2])?.dataType === DataType.FLOAT) && (readers.get(n.output?.[0] ?? '') ?? 0) === 1;
  const extra = new Map<onnx.NodeProto, onnx.NodeProto[]>();
  for (const { conv, cat, factors, channels } of scaled) {
    const catInputs = [...(cat.input ?? [])];
    const before: onnx.NodeProto[] = [];
    extra.set(cat, before);
    const mulled: string[] = [];
    for (const [t, f] of Object.entries(factors)) {
      // Make t × f: in its producer Conv (possibly behind a Relu) when the Concat is its only reader, else with a Mul.
      // Walk back through single-reader ops that commute with a positive factor (Relu, nearest/linear Resize, MaxPool).
      let at = t;
      let made = producer.get(at);
      while ((readers.get(at) ?? 0) === 1 && made && isDefaultDomain(made.domain) && COMMUTES.has(made.opType ?? '')) {
        at = made.input?.[0] ?? '';
        made = producer.get(at);
      }
      const target = (readers.get(at) ?? 0) === 1 && scalableConv(made) ? made : undefined;
      if (target) {
        const ins = [...(target.input ?? [])] as string[];
        ins[1] = replaceInit(ins[1], (v) => v.map((x) => x * f));
        if (ins[2]) ins[2] = replaceInit(ins[2], (v) => v.map((x) => x * f));
        target.input = ins;
      } else {
        const fName = names.uniqueName(`${t}_equalize_factor`);
        graph.initializer.push(onnx.TensorProto.create({ name: fName, dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(f).buffer) }));
        const y = names.uniqueName(`${t}_equalized`);
        before.push(onnx.NodeProto.create({ opType: 'Mul', name: names.uniqueName(`${t}/equalize`), input: [t, fName], output: [y] }));
        catInputs[catInputs.indexOf(t)] = y;
        mulled.push(t);
      }
    }
    // The Conv's weights for the scaled channels, divided by the same factor (offsets in the Concat's original order).
    let off = 0;
    const ranges: Array<[number, number, number]> = [];
    for (const t of cat.input ?? []) {
      const c = channels.get(t) ?? 0;
      if (factors[t]) ranges.push([off, off + c, factors[t]]);
      off += c;
    }
    // onnxruntime's int8 Conv is much slower on an input channel count that is not a multiple of 4 (gray-s25's
    // 64 + 16 + 1 = 81: 20 ms vs 13 ms for 84 at 256²): a Mul-scaled input gets zero channels appended by a Pad,
    // and the Conv zero weights for them.
    const padded = off % 4 && mulled.length ? mulled.reduce((a, b) => ((channels.get(b) ?? 0) < (channels.get(a) ?? 0) ? b : a)) : undefined;
    const pad = padded ? 4 - (off % 4) : 0;
    let padAt = off;
    if (padded) {
      const i = (cat.input ?? []).indexOf(padded);
      padAt = (cat.input ?? []).slice(0, i + 1).reduce((a, t) => a + (channels.get(t) ?? 0), 0);
      const pads = names.uniqueName(`${padded}_channel_pads`);
      const raw = new Uint8Array(64);
      new DataView(raw.buffer).setBigInt64(5 * 8, BigInt(pad), true);
      graph.initializer.push(onnx.TensorProto.create({ name: pads, dims: [8], dataType: DataType.INT64, rawData: raw }));
      const y = names.uniqueName(`${padded}_channel_padded`);
      before.push(onnx.NodeProto.create({ opType: 'Pad', name: names.uniqueName(`${padded}/channel_pad`), input: [catInputs[i], pads], output: [y] }));
      catInputs[i] = y;
    }
    cat.input = catInputs;
    const convInputs = [...(conv.input ?? [])] as string[];
    convInputs[1] = replaceInit(convInputs[1], (v, dims) => {
      const [cout, cin, ...k] = dims;
      const kk = k.reduce((a, d) => a * d, 1);
      const w = Float32Array.from(v);
      for (let o = 0; o < cout; o++) for (const [a, b, f] of ranges) for (let c = a; c < b; c++) for (let j = 0; j < kk; j++) w[(o * cin + c) * kk + j] /= f;
      if (!pad) return w;
      dims.splice(1, 1, cin + pad);
      const out = new Float32Array(cout * (cin + pad) * kk);
      for (let o = 0; o < cout; o++) {
        out.set(w.subarray(o * cin * kk, (o * cin + padAt) * kk), o * (cin + pad) * kk);
        out.set(w.subarray((o * cin + padAt) * kk, (o + 1) * cin * kk), (o * (cin + pad) + padAt + pad) * kk);
      }
      return out;
    });
    conv.input = convInputs;
  }
  // The Muls (and Pads) go right before their Concat.
  for (const [cat, before] of extra) graph.node.splice(graph.node.indexOf(cat), 0, ...before);
}

/** Ops with f·op(x) = op(f·x) for f > 0 on their first input (the others are sizes or scales). */
const COMMUTES = new Set(['Relu', 'Resize', 'Upsample', 'MaxPool']);

