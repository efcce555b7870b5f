/**
 * Tiny synthetic ResNet/VGG graphs for the detection tests, built with GraphBuilder in three
 * naming styles: torchvision's exporter (`/layer1/layer1.0/conv1/Conv_output_0`, weights behind
 * Identity nodes), the ONNX model zoo's MXNet exports (`resnetv17_stage1_conv0_fwd`, unfolded
 * BatchNormalization) and tf2onnx (`StatefulPartitionedCall/model/conv2_block1_1_conv/Conv2D:0`,
 * NHWC input transposed to NCHW, explicit Pad before the stem conv). Weights are seeded and tiny.
 */
import { GraphBuilder, type AttrValue } from '../../src/onnx/builder';
import type { onnx } from '../../src/onnx/proto';
import type { DetectedStage } from '../../pretrained/detect';
import { seeded } from '../onnx/fixtures';

export type NamingStyle = 'torch' | 'zoo' | 'tf';
export const NAMING_STYLES: readonly NamingStyle[] = ['torch', 'zoo', 'tf'];

type Part =
  | 'conv' | 'bn' | 'relu' | 'down' | 'down_bn' | 'add' | 'out' | 'pool' | 'pad' | 'slice' | 'preact_bn' | 'preact_relu'
  | 'post_bn' | 'post_relu';

/** Where a layer sits: stage 0 is the stem; `n` numbers layers of one kind inside a block (1-based). */
interface Loc {
  stage: number;
  block: number;
  part: Part;
  n: number;
}

const TORCH_OP: Record<string, string> = {
  Conv: 'Conv', BatchNormalization: 'BatchNormalization', Relu: 'Relu', Add: 'Add', MaxPool: 'MaxPool', Pad: 'Pad', Slice: 'Slice', Constant: 'Constant',
};
const TF_OP: Record<string, string> = {
  Conv: 'Conv2D', BatchNormalization: 'FusedBatchNormV3', Relu: 'Relu', Add: 'add', MaxPool: 'MaxPool', Pad: 'Pad', Slice: 'strided_slice', Constant: 'Const',
};

/** A synthetic model and what detection should find in it. */
export interface SyntheticModel {
  name: string;
  style: NamingStyle;
  model: onnx.ModelProto;
  input: string;
  /** Input dims for a 1×3×size×size image in this style's layout. */
  inputDims: (size: number) => number[];
  family: 'resnet' | 'vgg';
  variant: string;
  stages: DetectedStage[];
}

/** A GraphBuilder that names tensors, nodes and weights the way one exporter does. */
class Net {
  readonly b = new GraphBuilder('synthetic');
  readonly input: string;
  private seed = 1;
  private params = 0;
  private readonly counters = new Map<string, number>();
  private readonly stages: DetectedStage[] = [];
  private readonly channels = new Map<string, number>();
  private readonly taken = new Set<string>();

  /** `zooPrefix`: the MXNet model name prefix of the zoo style (resnetv17_, resnetv27_, vgg0_). */
  constructor(readonly style: NamingStyle, readonly family: 'resnet' | 'vgg', readonly zooPrefix = 'resnetv17_') {
    this.input = style === 'zoo' ? 'data' : style === 'tf' ? 'input_1' : 'input';
  }

  /** The NCHW image tensor (tf: an NHWC input transposed like tf2onnx does). */
  image(): string {
    if (this.style !== 'tf') {
      this.b.addInput(this.input, ['N', 3, 'H', 'W']);
      this.channels.set(this.input, 3);
      return this.input;
    }
    this.b.addInput(this.input, ['N', 'H', 'W', 3]);
    const out = 'Transpose__6:0';
    this.b.addNode('Transpose', [this.input], [out], { perm: [0, 3, 1, 2] }, 'Transpose__6');
    this.channels.set(out, 3);
    return out;
  }

  private count(key: string): number {
    const k = this.counters.get(key) ?? 0;
    this.counters.set(key, k + 1);
    return k;
  }

  /** Node and output names for a layer. */
  private names(loc: Loc, op: string): { node: string; out: string; base: string } {
    const { stage: s, block: blk, part, n } = loc;
    if (this.style === 'torch') {
      let node: string;
      if (this.family === 'vgg') node = `/features/features.${this.count('features')}/${TORCH_OP[op]}`;
      else if (s === 0) {
        const role: Record<string, string> = { conv: 'conv1', bn: 'bn1', relu: 'relu', pool: 'maxpool', pad: 'pad', post_bn: 'bn_final', post_relu: 'relu_final' };
        node = `/${role[part] ?? part}/${TORCH_OP[op] ?? op}`;
      }
      else {
        const p = `/layer${s}/layer${s}.${blk}`;
        const role: Record<string, string> = {
          conv: `conv${n}`, bn: `bn${n}`, relu: n > 1 ? `relu_${n - 1}` : 'relu', down: 'downsample/downsample.0',
          down_bn: 'downsample/downsample.1', out: 'relu_out', preact_bn: 'bn0', preact_relu: 'relu0',
        };
        node = part === 'add' || part === 'slice' || part === 'pad' ? `${p}/${TORCH_OP[op]}` : `${p}/${role[part]}/${TORCH_OP[op]}`;
      }
      node = this.unique(node);
      return { node, out: `${node}_output_0`, base: node };
    }
    if (this.style === 'zoo') {
      const kind: Record<string, string> = {
        conv: 'conv', down: 'conv', bn: 'batchnorm', down_bn: 'batchnorm', preact_bn: 'batchnorm', post_bn: 'batchnorm',
        relu: 'relu', preact_relu: 'relu', post_relu: 'relu',
        out: 'activation', pool: 'pool', pad: 'pad', slice: 'slice', add: '_plus',
      };
      const k = kind[part] ?? part;
      const scope = this.family === 'vgg' || s === 0 ? this.zooPrefix : `${this.zooPrefix}stage${s}_`;
      const idx = this.count(`${scope}${k}`);
      const base = `${scope}${k}${idx}`;
      const node = part === 'add' || part === 'out' ? base : `${base}_fwd`;
      return { node, out: node, base };
    }
    let layer: string;
    if (this.family === 'vgg') {
      layer = { conv: `block${s}_conv${n}`, relu: `block${s}_conv${n}`, bn: `block${s}_bn${n}`, pool: `block${s}_pool` }[part as string] ?? part;
    } else if (s === 0) {
      const stemLayers: Record<string, string> = {
        pad: 'conv1_pad', conv: 'conv1_conv', bn: 'conv1_bn', relu: 'conv1_relu', pool: 'pool1_pool', post_bn: 'post_bn', post_relu: 'post_relu',
      };
      layer = stemLayers[part] ?? part;
    } else {
      const base = `conv${s + 1}_block${blk + 1}`;
      layer = {
        conv: `${base}_${n}_conv`, bn: `${base}_${n}_bn`, relu: `${base}_${n}_relu`, down: `${base}_0_conv`, down_bn: `${base}_0_bn`,
        add: `${base}_add`, out: `${base}_out`, preact_bn: `${base}_preact_bn`, preact_relu: `${base}_preact_relu`, slice: `${base}_0_slice`, pad: `${base}_0_pad`,
      }[part as string] ?? part;
    }
    const node = this.unique(`StatefulPartitionedCall/model/${layer}/${TF_OP[op] ?? op}`);
    return { node, out: `${node}:0`, base: `StatefulPartitionedCall/model/${layer}` };
  }

  /** Adds a node under exactly `name` (MXNet exports name a node like its output, which GraphBuilder would suffix). */
  private node(op: string, ins: string[], outs: string[], attrs: Record<string, AttrValue>, name: string): void {
    this.b.addNode(op, ins, outs, attrs).name = name;
  }

  /** `name`, or `name_1`, `name_2`… if taken (like the torch exporter's `Relu_1`). */
  private unique(name: string): string {
    let out = name;
    for (let i = 1; this.taken.has(out); i++) out = `${name}_${i}`;
    this.taken.add(out);
    return out;
  }

  /** A weight initializer named per style; torch routes it through an Identity node like the legacy exporter. */
  private param(base: string, kind: string, dims: number[], data: Float32Array): string {
    if (this.style === 'zoo') return this.b.addInitializer(`${base}_${kind}`, dims, data);
    if (this.style === 'tf') {
      return this.b.addInitializer(kind === 'weight' ? `const_fold_opt__${this.params++}` : `${base}/${kind}/ReadVariableOp:0`, dims, data);
    }
    const init = this.b.addInitializer(`onnx::Conv_${this.params++}`, dims, data);
    if (kind !== 'weight') return init;
    const alias = `onnx::Conv_${this.params++}`;
    this.b.addNode('Identity', [init], [alias], {}, `Identity_${this.params}`);
    return alias;
  }

  private values(n: number, scale: number, offset = 0): Float32Array {
    const v = seeded(n, this.seed++);
    for (let i = 0; i < n; i++) v[i] = offset + v[i] * scale;
    return v;
  }

  private ch(x: string): number {
    const c = this.channels.get(x);
    if (c === undefined) throw new Error(`unknown channels of ${x}`);
    return c;
  }

  conv(x: string, cout: number, loc: Loc, opts: { k?: number; s?: number; pad?: number } = {}): string {
    const k = opts.k ?? 3;
    const cin = this.ch(x);
    const { node, out, base } = this.names(loc, 'Conv');
    const w = this.param(base, 'weight', [cout, cin, k, k], this.values(cout * cin * k * k, 1 / Math.sqrt(cin * k * k)));
    const bias = this.param(base, 'bias', [cout], this.values(cout, 0.1));
    const p = opts.pad ?? (k - 1) / 2;
    this.node('Conv', [x, w, bias], [out], { kernel_shape: [k, k], strides: [opts.s ?? 1, opts.s ?? 1], pads: [p, p, p, p] }, node);
    this.channels.set(out, cout);
    return out;
  }

  bn(x: string, loc: Loc): string {
    const c = this.ch(x);
    const { node, out, base } = this.names(loc, 'BatchNormalization');
    const ins = [
      this.param(base, 'gamma', [c], this.values(c, 0.1, 1)),
      this.param(base, 'beta', [c], this.values(c, 0.1)),
      this.param(base, 'running_mean', [c], this.values(c, 0.1)),
      this.param(base, 'running_var', [c], this.values(c, 0.1, 1)),
    ];
    this.node('BatchNormalization', [x, ...ins], [out], {}, node);
    this.channels.set(out, c);
    return out;
  }

  relu(x: string, loc: Loc): string {
    const { node, out } = this.names(loc, 'Relu');
    this.node('Relu', [x], [out], {}, node);
    this.channels.set(out, this.ch(x));
    return out;
  }

  add(a: string, b: string, loc: Loc): string {
    const { node, out } = this.names(loc, 'Add');
    this.node('Add', [a, b], [out], {}, node);
    this.channels.set(out, Math.max(this.ch(a), this.ch(b)));
    return out;
  }

  maxpool(x: string, loc: Loc, k = 2, s = 2, p = 0): string {
    const { node, out } = this.names(loc, 'MaxPool');
    this.node('MaxPool', [x], [out], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] }, node);
    this.channels.set(out, this.ch(x));
    return out;
  }

  /** Spatial zero padding (Keras ZeroPadding2D before a 'valid' conv). */
  pad(x: string, p: number, loc: Loc): string {
    const { node, out, base } = this.names(loc, 'Pad');
    const pads = this.b.addInt64Initializer(`${base}/paddings:0`, [8], [0, 0, p, p, 0, 0, p, p]);
    this.node('Pad', [x, pads], [out], {}, node);
    this.channels.set(out, this.ch(x));
    return out;
  }

  /** ResNet "option A" shortcut: x[:, :, ::2, ::2] and zero channels appended, with Constant nodes for the indices. */
  optionA(x: string, cout: number, loc: Loc): string {
    const cin = this.ch(x);
    const konst = (values: number[]) => {
      const name = `${this.names(loc, 'Constant').node}_value`;
      this.b.addNode('Constant', [], [name], { value: int64(name, values) });
      return name;
    };
    let t = x;
    for (const axis of [2, 3]) {
      const { node, out } = this.names(loc, 'Slice');
      this.node('Slice', [t, konst([0]), konst([2 ** 31 - 1]), konst([axis]), konst([2])], [out], {}, node);
      t = out;
    }
    const { node, out } = this.names({ ...loc, part: 'pad' }, 'Pad');
    const extra = cout - cin;
    this.node('Pad', [t, konst([0, extra / 2, 0, 0, 0, extra - extra / 2, 0, 0])], [out], {}, node);
    this.channels.set(out, cout);
    return out;
  }

  /** GlobalAveragePool → Flatten → Gemm (a classifier head detection must ignore). */
  head(x: string, classes = 5): string {
    const c = this.ch(x);
    this.b.addNode('GlobalAveragePool', [x], ['pooled']);
    this.b.addNode('Flatten', ['pooled'], ['flat'], { axis: 1 });
    const w = this.b.addInitializer('fc.weight', [classes, c], this.values(classes * c, 0.3));
    const bias = this.b.addInitializer('fc.bias', [classes], this.values(classes, 0.1));
    this.b.addNode('Gemm', ['flat', w, bias], ['logits'], { transB: 1 });
    this.b.addOutput('logits', ['N', classes]);
    return 'logits';
  }

  /** Records what detection should report for `tensor`. */
  expect(name: string, tensor: string, stride: number): void {
    this.stages.push({ name, tensor, channels: this.ch(tensor), stride });
  }

  finish(name: string, variant: string): SyntheticModel {
    const nhwc = this.style === 'tf';
    return {
      name: `${name} (${this.style})`,
      style: this.style,
      model: this.b.toModel({ opset: 17, producerName: { torch: 'pytorch', zoo: 'mxnet', tf: 'tf2onnx' }[this.style] }),
      input: this.input,
      inputDims: (size) => (nhwc ? [1, size, size, 3] : [1, 3, size, size]),
      family: this.family,
      variant,
      stages: this.stages,
    };
  }
}

function int64(name: string, values: number[]): onnx.TensorProto {
  const b = new GraphBuilder();
  b.addInt64Initializer(name, [values.length], values);
  return b.initializers[0];
}

const at = (stage: number, block: number, part: Part, n = 1): Loc => ({ stage, block, part, n });

/** conv(s=1) → [BN] → ReLU → [MaxPool /2]; the tf style pads explicitly before a 'valid' conv. */
function stem(net: Net, x: string, width: number, opts: { bn: boolean; pool: boolean; s?: number }): string {
  let t = x;
  if (net.style === 'tf') t = net.conv(net.pad(t, 1, at(0, 0, 'pad')), width, at(0, 0, 'conv'), { s: opts.s, pad: 0 });
  else t = net.conv(t, width, at(0, 0, 'conv'), { s: opts.s });
  if (opts.bn) t = net.bn(t, at(0, 0, 'bn'));
  t = net.relu(t, at(0, 0, 'relu'));
  return opts.pool ? net.maxpool(t, at(0, 0, 'pool'), 3, 2, 1) : t;
}

type Shortcut = 'identity' | 'projection' | 'optionA';

/** A post-activation (v1) block: 2 (basic) or 3 (bottleneck) convs, Add, ReLU. */
function v1Block(net: Net, x: string, s: number, blk: number, width: number, out: number, stride: number, shortcut: Shortcut, opts: { bn: boolean; bottleneck: boolean }): string {
  const convs = opts.bottleneck ? [[width, 1, 1], [width, 3, stride], [out, 1, 1]] : [[out, 3, stride], [out, 3, 1]];
  let t = x;
  convs.forEach(([c, k, st], i) => {
    t = net.conv(t, c, at(s, blk, 'conv', i + 1), { k, s: st });
    if (opts.bn) t = net.bn(t, at(s, blk, 'bn', i + 1));
    if (i < convs.length - 1) t = net.relu(t, at(s, blk, 'relu', i + 1));
  });
  let skip = x;
  if (shortcut === 'projection') {
    skip = net.conv(x, out, at(s, blk, 'down'), { k: 1, s: stride });
    if (opts.bn) skip = net.bn(skip, at(s, blk, 'down_bn'));
  } else if (shortcut === 'optionA') {
    skip = net.optionA(x, out, at(s, blk, 'slice'));
  }
  return net.relu(net.add(t, skip, at(s, blk, 'add')), at(s, blk, 'out'));
}

/** A pre-activation (v2) basic block: BN-ReLU-conv-BN-ReLU-conv, Add; a projection reads the pre-activated input. */
function v2Block(net: Net, x: string, s: number, blk: number, out: number, stride: number, project: boolean): string {
  const pre = net.relu(net.bn(x, at(s, blk, 'preact_bn')), at(s, blk, 'preact_relu'));
  let t = net.conv(pre, out, at(s, blk, 'conv', 1), { s: stride });
  t = net.relu(net.bn(t, at(s, blk, 'bn', 1)), at(s, blk, 'relu', 1));
  t = net.conv(t, out, at(s, blk, 'conv', 2));
  const skip = project ? net.conv(pre, out, at(s, blk, 'down'), { k: 1, s: stride }) : x;
  return net.add(t, skip, at(s, blk, 'add'));
}

/** Basic blocks, 2 stages (8 → 16 channels), stem with max pool, projection shortcut. */
export function basicResnet(style: NamingStyle): SyntheticModel {
  const net = new Net(style, 'resnet');
  const bn = style === 'zoo';
  let x = stem(net, net.image(), 8, { bn, pool: true });
  net.expect('stem', x, 2);
  for (const [s, width, stride] of [[1, 8, 1], [2, 16, 2]]) {
    for (let blk = 0; blk < 2; blk++) {
      const first = blk === 0 && stride !== 1;
      x = v1Block(net, x, s, blk, width, width, first ? stride : 1, first ? 'projection' : 'identity', { bn, bottleneck: false });
    }
    net.expect(`layer${s}`, x, 2 * stride);
  }
  net.head(x);
  return net.finish('basic-block resnet', 'resnet (basic blocks, 2 stages)');
}

/** Bottleneck blocks (1×1, 3×3, 1×1; expansion 2), 2 stages of 2 and 3 blocks, stride on the 3×3. */
export function bottleneckResnet(style: NamingStyle): SyntheticModel {
  const net = new Net(style, 'resnet');
  const bn = style !== 'torch';
  let x = stem(net, net.image(), 8, { bn, pool: true, s: 2 });
  net.expect('stem', x, 4);
  for (const [s, width, blocks, stride] of [[1, 4, 2, 1], [2, 8, 3, 2]]) {
    for (let blk = 0; blk < blocks; blk++) {
      x = v1Block(net, x, s, blk, width, width * 2, blk === 0 ? stride : 1, blk === 0 ? 'projection' : 'identity', { bn, bottleneck: true });
    }
    net.expect(`layer${s}`, x, 4 * stride);
  }
  net.head(x);
  return net.finish('bottleneck resnet', 'resnet (bottleneck blocks, 2 stages)');
}

/** Pre-activation (v2) basic blocks; every stage starts with a projection, so the stem is found behind BN-ReLU. */
export function preactResnet(style: NamingStyle): SyntheticModel {
  const net = new Net(style, 'resnet', 'resnetv27_');
  let x = stem(net, net.image(), 8, { bn: true, pool: true });
  net.expect('stem', x, 2);
  for (const [s, width, stride] of [[1, 12, 1], [2, 24, 2]]) {
    for (let blk = 0; blk < 2; blk++) x = v2Block(net, x, s, blk, width, blk === 0 ? stride : 1, blk === 0);
    net.expect(`layer${s}`, x, 2 * stride);
  }
  x = net.relu(net.bn(x, at(0, 0, 'post_bn')), at(0, 0, 'post_relu'));
  net.head(x);
  return net.finish('pre-activation resnet', 'resnet v2 (pre-activation, basic blocks, 2 stages)');
}

/** CIFAR-style resnet (like resnet20): no max pool, 3 stages 8/16/32, option A shortcuts. */
export function optionAResnet(style: NamingStyle): SyntheticModel {
  const net = new Net(style, 'resnet');
  let x = stem(net, net.image(), 8, { bn: false, pool: false });
  net.expect('stem', x, 1);
  for (const [s, width, stride] of [[1, 8, 1], [2, 16, 2], [3, 32, 2]]) {
    for (let blk = 0; blk < 2; blk++) {
      const first = blk === 0 && stride !== 1;
      x = v1Block(net, x, s, blk, width, width, first ? stride : 1, first ? 'optionA' : 'identity', { bn: false, bottleneck: false });
    }
    net.expect(`layer${s}`, x, 2 ** (s - 1));
  }
  net.head(x);
  return net.finish('option-A resnet', 'resnet (basic blocks, 3 stages)');
}

/** VGG-like: blocks of conv → [BN] → ReLU ending in a 2×2 max pool. */
export function vggNet(style: NamingStyle, opts: { bn: boolean; layout: number[]; widths: number[]; variant: string }): SyntheticModel {
  const net = new Net(style, 'vgg', 'vgg0_');
  let x = net.image();
  opts.layout.forEach((convs, i) => {
    const s = i + 1;
    for (let n = 1; n <= convs; n++) {
      x = net.conv(x, opts.widths[i], at(s, 0, 'conv', n));
      if (opts.bn) x = net.bn(x, at(s, 0, 'bn', n));
      x = net.relu(x, at(s, 0, 'relu', n));
    }
    net.expect(`block${s}`, x, 2 ** i);
    x = net.maxpool(x, at(s, 0, 'pool'));
    net.expect(`block${s}_pool`, x, 2 ** s);
  });
  net.head(x);
  return net.finish(`vgg ${opts.layout.join('-')}${opts.bn ? ' bn' : ''}`, opts.variant);
}

/**
 * ResNet-50's layout: a /4 stem (strided conv + max pool) and bottleneck blocks 3-4-6-3 (expansion 4)
 * giving 256/512/1024/2048 channels at /4 /8 /16 /32; `shrink` divides every width (fast parity runs).
 */
export function resnet50Net(style: NamingStyle, shrink = 1): SyntheticModel {
  const net = new Net(style, 'resnet');
  const bn = style !== 'torch';
  let x = stem(net, net.image(), 64 / shrink, { bn, pool: true, s: 2 });
  net.expect('stem', x, 4);
  [[1, 64, 3, 1], [2, 128, 4, 2], [3, 256, 6, 2], [4, 512, 3, 2]].forEach(([s, width, blocks, stride], i) => {
    for (let blk = 0; blk < blocks; blk++) {
      x = v1Block(net, x, s, blk, width / shrink, (4 * width) / shrink, blk === 0 ? stride : 1, blk === 0 ? 'projection' : 'identity', { bn, bottleneck: true });
    }
    net.expect(`layer${s}`, x, 4 * 2 ** i);
  });
  net.head(x);
  return net.finish(`resnet50 layout${shrink > 1 ? ` (widths ÷${shrink})` : ''}`, 'resnet (bottleneck blocks, 4 stages)');
}

/** VGG-19's layout: 2-2-4-4-4 convs per block, 64/128/256/512/512 channels (÷ `shrink`). */
export function vgg19Net(style: NamingStyle, shrink = 1): SyntheticModel {
  return vggNet(style, { bn: false, layout: [2, 2, 4, 4, 4], widths: [64, 128, 256, 512, 512].map((w) => w / shrink), variant: 'vgg19' });
}

/** Every synthetic architecture in every naming style. */
export function allSynthetic(): SyntheticModel[] {
  return NAMING_STYLES.flatMap((style) => [
    basicResnet(style),
    bottleneckResnet(style),
    preactResnet(style),
    optionAResnet(style),
    vggNet(style, { bn: false, layout: [1, 2, 2], widths: [4, 8, 8], variant: 'vgg-like (3 blocks, 1-2-2 convs)' }),
    vggNet(style, { bn: true, layout: [2, 2, 3, 3, 3], widths: [4, 4, 8, 8, 8], variant: 'vgg16_bn' }),
  ]);
}
