/**
 * Named stages for CNN families beyond ResNet/VGG, recognized by structure only: channel shuffle →
 * ShuffleNet; LayerNorm + 7×7 depthwise → ConvNeXt; depthwise convs → MobileNet v1/v2/v3 or
 * EfficientNet (by residuals, SE gates, HardSwish/Swish); fire modules → SqueezeNet; dense Concat
 * blocks → DenseNet; parallel branches concatenated → Inception. Stages are the auto taps
 * (`stage1`… by stride), except DenseNet's `stem`, `denseblockK`, `transitionK`.
 */
import type { NodeProto } from '../src/onnx/proto';
import { autoTapsOf, mainPath } from './auto-taps';
import type { DetectedArchitecture, DetectedStage, GraphIndex } from './detect';

/** The families {@link detectFamily} recognizes. */
export const EXTRA_FAMILIES = Object.freeze([
  'shufflenet', 'convnext', 'mobilenet', 'efficientnet', 'squeezenet', 'densenet', 'inception',
] as const);
export type ExtraFamily = (typeof EXTRA_FAMILIES)[number];

function ints(n: NodeProto | undefined, name: string): number[] | undefined {
  const a = (n?.attribute ?? []).find((x) => x.name === name);
  return a?.ints?.length ? a.ints.map(Number) : a?.i !== undefined && a?.i !== null ? [Number(a.i)] : undefined;
}

/** Structural features of one graph's data path. */
interface Features {
  depthwise: NodeProto[];
  depthwise7: number;
  layerNorm: number;
  shuffles: NodeProto[];
  hardSwish: number;
  swish: number;
  seGates: number;
  residualAdds: number;
  fires: NodeProto[];
  dense: NodeProto[];
  inception: NodeProto[];
}

/** Ops walked back over from a branch output to its conv (activations, BN, a Swish/SE Mul). */
const PASS_THROUGH = new Set(['Relu', 'Clip', 'LeakyRelu', 'PRelu', 'HardSwish', 'Sigmoid', 'Mul', 'BatchNormalization']);

/** Walks back from `t` over activations/BN to the Conv that computed it. */
function convBehind(g: GraphIndex, t: string): NodeProto | undefined {
  for (let hops = 0, cur = t; hops < 4; hops++) {
    const p = g.producer.get(cur);
    if (!p) return undefined;
    if (p.opType === 'Conv') return p;
    if (!PASS_THROUGH.has(p.opType ?? '')) return undefined;
    const ins = g.dataInputs(p);
    if (!ins.length) return undefined;
    cur = ins[0];
  }
  return undefined;
}

function features(g: GraphIndex): Features {
  const f: Features = {
    depthwise: [], depthwise7: 0, layerNorm: 0, shuffles: [], hardSwish: 0, swish: 0, seGates: 0, residualAdds: 0,
    fires: [], dense: [], inception: [],
  };
  for (const n of g.nodes) {
    const ins = g.dataInputs(n);
    if (!ins.length) continue;
    const op = n.opType ?? '';
    const unique = [...new Set(ins)];
    if (op === 'Conv') {
      const group = ints(n, 'group')?.[0] ?? 1;
      const k = ints(n, 'kernel_shape') ?? [];
      if (group > 1 && group === g.channels.get(ins[0]) && k.some((v) => v > 1)) {
        f.depthwise.push(n);
        if (k.every((v) => v === 7)) f.depthwise7++;
      }
    } else if (op === 'LayerNormalization') f.layerNorm++;
    else if (op === 'ReduceMean') {
      // A decomposed channel LayerNorm: x − mean(x, axis 1).
      const axes = ints(n, 'axes') ?? [];
      const sub = (g.consumers.get(n.output?.[0] ?? '') ?? []).find((c) => c.opType === 'Sub' && c.input?.[0] === ins[0]);
      if (sub && axes.length === 1 && (axes[0] === 1 || axes[0] === -3)) f.layerNorm++;
    } else if (op === 'Transpose' && ints(n, 'perm')?.length === 5 && g.producer.get(ins[0])?.opType === 'Reshape') f.shuffles.push(n);
    else if (op === 'HardSwish') f.hardSwish++;
    else if (op === 'Mul' && unique.length === 2) {
      const gate = unique.map((t) => g.producer.get(t));
      const selfGate = gate.findIndex((p, i) => p && g.dataInputs(p)[0] === unique[1 - i]);
      if (selfGate >= 0) {
        if (gate[selfGate]?.opType === 'HardSigmoid') f.hardSwish++;
        if (gate[selfGate]?.opType === 'Sigmoid') f.swish++;
      } else if (unique.filter((t) => g.strides.has(t)).length === 1) f.seGates++;
    } else if ((op === 'Add' || op === 'Sum') && unique.length === 2 && unique.every((t) => g.strides.has(t))) f.residualAdds++;
    else if (op === 'Concat' && unique.length >= 2) {
      const anc = unique.map((t) => g.ancestors(t));
      if (unique.some((t, i) => anc.some((a, j) => j !== i && a.has(t)))) f.dense.push(n);
      else if (unique.length === 2 && isFire(g, unique)) f.fires.push(n);
      else if (unique.length >= 3 && unique.every((t) => g.strides.has(t))) f.inception.push(n);
    }
  }
  return f;
}

/** Both inputs come from convs (1×1 and 3×3) that read the same 1×1 conv's activation. */
function isFire(g: GraphIndex, ins: string[]): boolean {
  const convs = ins.map((t) => convBehind(g, t));
  if (convs.some((c) => !c)) return false;
  const src = convs.map((c) => g.dataInputs(c as NodeProto)[0]);
  const squeeze = convBehind(g, src[0]);
  const kernels = convs.map((c) => ints(c, 'kernel_shape')?.[0]).sort();
  const squeezeIs1x1 = !!squeeze && (ints(squeeze, 'kernel_shape') ?? [1]).every((k) => k === 1);
  return src[0] === src[1] && squeezeIs1x1 && kernels[0] === 1 && kernels[1] === 3;
}

function classify(f: Features): { family: ExtraFamily; variant: string; markers: NodeProto[] } | undefined {
  if (f.shuffles.length) return { family: 'shufflenet', variant: 'shufflenet v2 (channel split and shuffle)', markers: f.shuffles };
  if (f.layerNorm && f.depthwise7) {
    return { family: 'convnext', variant: 'convnext (7×7 depthwise, LayerNorm, inverted MLP)', markers: f.depthwise };
  }
  if (f.depthwise.length >= 2) {
    if (f.hardSwish) return { family: 'mobilenet', variant: 'mobilenet v3 (inverted residuals, SE, HardSwish)', markers: f.depthwise };
    if (f.seGates && f.swish) return { family: 'efficientnet', variant: 'efficientnet (MBConv, SE, Swish)', markers: f.depthwise };
    if (f.residualAdds) return { family: 'mobilenet', variant: 'mobilenet v2 (inverted residuals)', markers: f.depthwise };
    return { family: 'mobilenet', variant: 'mobilenet v1 (depthwise separable)', markers: f.depthwise };
  }
  if (f.fires.length >= 2) return { family: 'squeezenet', variant: 'squeezenet (fire modules)', markers: f.fires };
  if (f.dense.length >= 2) return { family: 'densenet', variant: 'densenet (dense blocks)', markers: f.dense };
  if (f.inception.length >= 2) return { family: 'inception', variant: 'inception (parallel branches concatenated)', markers: f.inception };
  return undefined;
}

/** DenseNet stages: `stem` (what the first dense block reads), `denseblockK` (each block's last Concat), `transitionK` (its pool). */
function denseStages(g: GraphIndex, markers: NodeProto[]): DetectedStage[] | undefined {
  const path = mainPath(g);
  const concats = new Set(markers.map((m) => m.output?.[0]));
  const stages: DetectedStage[] = [];
  const at = (name: string, t: string) => {
    const s = g.stage(name, t);
    if (s) stages.push(s);
  };
  let block = 0;
  let lastConcat: string | undefined;
  for (let i = 0; i < path.length; i++) {
    const t = path[i];
    if (concats.has(t)) {
      if (lastConcat === undefined && block === 0 && i > 0) at('stem', path[i - 1]);
      lastConcat = t;
      continue;
    }
    if (lastConcat === undefined) continue;
    const op = g.producer.get(t)?.opType ?? '';
    const grew = (g.strides.get(t)?.[0] ?? 0) > (g.strides.get(lastConcat)?.[0] ?? 0);
    if (op === 'AveragePool' || op === 'MaxPool' || grew) {
      block++;
      at(`denseblock${block}`, lastConcat);
      at(`transition${block}`, t);
      lastConcat = undefined;
    }
  }
  if (lastConcat !== undefined) at(`denseblock${block + 1}`, lastConcat);
  return stages.length >= 2 ? stages : undefined;
}

/**
 * Recognizes a family of {@link EXTRA_FAMILIES} and names its stages.
 * @returns undefined when none applies (then ResNet/VGG detection runs)
 */
export function detectFamily(g: GraphIndex): DetectedArchitecture | undefined {
  const found = classify(features(g));
  if (!found) return undefined;
  const stages = found.family === 'densenet'
    ? denseStages(g, found.markers)
    : autoTapsOf(g).map((t, i) => ({ name: `stage${i + 1}`, tensor: t.tensor, channels: t.channels, stride: t.stride }));
  if (!stages?.length) return undefined;
  // Blocks per stage: the family's marker nodes (depthwise convs, fire/dense/inception concats, shuffles) at each stage's stride.
  const strideOf = (t: string) => g.stage('', t)?.stride;
  const markerStrides = found.markers.map((m) => strideOf(m.output?.[0] ?? '') ?? strideOf(g.dataInputs(m)[0] ?? ''));
  const named = found.family === 'densenet' ? stages.filter((s) => s.name.startsWith('denseblock')) : stages;
  const blocks = named.map((s) => markerStrides.filter((x) => x === s.stride).length);
  return { family: found.family, variant: found.variant, input: g.input, stages, blocks };
}
