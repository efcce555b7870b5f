/**
 * The exporter layouts the architecture builders emit: torchvision (opset 17, `/features/features.0/Conv`
 * names, weights behind Identity), timm (opset 17, the legacy torch exporter's numeric tensor names, plain
 * initializers), tf2onnx (NHWC input transposed to NCHW, explicit Pad before strided convs,
 * `StatefulPartitionedCall/model/...:0` names) and Caffe2 / model zoo (opset 9, unfolded
 * BatchNormalization, `Sum` residuals, Softmax head, initializers also listed as graph inputs).
 * Shared by bench/architectures.ts and the detection tests (test/pretrained/architectures.test.ts).
 */
import { GraphBuilder, floatAttr, type AttrValue } from '../../src/onnx/builder';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import type { onnx } from '../../src/onnx/proto';
import { createRng, type Rng } from '../../src/random';

export type Layout = 'torchvision' | 'timm' | 'tf2onnx' | 'caffe2';
export const LAYOUTS: readonly Layout[] = Object.freeze(['torchvision', 'timm', 'tf2onnx', 'caffe2']);
/** The default-domain opset each layout's exporter writes. */
export const LAYOUT_OPSET: Readonly<Record<Layout, number>> = Object.freeze({ torchvision: 17, timm: 17, tf2onnx: 17, caffe2: 9 });

export type Activation = 'relu' | 'relu6' | 'hswish' | 'hsigmoid' | 'sigmoid' | 'swish' | 'gelu';

/** Expected stage (tap) of an architecture: what detection and `taps: auto` should report. */
export interface ExpectedTap {
  channels: number;
  stride: number;
}

/** A built architecture and what detection should find in it. */
export interface ArchModel {
  /** e.g. 'mobilenet_v2'. */
  name: string;
  layout: Layout;
  model: onnx.ModelProto;
  input: string;
  /** Input dims of a 1-image batch in this layout (NHWC for tf2onnx). */
  inputDims: number[];
  family: string;
  /** Stage name → channels and stride, in graph order. */
  stages: Array<ExpectedTap & { name: string }>;
  /** `taps: auto`: one entry per spatial stride, shallow to deep. */
  auto: ExpectedTap[];
}

/** Options for {@link ArchBuilder.conv}. */
export interface ConvOptions {
  out: number;
  k?: number;
  s?: number;
  group?: number;
  /** Unfolded BatchNormalization after the conv (Caffe2 only; the other exporters fold it into the conv). */
  bn?: boolean;
  act?: Activation;
  /** Scales the He-uniform weights: < 1 on the last conv of a residual branch keeps deep random nets' activations O(1), as BN does in trained ones. */
  gain?: number;
}

const TF_OP: Record<string, string> = {
  Conv: 'Conv2D', Relu: 'Relu', Add: 'add', Sum: 'add', MaxPool: 'MaxPool', AveragePool: 'AvgPool', Concat: 'concat',
  Mul: 'mul', Sigmoid: 'Sigmoid', Pad: 'Pad', GlobalAveragePool: 'Mean', Flatten: 'Reshape', Gemm: 'MatMul', Clip: 'Relu6',
};

/**
 * A GraphBuilder that tracks channels and spatial size and names tensors, nodes and weights the way
 * one exporter does. Builders call it with a logical module path (`['features', '3', 'conv']`).
 */
export class ArchBuilder {
  readonly b = new GraphBuilder('architecture');
  readonly opset: number;
  readonly input: string;
  private readonly rng: Rng;
  private readonly channels = new Map<string, number>();
  private readonly size = new Map<string, number>();
  private readonly taken = new Set<string>();
  private counter = 0;

  constructor(readonly layout: Layout, readonly archName: string, readonly imageSize: number, seed = 7) {
    this.opset = LAYOUT_OPSET[layout];
    this.rng = createRng(`${archName}/${layout}/${seed}`);
    this.input = { torchvision: 'input', timm: 'input.1', tf2onnx: 'input_1', caffe2: 'gpu_0/data_0' }[layout];
  }

  /** Channels of a data tensor this builder made. */
  c(t: string): number {
    const c = this.channels.get(t);
    if (c === undefined) throw new Error(`unknown tensor ${t}`);
    return c;
  }

  /** Spatial side of a data tensor. */
  hw(t: string): number {
    return this.size.get(t) ?? 0;
  }

  private track(t: string, c: number, hw: number): string {
    this.channels.set(t, c);
    this.size.set(t, hw);
    return t;
  }

  private unique(name: string): string {
    let out = name;
    for (let i = 1; this.taken.has(out); i++) out = `${name}_${i}`;
    this.taken.add(out);
    return out;
  }

  /** Node and output names of one op at `path`. */
  private names(path: readonly string[], op: string): { node: string; out: string } {
    switch (this.layout) {
      case 'torchvision': {
        const scoped = path.map((p, i) => (i === 0 ? p : `${path.slice(0, i + 1).join('.')}`));
        const node = this.unique(`/${scoped.join('/')}/${op}`);
        return { node, out: `${node}_output_0` };
      }
      case 'timm': {
        const k = this.counter++;
        return { node: this.unique(`${op}_${k}`), out: this.unique(String(100 + k)) };
      }
      case 'tf2onnx': {
        const node = this.unique(`StatefulPartitionedCall/model/${path.join('_')}/${TF_OP[op] ?? op}`);
        return { node, out: `${node}:0` };
      }
      case 'caffe2': {
        const out = this.unique(`gpu_0/${path.join('_')}_${op.toLowerCase()}`);
        return { node: out, out };
      }
    }
  }

  /** A node with one output named per layout; returns the output. */
  node(op: string, ins: string[], path: readonly string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    const { node, out } = this.names(path, op);
    this.b.addNode(op, ins, [out], attrs, node);
    return out;
  }

  /** A float weight: plain initializer, or (torchvision) read through an Identity like the legacy exporter. */
  weight(path: readonly string[], what: string, dims: number[], data: Float32Array): string {
    const base = this.layout === 'caffe2' ? `gpu_0/${path.join('_')}_${what}` : this.layout === 'tf2onnx'
      ? `StatefulPartitionedCall/model/${path.join('_')}/${what}/ReadVariableOp:0` : `${path.join('.')}.${what}`;
    const name = this.unique(base);
    this.b.addInitializer(name, dims, data);
    if (this.layout !== 'torchvision' || dims.length < 4) return name;
    const alias = this.unique(`onnx::Conv_${this.counter++}`);
    this.b.addNode('Identity', [name], [alias], {}, this.unique(`Identity_${this.counter++}`));
    return alias;
  }

  private int64(path: readonly string[], what: string, values: number[]): string {
    return this.b.addInt64Initializer(this.unique(`${path.join('_')}_${what}_const`), [values.length], values);
  }

  private scalar(path: readonly string[], what: string, v: number, dims: number[] = []): string {
    const name = this.unique(`${path.join('_')}_${what}_const`);
    this.b.addInitializer(name, dims, new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(v));
    return name;
  }

  private random(n: number, scale: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.rng.uniform() * 2 - 1) * scale;
    return out;
  }

  /** The NCHW image tensor (tf2onnx: an NHWC input and the Transpose that makes it NCHW). */
  image(): string {
    const s = this.imageSize;
    if (this.layout !== 'tf2onnx') {
      this.b.addInput(this.input, ['N', 3, s, s]);
      return this.track(this.input, 3, s);
    }
    this.b.addInput(this.input, ['N', s, s, 3]);
    const out = 'Transpose__6:0';
    this.b.addNode('Transpose', [this.input], [out], { perm: [0, 3, 1, 2] }, 'Transpose__6');
    return this.track(out, 3, s);
  }

  /** Conv (He-scaled seeded weights, bias), optional unfolded BN (Caffe2) and activation. "Same" padding. */
  conv(x: string, path: readonly string[], o: ConvOptions): string {
    const cin = this.c(x);
    const k = o.k ?? 1;
    const s = o.s ?? 1;
    const group = o.group ?? 1;
    const w = this.weight(path, 'weight', [o.out, cin / group, k, k], this.random((o.out * cin * k * k) / group, (o.gain ?? 1) * Math.sqrt(6 / ((cin / group) * k * k))));
    const bias = this.weight(path, 'bias', [o.out], this.random(o.out, 0.1));
    // "Same" padding for odd kernels; even kernels (patchify stems, 2×2 downsampling) are unpadded.
    const p = k % 2 ? (k - 1) / 2 : 0;
    let src = x;
    let pads = [p, p, p, p];
    if (this.layout === 'tf2onnx' && k % 2 && s > 1) {
      // tf2onnx writes TF's asymmetric "same" padding of strided convs as its own Pad node.
      const before = Math.floor(Math.max(0, k - s) / 2);
      const after = Math.max(0, k - s) - before;
      src = this.node('Pad', [x, this.int64(path, 'pads', [0, 0, before, before, 0, 0, after, after])], [...path, 'pad'], { mode: 'constant' });
      this.track(src, cin, this.hw(x) + before + after);
      pads = [0, 0, 0, 0];
    }
    const hwIn = this.hw(src);
    const hwOut = Math.floor((hwIn + pads[0] + pads[2] - k) / s) + 1;
    let y = this.node('Conv', [src, w, bias], path, { kernel_shape: [k, k], strides: [s, s], pads, group, dilations: [1, 1] });
    this.track(y, o.out, hwOut);
    if (o.bn && this.layout === 'caffe2') y = this.batchNorm(y, path);
    return o.act ? this.act(y, [...path, 'act'], o.act) : y;
  }

  /** An unfolded BatchNormalization with seeded statistics. */
  batchNorm(x: string, path: readonly string[]): string {
    const c = this.c(x);
    const p = [...path, 'bn'];
    const ins = [
      x,
      this.weight(p, 'scale', [c], this.random(c, 0.2).map((v) => 1 + v)),
      this.weight(p, 'bias', [c], this.random(c, 0.1)),
      this.weight(p, 'mean', [c], this.random(c, 0.1)),
      this.weight(p, 'var', [c], this.random(c, 0.2).map((v) => 1 + v)),
    ];
    return this.track(this.node('BatchNormalization', ins, p, { epsilon: floatAttr(1e-5) }), c, this.hw(x));
  }

  /** Local response normalization (GoogLeNet's Caffe model). */
  lrn(x: string, path: readonly string[]): string {
    const attrs = { size: 5, alpha: floatAttr(1e-4), beta: floatAttr(0.75), bias: floatAttr(1) };
    return this.track(this.node('LRN', [x], path, attrs), this.c(x), this.hw(x));
  }

  /** ConvNeXt's layer scale: a per-channel Mul by a [C,1,1] weight. */
  layerScale(x: string, path: readonly string[]): string {
    const c = this.c(x);
    return this.mul(x, this.weight(path, 'gamma', [c, 1, 1], this.random(c, 0.5).map((v) => 1 + v)), path);
  }

  /** An activation, spelled the way this layout's opset allows. */
  act(x: string, path: readonly string[], kind: Activation): string {
    const c = this.c(x);
    const hw = this.hw(x);
    const keep = (t: string) => this.track(t, c, hw);
    switch (kind) {
      case 'relu':
        return keep(this.node('Relu', [x], path));
      case 'relu6':
        return keep(this.opset < 11
          ? this.node('Clip', [x], path, { min: floatAttr(0), max: floatAttr(6) })
          : this.node('Clip', [x, this.scalar(path, 'min', 0), this.scalar(path, 'max', 6)], path));
      case 'sigmoid':
        return keep(this.node('Sigmoid', [x], path));
      case 'hsigmoid':
        return keep(this.node('HardSigmoid', [x], path, { alpha: floatAttr(1 / 6), beta: floatAttr(0.5) }));
      case 'hswish':
        if (this.opset >= 14) return keep(this.node('HardSwish', [x], path));
        return keep(this.node('Mul', [x, this.act(x, [...path, 'gate'], 'hsigmoid')], path));
      case 'swish':
        return keep(this.node('Mul', [x, this.act(x, [...path, 'gate'], 'sigmoid')], path));
      case 'gelu': {
        // GELU as torch exports it before opset 20: x · ½(1 + erf(x / √2)).
        const e = this.node('Erf', [this.node('Div', [x, this.scalar(path, 'sqrt2', Math.SQRT2)], [...path, 'div'])], path);
        const half = this.node('Mul', [this.node('Add', [e, this.scalar(path, 'one', 1)], [...path, 'add']), this.scalar(path, 'half', 0.5)], [...path, 'half']);
        return keep(this.node('Mul', [x, half], path));
      }
    }
  }

  /** Residual sum: Add, or Sum in Caffe2 exports. */
  add(a: string, b: string, path: readonly string[]): string {
    return this.track(this.node(this.layout === 'caffe2' ? 'Sum' : 'Add', [a, b], path), this.c(a), this.hw(a));
  }

  /** Element-wise product (SE gates broadcast a [N,C,1,1] tensor). */
  mul(a: string, gate: string, path: readonly string[]): string {
    return this.track(this.node('Mul', [a, gate], path), this.c(a), this.hw(a));
  }

  concat(xs: string[], path: readonly string[]): string {
    return this.track(this.node('Concat', xs, path, { axis: 1 }), xs.reduce((a, t) => a + this.c(t), 0), this.hw(xs[0]));
  }

  maxPool(x: string, path: readonly string[], k: number, s: number, pad = 0, ceil = false): string {
    const hw = this.hw(x) + 2 * pad - k;
    const out = (ceil ? Math.ceil(hw / s) : Math.floor(hw / s)) + 1;
    const attrs: Record<string, AttrValue | undefined> = { kernel_shape: [k, k], strides: [s, s], pads: [pad, pad, pad, pad] };
    // ceil_mode arrived in opset 10; opset-9 exporters pad the end instead (max pooling ignores the padding).
    const extra = ceil ? (s - (hw % s)) % s : 0;
    if (ceil && this.opset >= 10) attrs.ceil_mode = 1;
    else if (extra) attrs.pads = [pad, pad, pad + extra, pad + extra];
    return this.track(this.node('MaxPool', [x], path, attrs), this.c(x), out);
  }

  avgPool(x: string, path: readonly string[], k: number, s: number): string {
    return this.track(this.node('AveragePool', [x], path, { kernel_shape: [k, k], strides: [s, s] }), this.c(x), Math.floor((this.hw(x) - k) / s) + 1);
  }

  /** Global average pool, kept 4-D ([N,C,1,1]), for SE blocks and heads. */
  globalPool(x: string, path: readonly string[]): string {
    return this.track(this.node('GlobalAveragePool', [x], path), this.c(x), 1);
  }

  /** Channel LayerNorm of an NCHW tensor (ConvNeXt's LayerNorm2d): Transpose-LN-Transpose, decomposed before opset 17. */
  layerNorm2d(x: string, path: readonly string[]): string {
    const c = this.c(x);
    const gamma = this.random(c, 0.2).map((v) => 1 + v);
    const beta = this.random(c, 0.1);
    if (this.opset >= 17) {
      const nhwc = this.node('Transpose', [x], [...path, 'permute'], { perm: [0, 2, 3, 1] });
      const ln = this.node('LayerNormalization', [nhwc, this.weight(path, 'weight', [c], gamma), this.weight(path, 'bias', [c], beta)], path, { axis: -1, epsilon: floatAttr(1e-6) });
      return this.track(this.node('Transpose', [ln], [...path, 'permute_back'], { perm: [0, 3, 1, 2] }), c, this.hw(x));
    }
    const mean = this.node('ReduceMean', [x], [...path, 'mean'], { axes: [1], keepdims: 1 });
    const d = this.node('Sub', [x, mean], [...path, 'sub']);
    const v = this.node('ReduceMean', [this.node('Mul', [d, d], [...path, 'sq'])], [...path, 'var'], { axes: [1], keepdims: 1 });
    const std = this.node('Sqrt', [this.node('Add', [v, this.scalar(path, 'eps', 1e-6)], [...path, 'eps'])], [...path, 'sqrt']);
    const n = this.node('Div', [d, std], [...path, 'div']);
    const scaled = this.node('Mul', [n, this.weight(path, 'weight', [c, 1, 1], gamma)], [...path, 'scale']);
    return this.track(this.node('Add', [scaled, this.weight(path, 'bias', [c, 1, 1], beta)], [...path, 'shift']), c, this.hw(x));
  }

  /** Channels [from, to) of an NCHW tensor (ShuffleNet v2's channel split). */
  channelSlice(x: string, path: readonly string[], from: number, to: number): string {
    const t = this.opset >= 10
      ? this.node('Slice', [x, this.int64(path, 'starts', [from]), this.int64(path, 'ends', [to]), this.int64(path, 'axes', [1])], path)
      : this.node('Slice', [x], path, { starts: [from], ends: [to], axes: [1] });
    return this.track(t, to - from, this.hw(x));
  }

  /** Halves along channels: torchvision's `chunk(2, dim=1)` exports a Split; the other layouts slice. */
  channelSplit(x: string, path: readonly string[]): [string, string] {
    const c = this.c(x);
    if (this.layout !== 'torchvision') return [this.channelSlice(x, [...path, '0'], 0, c / 2), this.channelSlice(x, [...path, '1'], c / 2, c)];
    const { node, out } = this.names(path, 'Split');
    const outs = [`${out}_a`, `${out}_b`];
    const split = this.opset >= 13 ? [x, this.int64(path, 'split', [c / 2, c / 2])] : [x];
    this.b.addNode('Split', split, outs, this.opset >= 13 ? { axis: 1 } : { axis: 1, split: [c / 2, c / 2] }, node);
    return [this.track(outs[0], c / 2, this.hw(x)), this.track(outs[1], c / 2, this.hw(x))];
  }

  /** ShuffleNet's channel shuffle: Reshape to [N,g,C/g,H,W], swap axes 1 and 2, Reshape back. */
  channelShuffle(x: string, path: readonly string[], groups: number): string {
    const c = this.c(x);
    const hw = this.hw(x);
    const reshape = (t: string, shape: number[], what: string) => this.opset >= 5
      ? this.node('Reshape', [t, this.int64(path, what, shape)], [...path, what])
      : this.node('Reshape', [t], [...path, what], { shape });
    const split = reshape(x, [0, groups, c / groups, hw, hw], 'view');
    const swapped = this.node('Transpose', [split], [...path, 'transpose'], { perm: [0, 2, 1, 3, 4] });
    return this.track(reshape(swapped, [0, c, hw, hw], 'flatten'), c, hw);
  }

  /** Classifier head: global pool, flatten, Gemm (and Softmax in Caffe2 exports); the graph output. */
  head(x: string, classes = 10): void {
    const pooled = this.globalPool(x, ['avgpool']);
    const flat = this.node('Flatten', [pooled], ['flatten'], { axis: 1 });
    const c = this.c(x);
    const w = this.weight(['fc'], 'weight', [classes, c], this.random(classes * c, Math.sqrt(3 / c)));
    const bias = this.weight(['fc'], 'bias', [classes], this.random(classes, 0.1));
    let y = this.node('Gemm', [flat, w, bias], ['fc'], { transB: 1, alpha: floatAttr(1), beta: floatAttr(1) });
    if (this.layout === 'caffe2') y = this.node('Softmax', [y], ['softmax'], { axis: 1 });
    this.b.addOutput(y, ['N', classes]);
  }

  /** The finished model. */
  build(): onnx.ModelProto {
    const model = this.b.toModel({ opset: this.opset, irVersion: this.layout === 'caffe2' ? 4 : 8, producerName: `synthetic-${this.layout}` });
    // Caffe2-era files (IR < 4 style) also list every initializer as a graph input.
    const graph = model.graph;
    if (this.layout === 'caffe2' && graph) {
      graph.input = [...(graph.input ?? []), ...this.b.initializers.map((t) => makeValueInfo(t.name ?? '', (t.dims ?? []).map(Number), t.dataType ?? undefined))];
    }
    return model;
  }

  /** Input dims of one image. */
  inputDims(): number[] {
    const s = this.imageSize;
    return this.layout === 'tf2onnx' ? [1, s, s, 3] : [1, 3, s, s];
  }
}


/** Stages as `[name, channels, stride]` rows. */
export function stageRows(rows: Array<[string, number, number]>): Array<ExpectedTap & { name: string }> {
  return rows.map(([name, channels, stride]) => ({ name, channels, stride }));
}

/** `taps: auto` expectations as `[channels, stride]` rows. */
export function autoRows(rows: Array<[number, number]>): ExpectedTap[] {
  return rows.map(([channels, stride]) => ({ channels, stride }));
}

/** Wraps a finished builder with its expectations. */
export function finish(
  a: ArchBuilder, family: string, stages: Array<ExpectedTap & { name: string }>, auto: ExpectedTap[],
): ArchModel {
  return { name: a.archName, layout: a.layout, model: a.build(), input: a.input, inputDims: a.inputDims(), family, stages, auto };
}
