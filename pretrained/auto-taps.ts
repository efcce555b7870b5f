/**
 * `encoder.taps: auto`: for any CNN, the last tensor at each spatial stride on the main path, found
 * from graph structure only. The main path is the chain of dominators of the graph outputs in the
 * data-flow graph (tensors every path from the image to the outputs goes through), so a tensor inside
 * a residual, inception or dense branch is never picked; the non-spatial tail (global pool, flatten,
 * Gemm, softmax, and a 1×1 conv classifier right before a global pool) is skipped.
 */
import type { ModelProto } from '../src/onnx/proto';
import { GraphIndex, imageInput } from './detect';

/** One automatically chosen tap. */
export interface AutoTap {
  tensor: string;
  channels: number;
  /** Downsampling factor relative to the input. */
  stride: number;
}

const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'ReduceMean', 'ReduceMax']);
const ELEMENTWISE_ACTIVATIONS = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'HardSwish', 'Dropout', 'Identity',
]);
const CONVS = new Set(['Conv', 'ConvInteger', 'QLinearConv']);

/**
 * The main path of a graph: the dominators of its deepest data output (by dominator-tree depth),
 * from the image input to it (each tensor is one that every later tensor on the way depends on).
 * @returns tensor names in data-flow order; just the input when the outputs share no other tensor.
 */
export function mainPath(g: GraphIndex): string[] {
  const idom = new Map<string, string>();
  const depth = new Map<string, number>([[g.input, 0]]);
  const lca = (a: string, b: string): string => {
    // Bounded walk: each step moves one side closer to the input (depth strictly decreases).
    for (let guard = 0; a !== b && guard < 1_000_000; guard++) {
      const da = depth.get(a) ?? 0;
      const db = depth.get(b) ?? 0;
      if (da >= db) a = idom.get(a) ?? g.input;
      if (db >= da && a !== b) b = idom.get(b) ?? g.input;
    }
    return a;
  };
  for (const n of g.nodes) {
    const preds = [...new Set(g.dataInputs(n))].filter((p) => depth.has(p));
    if (!preds.length) continue;
    const dom = preds.reduce(lca);
    for (const o of n.output ?? []) {
      if (!o || depth.has(o)) continue;
      idom.set(o, dom);
      depth.set(o, (depth.get(dom) ?? 0) + 1);
    }
  }
  // The deepest output: an encoder that also outputs its shallow taps (or a net with auxiliary heads)
  // still has one main path, to its deepest result; outputs tied in depth share their common dominators.
  const outputs = (g.graphOutputs ?? []).filter((o) => depth.has(o));
  if (!outputs.length) return [g.input];
  const deepest = Math.max(...outputs.map((o) => depth.get(o) ?? 0));
  const sink = outputs.filter((o) => depth.get(o) === deepest).reduce(lca);
  const path: string[] = [];
  for (let t: string | undefined = sink; t !== undefined; t = t === g.input ? undefined : idom.get(t)) path.push(t);
  return path.reverse();
}

/** Tensors computed through at least one convolution (the image and its preprocessing are not taps). */
function convolved(g: GraphIndex): Set<string> {
  const out = new Set<string>();
  for (const n of g.nodes) {
    const ins = g.dataInputs(n);
    if (!ins.length || !(CONVS.has(n.opType ?? '') || ins.some((i) => out.has(i)))) continue;
    for (const o of n.output ?? []) if (o) out.add(o);
  }
  return out;
}

/**
 * Where the spatial part of the main path ends: before the first non-spatial tensor after the last
 * spatial one, and before a 1×1 conv classifier (fewer channels than it reads, then only
 * activations) that feeds a global pool, as SqueezeNet ends.
 */
function spatialEnd(g: GraphIndex, path: readonly string[], spatial: (t: string) => boolean, inputSize?: number): number {
  let end = path.length;
  while (end > 0 && !spatial(path[end - 1])) end--;
  // A fixed-size pool as large as the feature map (old Caffe2 SqueezeNets' AveragePool 13×13) is a global pool.
  const fixedGlobal = (i: number) => {
    const p = g.producer.get(path[i] ?? '');
    const pool = p && (p.opType === 'AveragePool' || p.opType === 'MaxPool');
    const k = pool ? (p.attribute ?? []).find((a) => a.name === 'kernel_shape')?.ints : undefined;
    const before = g.stage('', path[i - 1] ?? '');
    return !!k && !!inputSize && !!before && k.every((v) => Number(v) >= Math.floor(inputSize / before.stride));
  };
  for (let i = 1; i < end; i++) {
    if (fixedGlobal(i)) {
      end = i;
      break;
    }
  }
  const next = g.producer.get(path[end] ?? '');
  if (!next || !(GLOBAL_POOLS.has(next.opType ?? '') || fixedGlobal(end))) return end;
  let k = end - 1;
  while (k > 0 && ELEMENTWISE_ACTIVATIONS.has(g.producer.get(path[k])?.opType ?? '')) k--;
  const conv = g.producer.get(path[k]);
  const w = conv?.opType === 'Conv' ? (conv.attribute ?? []).find((a) => a.name === 'kernel_shape')?.ints : undefined;
  const pointwise = w ? w.every((v) => Number(v) === 1) : false;
  const cin = g.channels.get(g.dataInputs(conv ?? {})[0] ?? '');
  const cout = g.channels.get(path[k]);
  return pointwise && cin !== undefined && cout !== undefined && cout < cin ? k : end;
}

/** {@link autoTaps} on an already indexed graph. */
export function autoTapsOf(g: GraphIndex): AutoTap[] {
  const path = mainPath(g);
  const conv = convolved(g);
  // An explicit Pad (tf2onnx's "same" padding) belongs to the next layer: its input is the tap.
  const spatial = (t: string) => t !== g.input && conv.has(t) && g.producer.get(t)?.opType !== 'Pad' && g.stage('', t) !== undefined;
  const end = spatialEnd(g, path, spatial, staticSize(g.inputDims));
  const byStride = new Map<number, AutoTap>();
  for (const t of path.slice(0, end)) {
    const s = spatial(t) ? g.stage('', t) : undefined;
    if (s) byStride.set(s.stride, { tensor: t, channels: s.channels, stride: s.stride });
  }
  return [...byStride.values()].sort((a, b) => a.stride - b.stride);
}

/**
 * The taps `encoder.taps: auto` picks: for each spatial stride, the last tensor on the main path
 * (after its activation), with channels. Structural only: names are never read.
 * @param model any ONNX CNN with an NCHW image input (tf2onnx's NHWC input Transpose is fine)
 * @param opts.input the image input when the graph has several (default: the first non-initializer input)
 * @returns taps shallow to deep; empty when no convolution reaches the outputs
 */
export function autoTaps(model: ModelProto, opts: { input?: string } = {}): AutoTap[] {
  const input = opts.input ?? imageInput(model);
  return input ? autoTapsOf(new GraphIndex(model, input)) : [];
}

/** The static image height of 4-D input dims (NCHW, or NHWC when dim 3 holds 1 or 3 channels and dim 1 does not). */
function staticSize(dims: ReadonlyArray<number | string> | undefined): number | undefined {
  if (dims?.length !== 4) return undefined;
  const nhwc = (dims[3] === 1 || dims[3] === 3) && dims[1] !== 1 && dims[1] !== 3;
  const h = nhwc ? dims[1] : dims[2];
  return typeof h === 'number' && h > 0 ? h : undefined;
}
