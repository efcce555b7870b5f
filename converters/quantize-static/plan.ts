/**
 * Which parts of a float model static quantization turns into int8. Every Conv with float
 * initializer weights runs on int8 (with 'image-convs', not those that touch the image itself:
 * few input or output channels, the first and last convs of a denoiser); optionally an Add runs on
 * int8 when both its inputs are quantized; normalization, pad, crop, the final residual and clip stay float.
 * A Conv or Add followed only by a Relu is quantized after the Relu, which onnxruntime folds in.
 */
import { InputError } from '../../src/errors';
import { DataType, isDefaultDomain, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import { tensorDims } from '../../src/onnx/tensor';

/** Which convs stay float (see the module comment). */
export const KEEP_FLOAT_POLICIES = Object.freeze(['output-convs', 'image-convs', 'none'] as const);
export type KeepFloatPolicy = (typeof KEEP_FLOAT_POLICIES)[number];

/** Convs with at most this many input or output channels count as image-facing. */
export const IMAGE_CHANNELS = 4;

/** Options of {@link planQuantization}. */
export interface PlanOptions {
  /**
   * Default 'none': every Conv on int8 (quantizeStatic first pads a last narrow Conv to 16 output channels, see
   * pad-outputs.ts, which makes it faster on int8 than in float). 'output-convs': a Conv with ≤ {@link IMAGE_CHANNELS}
   * output channels whose output reaches no other Conv (a denoiser's last conv) stays float. 'image-convs': convs with
   * ≤ {@link IMAGE_CHANNELS} input or output channels stay float (slightly better PSNR; a float op before a Q can round
   * differently across runtimes).
   */
  keepFloat?: KeepFloatPolicy;
  /** Node names that stay float whatever the policy. */
  excludeNodes?: readonly string[];
  /**
   * Run an Add on int8 (QLinearAdd) when both its inputs are already quantized, e.g. ResNet residuals (default false
   * here; quantizeStatic turns it on). insertQdq gives its inputs and output one scale, so the integer add is exact and
   * onnxruntime-node and -web agree bit for bit.
   */
  quantizeAdd?: boolean;
  /**
   * Run nearest-neighbour Resize and channel Concat on 8-bit data where they sit between quantized Convs (default true):
   * a Resize's output reuses its input's scale and zero point (onnxruntime then resizes uint8, exactly), and a Concat
   * feeding a quantized Conv reads quantized inputs (onnxruntime's QLinearConcat).
   */
  quantizeLayout?: boolean;
  /** With quantizeLayout: put a Concat's sole-reader inputs on its output's grid ({@link QuantizationPlan.concatGrid}; default true). */
  shareConcatGrid?: boolean;
}

/** One Conv that will run on int8. */
export interface PlannedConv {
  node: string;
  /** The float activation it reads (quantized before it). */
  input: string;
  weight: string;
  bias?: string;
  /** The tensor quantized after it: its output, or the output of the Relu it is fused with. */
  output: string;
  fusedRelu: boolean;
}

/** One Add that will run on int8: both inputs are quantized activations. */
export interface PlannedAdd {
  node: string;
  inputs: [string, string];
  /** The tensor quantized after it: its output, or its Relu's. */
  output: string;
  fusedRelu: boolean;
}

/** What {@link planQuantization} decided. */
export interface QuantizationPlan {
  convs: PlannedConv[];
  adds: PlannedAdd[];
  /** Every activation that gets a QuantizeLinear → DequantizeLinear pair (the ones to calibrate). */
  activations: string[];
  /** Activations that reuse another's scale and zero point instead of their own range (Resize output → its input). */
  tied: Record<string, string>;
  /** Concat nodes that read the quantized (Q → DQ) versions of their inputs. */
  concats: string[];
  /**
   * Activations quantized straight onto a Concat output's 8-bit grid (tensor → Concat output): inputs the Concat
   * alone reads (and the source of a tied Resize the Resize alone reads). onnxruntime's QLinearConcat then copies
   * them instead of requantizing through a lookup table, and the Conv after it sees the same values (it reads the
   * Concat's grid either way; one rounding instead of two).
   */
  concatGrid: Record<string, string>;
  /** Convs left in float, with the reason. */
  keptFloat: Array<{ node: string; reason: string }>;
}

/**
 * Decides which convs and activations are quantized (see the module comment).
 * @throws InputError when the model has no graph or no Conv can be quantized.
 */
export function planQuantization(model: ModelProto, opts: PlanOptions = {}): QuantizationPlan {
  const graph = model.graph;
  if (!graph) throw new InputError('model', 'has no graph');
  const policy = opts.keepFloat ?? 'none';
  const excluded = new Set(opts.excludeNodes ?? []);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));

  // Quantize after a Relu that is the output's only reader (onnxruntime folds it into the Q).
  const afterRelu = (n: NodeProto) => {
    const out = n.output?.[0] ?? '';
    const next = readers.get(out) ?? [];
    const relu = next.length === 1 && next[0].opType === 'Relu' && isDefaultDomain(next[0].domain) && !graphOutputs.has(out) ? next[0] : undefined;
    return { output: relu ? (relu.output?.[0] ?? out) : out, fusedRelu: Boolean(relu) };
  };
  const plan: QuantizationPlan = { convs: [], adds: [], activations: [], tied: {}, concats: [], concatGrid: {}, keptFloat: [] };
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Conv' || !isDefaultDomain(n.domain)) continue;
    const name = n.name || (n.output?.[0] ?? 'Conv');
    const [input, weight, bias] = n.input ?? [];
    const w = inits.get(weight ?? '');
    const b = bias ? inits.get(bias) : undefined;
    const keep = (reason: string) => plan.keptFloat.push({ node: name, reason });
    if (excluded.has(name)) {
      keep('excluded by name');
      continue;
    }
    if (!w || w.dataType !== DataType.FLOAT || (bias && (!b || b.dataType !== DataType.FLOAT))) {
      keep('weight or bias is not a float initializer');
      continue;
    }
    const dims = tensorDims(w);
    const cin = (dims[1] ?? 0) * groupsOf(n);
    if (policy === 'image-convs' && (dims[0] <= IMAGE_CHANNELS || cin <= IMAGE_CHANNELS)) {
      keep(`touches the image (${cin} → ${dims[0]} channels); 8-bit steps there cost PSNR, and it is cheap in float`);
      continue;
    }
    if (policy === 'output-convs' && dims[0] <= IMAGE_CHANNELS && !reachesConv(n.output?.[0] ?? '', readers)) {
      keep(`last conv (${cin} → ${dims[0]} channels, no Conv after it): faster in float, and nothing quantized follows`);
      continue;
    }
    const { output, fusedRelu } = afterRelu(n);
    plan.convs.push({ node: name, input, weight, bias: bias || undefined, output, fusedRelu });
  }
  if (!plan.convs.length) {
    throw new InputError('model', `has no Conv that static int8 quantization can run on int8 (${plan.keptFloat.length} kept float); nothing to do`);
  }
  const acts = new Set<string>();
  for (const c of plan.convs) acts.add(c.input).add(c.output);
  // Adds whose inputs are both int8 already (a residual between quantized convs), or one of them and a shortcut that
  // only moves a quantized tensor's values (a CIFAR ResNet's strided Slice + zero channel Pad): that shortcut is
  // quantized as well. In graph order, so chains of blocks follow.
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const movesQuantized = (t: string): boolean => {
    for (let at = t, hops = 0; hops < 8; hops++) {
      if (acts.has(at)) return hops > 0;
      const p = producer.get(at);
      if (!p || !isDefaultDomain(p.domain) || !LAYOUT_OPS.has(p.opType ?? '') || (p.opType === 'Pad' && stringAttr(p, 'mode', 'constant') !== 'constant')) return false;
      if (p.opType === 'Pad' && p.input?.[2]) return false; // a non-zero constant would not stay on the grid's zero
      at = p.input?.[0] ?? '';
    }
    return false;
  };
  for (const n of opts.quantizeAdd ? (graph.node ?? []) : []) {
    const [a, b] = n.input ?? [];
    const name = n.name || (n.output?.[0] ?? 'Add');
    if (n.opType !== 'Add' || !isDefaultDomain(n.domain) || excluded.has(name)) continue;
    const shortcut = (x: string, y: string) => acts.has(x) && !acts.has(y) && (readers.get(y) ?? []).length === 1 && !graphOutputs.has(y) && movesQuantized(y);
    if (!(acts.has(a) && acts.has(b)) && !shortcut(a, b) && !shortcut(b, a)) continue;
    acts.add(a).add(b);
    const { output, fusedRelu } = afterRelu(n);
    plan.adds.push({ node: name, inputs: [a, b], output, fusedRelu });
    acts.add(output);
  }
  if (opts.quantizeLayout ?? true) {
    // Concats feeding a quantized Conv: every input quantized (QLinearConcat). Then a nearest Resize whose output is
    // one of those inputs and whose input is quantized keeps its input's parameters (uint8 Resize, no rounding).
    for (const n of graph.node ?? []) {
      const name = n.name || (n.output?.[0] ?? 'Concat');
      const readByConvOnly = (readers.get(n.output?.[0] ?? '') ?? []).every((r) => plan.convs.some((c) => c.node === (r.name || r.output?.[0])));
      if (n.opType !== 'Concat' || !isDefaultDomain(n.domain) || excluded.has(name) || !acts.has(n.output?.[0] ?? '') || !readByConvOnly) continue;
      if ((n.input ?? []).some((i) => !i || inits.has(i))) continue;
      plan.concats.push(name);
      for (const i of n.input ?? []) {
        acts.add(i);
        const r = producer.get(i);
        const src = r?.input?.[0] ?? '';
        const onlyConcat = (readers.get(i) ?? []).length === 1;
        if (r && r.opType === 'Resize' && isDefaultDomain(r.domain) && stringAttr(r, 'mode', 'nearest') === 'nearest' && acts.has(src) && onlyConcat) plan.tied[i] = src;
      }
    }
    // Steps that only move a quantized tensor's values into another one (fold-upsample.ts: a DepthToSpace, or its NHWC
    // Transpose/Reshape steps) keep its grid, every step on 8 bits. A Shape reader only reads dims, not values.
    const valueReaders = (t: string) => (readers.get(t) ?? []).filter((r) => r.opType !== 'Shape');
    for (const end of [...acts]) {
      const path: Array<[string, string]> = [];
      for (let at = end, hops = 0; hops < 8; hops++) {
        const p = producer.get(at);
        if (!p || !isDefaultDomain(p.domain) || !VALUE_MOVES.has(p.opType ?? '')) break;
        const src = p.input?.[0] ?? '';
        if (valueReaders(src).length !== 1 || graphOutputs.has(src)) break;
        path.push([at, src]);
        if (acts.has(src)) {
          for (const [t, from] of path) {
            acts.add(t);
            plan.tied[t] = from;
          }
          break;
        }
        at = src;
      }
    }
    if (opts.shareConcatGrid ?? true) shareConcatGrids(plan, graph.node ?? [], readers, graphOutputs);
  }
  plan.activations = [...acts];
  return plan;
}

/**
 * Fills `plan.concatGrid` (see there). A tensor qualifies when its only reader is the Concat (or the tied Resize feeding
 * it), it is no graph output, no Add's scale group has a claim on it and no Relu is folded into its Q.
 */
function shareConcatGrids(plan: QuantizationPlan, nodes: readonly NodeProto[], readers: ReadonlyMap<string, NodeProto[]>, graphOutputs: ReadonlySet<string>): void {
  const inAddGroup = new Set(plan.adds.flatMap((a) => [...a.inputs, a.output]));
  // A Relu folds into its Q only with the lowest zero point; a Concat that also holds negative values has another one.
  const afterRelu = new Set([...plan.convs, ...plan.adds].filter((c) => c.fusedRelu).map((c) => c.output));
  const onlyReader = (t: string, node: NodeProto) => !graphOutputs.has(t) && !inAddGroup.has(t) && !afterRelu.has(t) && (readers.get(t) ?? []).every((r) => r === node);
  const concats = new Set(plan.concats);
  for (const n of nodes) {
    const out = n.output?.[0] ?? '';
    if (!concats.has(n.name || out) || inAddGroup.has(out)) continue;
    for (const i of new Set(n.input ?? [])) {
      if (!onlyReader(i, n)) continue;
      const src = plan.tied[i];
      if (src === undefined) {
        plan.concatGrid[i] = out;
        continue;
      }
      // A tied Resize output follows its source; the source moves onto the Concat's grid when only the Resize reads it.
      const resize = (readers.get(src) ?? [])[0];
      if (resize && resize.opType === 'Resize' && onlyReader(src, resize) && !plan.concatGrid[src]) plan.concatGrid[src] = out;
    }
  }
}

/** Ops that only move, drop or zero-pad values (their first input's): a tensor they make from a quantized one fits an 8-bit grid. */
const LAYOUT_OPS = new Set(['Slice', 'Pad', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity', 'MaxPool', 'DepthToSpace', 'SpaceToDepth']);

/** Ops whose output holds exactly their first input's values, rearranged (tied to its grid between quantized tensors). */
const VALUE_MOVES = new Set(['DepthToSpace', 'Transpose', 'Reshape']);

/** True when some Conv reads `tensor` or anything computed from it. */
export function reachesConv(tensor: string, readers: ReadonlyMap<string, NodeProto[]>): boolean {
  const seen = new Set<string>();
  const todo = [tensor];
  while (todo.length) {
    const t = todo.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const r of readers.get(t) ?? []) {
      if (r.opType === 'Conv') return true;
      todo.push(...(r.output ?? []).filter((o) => o));
    }
  }
  return false;
}

/** A STRING attribute (or `dflt`). */
export function stringAttr(n: NodeProto, name: string, dflt: string): string {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a?.s ? new TextDecoder().decode(a.s as Uint8Array) : dflt;
}

function groupsOf(n: NodeProto): number {
  const g = (n.attribute ?? []).find((a) => a.name === 'group');
  return g?.i ? Number(g.i) : 1;
}
