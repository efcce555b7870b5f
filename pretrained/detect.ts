/**
 * Finds the stages of a ResNet or VGG encoder from the shape of its ONNX graph, never from node
 * or tensor names, so files from torchvision, the ONNX model zoo (MXNet) and tf2onnx all work.
 * Channels come from conv weight dims (wherever the exporter put the weights: see src/onnx/constants.ts), strides from
 * multiplying conv/pool/slice strides along the data path; nothing is run.
 */
import { nodeReads } from '../src/onnx/extract';
import { constantResolver, type ConstantResolver } from '../src/onnx/constants';
import { valueInfoDims } from '../src/onnx/info';
import type { Int64Like, ModelProto, NodeProto } from '../src/onnx/proto';
import { withoutFakeQuant } from '../src/onnx/qdq';
import { detectFamily, type ExtraFamily } from './families';
import { ENCODERS, ENCODER_NAMES, type EncoderSpec } from './registry';

/** A tap point of a detected architecture. */
export interface DetectedStage {
  /** `stem`, `layer1`… (ResNet) or `block1`, `block1_pool`… (VGG). */
  name: string;
  /** The graph tensor that holds the stage's output. */
  tensor: string;
  channels: number;
  /** Downsampling factor relative to the input (1 = full resolution). */
  stride: number;
}

/** What {@link detectArchitecture} found. */
export interface DetectedArchitecture {
  /** 'resnet' | 'vgg', or a family of families.ts (mobilenet, efficientnet, densenet, …). */
  family: ArchitectureFamily;
  /** e.g. 'resnet (basic blocks, 3 stages)', 'resnet v2 (pre-activation, bottleneck blocks, 4 stages)', 'vgg16', 'vgg16_bn'. */
  variant: string;
  /** The image input the stages are computed from. */
  input: string;
  /** In graph order: stem then layer1..N, or block1, block1_pool, block2, … */
  stages: DetectedStage[];
  /** resnet: residual blocks per stage; vgg: convolutions per block. */
  blocks: number[];
  /** resnet: the usual residual branch ('basic' = 2 convs, 'bottleneck' = 3). */
  blockType?: 'basic' | 'bottleneck' | string;
  /** resnet: true for pre-activation (v2) blocks, whose outputs are the Add itself. */
  preActivation?: boolean;
  /** vgg: BatchNormalization between conv and ReLU (false when an exporter folded it into the conv). */
  batchNorm?: boolean;
  /** The registry entry whose layout, channels and strides all agree, if any. */
  registryMatch?: string;
}

/** Every family detection names stages for. */
export type ArchitectureFamily = 'resnet' | 'vgg' | ExtraFamily;

/** Options for {@link detectArchitecture}. */
export interface DetectOptions {
  /** The image input, when the graph has several non-initializer inputs (default: the first). */
  input?: string;
}

type Stride = readonly [number, number];

/** Element-wise unary ops that keep channels and spatial size. */
const ACTIVATIONS = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Elu', 'Selu', 'HardSwish', 'HardSigmoid', 'Sigmoid', 'Tanh', 'Softplus', 'Mish', 'Gelu',
]);
const CHANNEL_KEEPING = new Set([
  ...ACTIVATIONS,
  'BatchNormalization', 'InstanceNormalization', 'LRN', 'MaxPool', 'AveragePool', 'LpPool', 'Dropout', 'Identity', 'Cast',
  'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'Resize', 'Upsample', 'QuantizeLinear', 'DequantizeLinear',
]);
const BROADCASTING = new Set(['Add', 'Sum', 'Mul', 'Sub', 'Div', 'Max', 'Min', 'Mean']);
/** Ops after which a tensor no longer has a meaningful spatial stride. */
const NON_SPATIAL = new Set([
  'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'Flatten', 'Gemm', 'MatMul', 'Reshape', 'Squeeze', 'Unsqueeze',
  'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceL2', 'Resize', 'Upsample', 'ConvTranspose',
  'SpaceToDepth', 'DepthToSpace', 'Shape', 'Softmax',
]);
const STRIDED = new Set(['Conv', 'ConvInteger', 'QLinearConv', 'MaxPool', 'AveragePool', 'LpPool']);
/** Ops a VGG block may contain between its conv layers (BatchNormalization is counted separately). */
const VGG_PASS = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Identity', 'Dropout']);
/** Ops a pre-activation stem may end with before the first block's BN-ReLU (walked back over). */
const PREACT_OPS = new Set(['BatchNormalization', 'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Mul', 'Add', 'Sub', 'Div']);

/**
 * An int64 attribute or tensor value as a number. Unlike `toNumber` it never throws: values past
 * 2^53 (INT64_MAX is a common "to the end" marker; a hostile file may hold anything) are approximated.
 */
function looseNumber(v: Int64Like): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v.toString());
}

function attr(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a && a.ints && a.ints.length ? a.ints.map(looseNumber) : undefined;
}

function attrInt(node: NodeProto, name: string): number | undefined {
  const a = attr(node, name);
  return a && a.i !== null && a.i !== undefined ? looseNumber(a.i) : undefined;
}

/** Index of one graph: topological node order, producers/consumers, and per-tensor stride and channels. */
export class GraphIndex {
  readonly nodes: NodeProto[];
  readonly producer = new Map<string, NodeProto>();
  /** Position of the producing node in `nodes` (-1 for the graph input). */
  readonly position = new Map<string, number>();
  readonly consumers = new Map<string, NodeProto[]>();
  /** Every constant of the graph, wherever the exporter put it. */
  readonly consts: ConstantResolver;
  /** Tensors computed from the image input (everything else is a constant). */
  readonly data = new Set<string>();
  readonly strides = new Map<string, Stride>();
  readonly channels = new Map<string, number>();
  /** The graph's output tensor names. */
  readonly graphOutputs: string[];
  /** The image input's declared dims, if any. */
  readonly inputDims?: Array<number | string>;

  constructor(model: ModelProto, readonly input: string) {
    const graph = model.graph ?? {};
    this.graphOutputs = (graph.output ?? []).map((o) => o.name ?? '').filter(Boolean);
    this.consts = constantResolver(model);
    // Activation Q→DQ pairs (QDQ models) keep channels and size: the patterns below look through them.
    this.nodes = topologicalOrder(withoutFakeQuant(graph.node ?? [], this.consts));
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) {
        if (!o) continue;
        this.producer.set(o, n);
        this.position.set(o, i);
      }
      for (const r of nodeReads(n)) {
        const list = this.consumers.get(r);
        if (list) list.push(n);
        else this.consumers.set(r, [n]);
      }
    });
    this.data.add(input);
    this.position.set(input, -1);
    this.strides.set(input, [1, 1]);
    const vi = (graph.input ?? []).find((v) => v.name === input);
    const dims = vi ? valueInfoDims(vi) : undefined;
    this.inputDims = dims;
    if (dims?.length === 4 && typeof dims[1] === 'number') this.channels.set(input, dims[1]);
    for (const n of this.nodes) this.propagate(n);
  }

  /** The data inputs of a node (those computed from the image). */
  dataInputs(n: NodeProto): string[] {
    return nodeReads(n).filter((i) => this.data.has(i));
  }

  /** Dims of a constant input (weights wherever the exporter put them; see src/onnx/constants.ts). */
  constDims(name: string | null | undefined): number[] | undefined {
    return this.consts.dims(name);
  }

  /** Integer values of a constant input (Slice axes/steps, Pad pads). */
  constInts(name: string | null | undefined): number[] | undefined {
    return this.consts.ints(name);
  }

  private propagate(n: NodeProto): void {
    const ins = this.dataInputs(n);
    if (!ins.length) return;
    for (const o of n.output ?? []) if (o) this.data.add(o);
    const out = n.output?.[0];
    if (!out) return;
    const stride = this.strideOf(n, ins);
    if (stride) this.strides.set(out, stride);
    const channels = this.channelsOf(n, ins);
    if (channels !== undefined && channels > 0) this.channels.set(out, channels);
    if (n.opType === 'Split') this.splitOutputs(n, ins[0], stride);
  }

  /** A Split along channels (ShuffleNet v2's `chunk`): every output keeps the stride and gets its share of channels. */
  private splitOutputs(n: NodeProto, input: string, stride: Stride | undefined): void {
    const outs = n.output ?? [];
    const axis = attrInt(n, 'axis') ?? 0;
    const c = this.channels.get(input);
    const sizes = this.constInts(n.input?.[1]) ?? attrInts(n, 'split');
    outs.forEach((o, i) => {
      if (!o) return;
      if (stride && (axis === 1 || axis === -3)) this.strides.set(o, stride);
      const share = sizes?.[i] ?? (c !== undefined && c % outs.length === 0 ? c / outs.length : undefined);
      if ((axis === 1 || axis === -3) && share !== undefined && share > 0) this.channels.set(o, share);
      else this.channels.delete(o);
    });
  }

  /**
   * The tensor a channel shuffle (Reshape to 5-D, Transpose of the two channel axes, Reshape back to 4-D,
   * as ShuffleNet exports it) permutes, when `n` is the last Reshape of one: it keeps stride and channels.
   */
  private shuffleSource(n: NodeProto): string | undefined {
    if (n.opType !== 'Reshape' || this.constInts(n.input?.[1])?.length !== 4) return undefined;
    const t = this.producer.get(n.input?.[0] ?? '');
    if (t?.opType !== 'Transpose' || attrInts(t, 'perm')?.length !== 5) return undefined;
    const r = this.producer.get(t.input?.[0] ?? '');
    if (r?.opType !== 'Reshape' || this.constInts(r.input?.[1])?.length !== 5) return undefined;
    return r.input?.[0] ?? undefined;
  }

  private strideOf(n: NodeProto, ins: string[]): Stride | undefined {
    const op = n.opType ?? '';
    const shuffled = this.shuffleSource(n);
    if (shuffled) return this.strides.get(shuffled);
    if (NON_SPATIAL.has(op)) return undefined;
    const known = ins.map((i) => this.strides.get(i)).filter((s): s is Stride => s !== undefined);
    if (!known.length) return undefined;
    // Branches meet at Add/Concat with equal strides; the max also repairs a shortcut whose slice steps were unreadable.
    const base: Stride = [Math.max(...known.map((s) => s[0])), Math.max(...known.map((s) => s[1]))];
    let f: Stride = [1, 1];
    if (STRIDED.has(op)) {
      const s = attrInts(n, 'strides') ?? [];
      f = [s[0] ?? 1, s[1] ?? 1];
    } else if (op === 'Slice') {
      f = this.sliceSteps(n);
    }
    return [base[0] * f[0], base[1] * f[1]];
  }

  /** Spatial (H, W) steps of a Slice on an NCHW tensor; 1 where they cannot be read. */
  private sliceSteps(n: NodeProto): Stride {
    const axes = this.constInts(n.input?.[3]) ?? attrInts(n, 'axes');
    const steps = this.constInts(n.input?.[4]);
    if (!axes || !steps) return [1, 1];
    const f: [number, number] = [1, 1];
    axes.forEach((a, i) => {
      const axis = a < 0 ? a + 4 : a;
      if (axis === 2 || axis === 3) f[axis - 2] *= Math.abs(steps[i] ?? 1) || 1;
    });
    return f;
  }

  private channelsOf(n: NodeProto, ins: string[]): number | undefined {
    const op = n.opType ?? '';
    const first = this.channels.get(ins[0]);
    const shuffled = this.shuffleSource(n);
    if (shuffled) return this.channels.get(shuffled);
    switch (op) {
      case 'Conv':
      case 'ConvInteger': {
        return this.constDims(n.input?.[1])?.[0];
      }
      case 'QLinearConv':
        return this.constDims(n.input?.[3])?.[0];
      case 'ConvTranspose': {
        const w = this.constDims(n.input?.[1]);
        return w ? w[1] * (attrInt(n, 'group') ?? 1) : undefined;
      }
      case 'Concat': {
        const axis = attrInt(n, 'axis');
        if (axis !== 1 && axis !== -3) return undefined;
        const parts = ins.map((i) => this.channels.get(i));
        return parts.every((c) => c !== undefined) ? parts.reduce((a: number, b) => a + (b as number), 0) : undefined;
      }
      case 'Pad': {
        const pads = this.constInts(n.input?.[1]) ?? attrInts(n, 'pads');
        return first !== undefined && pads?.length === 8 ? first + pads[1] + pads[5] : undefined;
      }
      case 'Transpose':
        return attrInts(n, 'perm')?.[1] === 1 ? first : undefined;
      case 'Slice': {
        const axes = this.constInts(n.input?.[3]) ?? attrInts(n, 'axes');
        const k = axes?.findIndex((a) => a === 1 || a === -3) ?? -1;
        if (!axes || k < 0) return axes ? first : undefined;
        return this.sliceLength(n, k, first);
      }
      default:
        if (BROADCASTING.has(op)) {
          const cs = ins.map((i) => this.channels.get(i)).filter((c): c is number => c !== undefined);
          return cs.length ? Math.max(...cs) : undefined;
        }
        return CHANNEL_KEEPING.has(op) ? first : undefined;
    }
  }

  /** Length of a Slice along its `k`-th axis (a channel split), for unit steps and readable bounds. */
  private sliceLength(n: NodeProto, k: number, size: number | undefined): number | undefined {
    const starts = this.constInts(n.input?.[1]) ?? attrInts(n, 'starts');
    const ends = this.constInts(n.input?.[2]) ?? attrInts(n, 'ends');
    const steps = this.constInts(n.input?.[4]);
    if (size === undefined || !starts || !ends || (steps && steps[k] !== 1)) return undefined;
    const clamp = (v: number) => Math.min(size, Math.max(0, v < 0 ? v + size : v));
    const len = clamp(ends[k]) - clamp(starts[k]);
    return len > 0 ? len : undefined;
  }

  /** Every data tensor `t` depends on, `t` included. */
  ancestors(t: string): Set<string> {
    const seen = new Set<string>();
    const stack = [t];
    while (stack.length) {
      const x = stack.pop() as string;
      if (seen.has(x) || !this.data.has(x)) continue;
      seen.add(x);
      const p = this.producer.get(x);
      if (p) for (const i of nodeReads(p)) if (this.data.has(i) && !seen.has(i)) stack.push(i);
    }
    return seen;
  }

  stage(name: string, tensor: string): DetectedStage | undefined {
    const s = this.strides.get(tensor);
    const channels = this.channels.get(tensor);
    if (!s || channels === undefined) return undefined;
    return { name, tensor, channels, stride: s[0] === s[1] ? s[0] : Math.max(s[0], s[1]) };
  }
}

/** Nodes in dependency order (ONNX files are already sorted; this keeps their order when they are). */
function topologicalOrder(nodes: readonly NodeProto[]): NodeProto[] {
  const producedBy = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producedBy.set(o, i)));
  const deps = nodes.map(
    (n, i) => new Set(nodeReads(n).map((r) => producedBy.get(r)).filter((p): p is number => p !== undefined && p !== i)),
  );
  if (deps.every((d, i) => [...d].every((p) => p < i))) return [...nodes];
  const dependents = nodes.map(() => [] as number[]);
  deps.forEach((d, i) => d.forEach((p) => dependents[p].push(i)));
  const waiting = deps.map((d) => d.size);
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  const order: NodeProto[] = [];
  for (let k = 0; k < ready.length; k++) {
    const i = ready[k];
    order.push(nodes[i]);
    for (const j of dependents[i]) if (--waiting[j] === 0) ready.push(j);
  }
  return order; // nodes on a cycle (an invalid graph) are left out
}

interface ResidualBlock {
  /** Position of the Add node. */
  at: number;
  /** The tensor both paths start from. */
  input: string;
  /** Relu after the Add, or the Add output for pre-activation blocks. */
  output: string;
  branchConvs: number;
  skip: 'identity' | 'projection' | 'subsample';
  preact: boolean;
  channels: number;
  stride: number;
}

/**
 * Residual blocks: Add nodes whose two data inputs come from a branch with at least two convs and
 * a skip with at most one (identity, strided Slice/Pad "option A", pooling, or a 1×1 projection),
 * both starting from the nearest tensor they have in common.
 */
function residualBlocks(g: GraphIndex): ResidualBlock[] {
  const blocks: ResidualBlock[] = [];
  g.nodes.forEach((n, at) => {
    if (n.opType !== 'Add' && n.opType !== 'Sum') return;
    const ins = [...new Set(g.dataInputs(n))];
    const out = n.output?.[0];
    if (ins.length !== 2 || !out) return;
    const [a, b] = ins;
    const ancA = g.ancestors(a);
    const ancB = g.ancestors(b);
    let input: string | undefined;
    for (const t of ancA) {
      if (ancB.has(t) && (input === undefined || (g.position.get(t) ?? -1) > (g.position.get(input) ?? -1))) input = t;
    }
    if (input === undefined) return;
    const convsOnly = (anc: Set<string>, other: Set<string>) =>
      [...anc].filter((t) => !other.has(t) && g.producer.get(t)?.opType === 'Conv').length;
    const convA = convsOnly(ancA, ancB);
    const convB = convsOnly(ancB, ancA);
    const [branchConvs, skipConvs, skipTensor] = convA >= convB ? [convA, convB, b] : [convB, convA, a];
    if (branchConvs < 2 || skipConvs > 1) return;
    const next = g.consumers.get(out) ?? [];
    const act = next.length === 1 && ACTIVATIONS.has(next[0].opType ?? '') ? next[0].output?.[0] : undefined;
    const output = act || out;
    const stage = g.stage('', output);
    if (!stage) return;
    blocks.push({
      at,
      input,
      output,
      branchConvs,
      skip: skipConvs === 1 ? 'projection' : skipTensor === input ? 'identity' : 'subsample',
      preact: !act,
      channels: stage.channels,
      stride: stage.stride,
    });
  });
  return blocks;
}

function majority<T>(values: readonly T[]): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1])[0][0];
}

function detectResnet(g: GraphIndex): DetectedArchitecture | undefined {
  const blocks = residualBlocks(g);
  if (blocks.length < 2) return undefined;
  // A stage starts where the width changes (or the stride changes at a projection shortcut);
  // a strided block with a parameter-free shortcut (Keras ResNetV2 ends stages that way) stays in its stage.
  const groups: ResidualBlock[][] = [];
  for (const blk of blocks) {
    const prev = groups.at(-1)?.at(-1);
    if (!prev || blk.channels !== prev.channels || (blk.stride !== prev.stride && blk.skip === 'projection')) groups.push([blk]);
    else groups[groups.length - 1].push(blk);
  }
  const preact = majority(blocks.map((b) => b.preact));
  // The stem is what the first block reads; a pre-activation block reads it through BN-ReLU, so walk back over those.
  let stem = blocks[0].input;
  if (blocks[0].preact) {
    // `seen` stops the walk on a malformed graph where a node reads its own output (a name produced twice).
    const seen = new Set<string>();
    for (let p = g.producer.get(stem); p && PREACT_OPS.has(p.opType ?? '') && !seen.has(stem); p = g.producer.get(stem)) {
      seen.add(stem);
      const ins = g.dataInputs(p);
      if (ins.length !== 1) break;
      stem = ins[0];
    }
  }
  const stages: DetectedStage[] = [];
  const stemStage = g.stage('stem', stem);
  if (stemStage && stem !== g.input) stages.push(stemStage);
  groups.forEach((grp, i) => stages.push(g.stage(`layer${i + 1}`, grp[grp.length - 1].output) as DetectedStage));
  const convs = majority(blocks.map((b) => b.branchConvs));
  const blockType = convs === 2 ? 'basic' : convs === 3 ? 'bottleneck' : `${convs}-conv`;
  const variant = preact
    ? `resnet v2 (pre-activation, ${blockType} blocks, ${groups.length} stages)`
    : `resnet (${blockType} blocks, ${groups.length} stages)`;
  return { family: 'resnet', variant, input: g.input, stages, blocks: groups.map((grp) => grp.length), blockType, preActivation: preact };
}

interface VggBlock {
  start: string;
  relu: string;
  pool: string;
  convs: number;
  bn: boolean;
}

/** Walks back from the activation before a MaxPool through a linear Conv→(BN)→ReLU chain. */
function vggBlock(g: GraphIndex, pool: NodeProto): VggBlock | undefined {
  const relu = pool.input?.[0];
  const out = pool.output?.[0];
  if (!relu || !out || !ACTIVATIONS.has(g.producer.get(relu)?.opType ?? '')) return undefined;
  let t = relu;
  let convs = 0;
  let bn = false;
  // `seen` ends the walk on a malformed graph where a node reads its own output (a name produced twice).
  const seen = new Set<string>();
  for (;;) {
    if (seen.has(t)) return undefined;
    seen.add(t);
    const p = g.producer.get(t);
    const op = p?.opType ?? '';
    if (!p || (op !== 'Conv' && op !== 'BatchNormalization' && !VGG_PASS.has(op))) break;
    if (t !== relu && (g.consumers.get(t)?.length ?? 0) !== 1) return undefined; // a branch: not a plain chain
    if (op === 'Conv') convs += 1;
    if (op === 'BatchNormalization') bn = true;
    const ins = g.dataInputs(p);
    if (ins.length !== 1) return undefined;
    t = ins[0];
  }
  return convs ? { start: t, relu, pool: out, convs, bn } : undefined;
}

function detectVgg(g: GraphIndex): DetectedArchitecture | undefined {
  const blocks = g.nodes
    .filter((n) => n.opType === 'MaxPool' && g.data.has(n.input?.[0] ?? ''))
    .map((n) => vggBlock(g, n))
    .filter((b): b is VggBlock => b !== undefined);
  const byStart = new Map(blocks.map((b) => [b.start, b] as const));
  const pools = new Set(blocks.map((b) => b.pool));
  let best: VggBlock[] = [];
  for (const first of blocks.filter((b) => !pools.has(b.start))) {
    const chain = [first];
    // Bounded by the block count: with a tensor name produced twice the blocks could form a ring.
    for (let next = byStart.get(first.pool); next && chain.length <= blocks.length; next = byStart.get(next.pool)) chain.push(next);
    if (chain.length > best.length) best = chain;
  }
  if (best.length < 2) return undefined;
  const stages: DetectedStage[] = [];
  for (const [i, b] of best.entries()) {
    const relu = g.stage(`block${i + 1}`, b.relu);
    const pool = g.stage(`block${i + 1}_pool`, b.pool);
    if (!relu || !pool) return undefined;
    stages.push(relu, pool);
  }
  const convs = best.map((b) => b.convs);
  const bn = best.some((b) => b.bn);
  const layout = ENCODER_NAMES.map((k) => ENCODERS[k]).find(
    (s) => s.family === 'vgg' && sameNumbers(s.blocks, convs) && Boolean(s.batchNorm) === bn,
  );
  const variant = layout?.name ?? `vgg-like (${convs.length} blocks, ${convs.join('-')} convs${bn ? ', batch norm' : ''})`;
  return { family: 'vgg', variant, input: g.input, stages, blocks: convs, batchNorm: bn };
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function matchesSpec(spec: EncoderSpec, arch: DetectedArchitecture): boolean {
  if (spec.family !== arch.family || !sameNumbers(spec.blocks, arch.blocks)) return false;
  if (arch.family === 'resnet' && spec.block !== arch.blockType) return false;
  if (arch.family === 'vgg' && Boolean(spec.batchNorm) !== arch.batchNorm) return false;
  const found = new Map(arch.stages.map((s) => [s.name, s] as const));
  return spec.stages.every((w) => found.get(w.name)?.channels === w.channels && found.get(w.name)?.stride === w.stride);
}

/**
 * Detects a ResNet (residual Add blocks grouped into stages) or a VGG (Conv→(BN)→ReLU chains
 * ending in MaxPool) from graph patterns, and names its stages: ResNet `stem`, `layer1`…`layerN`
 * (the output of each stage's last block); VGG `block1`…`blockN` (the ReLU before each pool) and
 * `block1_pool`…`blockN_pool`.
 * @param model any ONNX model with an NCHW image input (Conv layers in NCHW even if the file came from tf2onnx).
 * @returns the architecture, or undefined when the graph is neither (for example a plain conv stack).
 */
export function detectArchitecture(model: ModelProto, opts: DetectOptions = {}): DetectedArchitecture | undefined {
  const graph = model.graph;
  if (!graph) return undefined;
  const input = opts.input ?? imageInput(model);
  if (!input) return undefined;
  const g = new GraphIndex(model, input);
  // The other families first: inverted residuals and ConvNeXt blocks would also pass as residual blocks.
  const arch = detectFamily(g) ?? detectResnet(g) ?? detectVgg(g);
  if (!arch) return undefined;
  const match = ENCODER_NAMES.find((k) => matchesSpec(ENCODERS[k], arch));
  return match ? { ...arch, registryMatch: match } : arch;
}

/** The first graph input that is not an initializer (Caffe2-era files list initializers as inputs too). */
export function imageInput(model: ModelProto): string | undefined {
  const graph = model.graph;
  const inits = new Set((graph?.initializer ?? []).map((t) => t.name));
  return (graph?.input ?? []).map((v) => v.name ?? '').find((n) => n && !inits.has(n));
}

/** One line: `resnet: stem /4 64ch → layer1 /4 64ch → layer2 /8 128ch → …`. */
export function describeArchitecture(arch: DetectedArchitecture): string {
  return `${arch.family}: ` + arch.stages.map((s) => `${s.name} /${s.stride} ${s.channels}ch`).join(' → ');
}
