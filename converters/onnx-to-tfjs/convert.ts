/**
 * onnxToTfjs: the dispatcher of the ONNX → tfjs direction. Pass 1 folds every node whose
 * inputs are constants (initializers, Constant nodes, shape chains) in JS; pass 2 maps the
 * remaining nodes, in graph order, to tfjs layers through the OpMapper table, fusing
 * activations and BatchNormalization into the producing layer where the mapper asks for it.
 * Every unsupported op or configuration is collected and reported in one error.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { InputError, UnsupportedOpError } from '../../src/errors';
import { valueInfoDims } from '../../src/onnx/info';
import { AttributeType, DataType, isDefaultDomain, toNumber, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import { attrInt } from '../../src/onnx/const-rules';
import { defaultOpset } from '../model-utils';
import { constFromTensorProto, type ConstTensor } from './constants';
import { ONNX_LAYER_CLASSES, registerOnnxLayers } from './custom-layers';
import { sanitizeName, tfDims } from './layout';
import { CONVERTIBLE_OPS, OP_MAPPERS } from './registry';
import type { AttrSpec, AttrValue, BuildContext, Layer, OpMapper, SymbolicTensor, Value } from './types';

/** Lowest and highest default-domain opset the ONNX → tfjs converter reads. */
export const ONNX_TO_TFJS_OPSETS: readonly [number, number] = Object.freeze([7, 21]) as readonly [number, number];

/** Options of {@link onnxToTfjs}. */
export interface OnnxToTfjsOptions {
  /**
   * ONNX (NCHW) dims per graph input, replacing symbolic dims (the batch dim is ignored).
   * Needed when the channel count is symbolic, or when a Flatten of a spatial map needs a fixed size.
   */
  inputShapes?: Record<string, readonly number[]>;
  /** tfjs model name (default: the graph name). */
  name?: string;
  /** Name used in error messages (the file name). */
  label?: string;
}

/** One problem found during conversion. */
export interface ConversionProblem {
  op: string;
  node: string;
  /** Empty for an op type with no mapper; otherwise the unsupported configuration. */
  reason: string;
}

/** Every unsupported op/configuration of a model, in graph order (one error for all of them). */
export class UnsupportedOnnxOpsError extends UnsupportedOpError {
  constructor(readonly problems: readonly ConversionProblem[], readonly opset: number, label: string) {
    const hint = 'Add a mapper in converters/onnx-to-tfjs/ops/ or cut the model before these nodes.';
    super(`ONNX ${problems.map((p) => `'${p.op}'`).join(', ')}`, problems[0]?.node ?? label, CONVERTIBLE_OPS, hint);
    const list = problems.map((p) => `'${p.op}' at node '${p.node}'${p.reason ? ` (${p.reason})` : ''}`).join('; ');
    // One line for every problem, in the style.md item 7 template.
    this.message = `Unsupported ONNX op${problems.length === 1 ? '' : 's'} (opset ${opset}) in ${label}: ${list}. Supported: ${CONVERTIBLE_OPS.join(', ')}. ${hint}`;
  }
}

/** What the conversion did. */
export interface OnnxToTfjsReport {
  opset: number;
  /** Nodes of the ONNX graph. */
  nodes: number;
  /** Nodes evaluated at conversion time (constants, shape chains). */
  folded: number;
  /** Nodes merged into the layer of their producer (activations, BatchNormalization). */
  fused: number;
  /** Nodes that only rename a tensor (Identity, Dropout, Flatten of [N, C]). */
  aliased: number;
  /** tfjs layers created (input layers excluded). */
  layers: number;
  /** Custom layer classes used (see custom-layers.ts), with counts. */
  customLayers: Record<string, number>;
  inputs: Array<{ name: string; onnxDims: Array<number | string>; tfjsShape: Array<number | null> }>;
  outputs: Array<{ name: string; tfjsShape: Array<number | null> }>;
  /**
   * For each layer with weights: the first output of the ONNX node it was built from and of the
   * nodes fused into it (BatchNormalization, activations), so weights can be written back (fine-tuning).
   */
  weightSources: Record<string, { node: string; fused: string[] }>;
}

/** Result of {@link onnxToTfjs}. */
export interface OnnxToTfjsResult {
  model: TfModule.LayersModel;
  report: OnnxToTfjsReport;
}

/** Raised inside a mapper (via ctx.unsupported); collected by the dispatcher. */
class NodeUnsupported extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

function readAttr(node: NodeProto, spec: AttrSpec): AttrValue | undefined {
  try {
    return readAttrUnchecked(node, spec);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // A hostile or broken file: an int64 attribute beyond 2^53 cannot be a real size, stride or axis.
    throw new InputError(`node '${node.name ?? node.opType}'`, `attribute '${spec.onnxName}': ${err.message}`, { cause: err });
  }
}

function readAttrUnchecked(node: NodeProto, spec: AttrSpec): AttrValue | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === spec.onnxName);
  if (!a) return spec.default === undefined ? undefined : Array.isArray(spec.default) ? [...spec.default] : (spec.default as number | string);
  switch (spec.type) {
    case 'int':
      return toNumber(a.i);
    case 'ints':
      return (a.ints ?? []).map((v) => toNumber(v));
    case 'float':
      return a.type === AttributeType.INT ? toNumber(a.i) : (a.f ?? 0);
    case 'floats':
      return [...(a.floats ?? [])];
    case 'string':
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case 'tensor':
      return a.t ?? undefined;
  }
}

/**
 * Converts an ONNX model (NCHW) to a tfjs LayersModel taking and returning NHWC tensors for
 * rank-4 inputs/outputs (other ranks unchanged). Weights are permuted once; no transposes are
 * added inside the model.
 * @throws UnsupportedOnnxOpsError listing every unsupported op (with its node name) or configuration.
 * @throws InputError for a malformed graph or an input whose channel count is unknown.
 */
export function onnxToTfjs(tf: Tf, model: ModelProto, opts: OnnxToTfjsOptions = {}): OnnxToTfjsResult {
  registerOnnxLayers(tf);
  const label = opts.label ?? `ONNX model '${model.graph?.name ?? ''}'`;
  const graph = model.graph;
  if (!graph) throw new InputError(label, 'has no graph');
  const opset = defaultOpset(model);
  if (opset < ONNX_TO_TFJS_OPSETS[0] || opset > ONNX_TO_TFJS_OPSETS[1]) {
    throw new UnsupportedOpError(`opset ${opset}`, label, [`${ONNX_TO_TFJS_OPSETS[0]}–${ONNX_TO_TFJS_OPSETS[1]}`], 'Convert it with `onnxtune convert --opset 17` first.');
  }
  const nodes = graph.node ?? [];
  const values = new Map<string, Value>();
  const poisoned = new Set<string>();
  const problems: Array<ConversionProblem & { index: number }> = [];
  /** Every layer built so far: a failed conversion frees their weights (see disposeBuilt). */
  const built: Layer[] = [];
  const report: OnnxToTfjsReport = { opset, nodes: nodes.length, folded: 0, fused: 0, aliased: 0, layers: 0, customLayers: {}, inputs: [], outputs: [], weightSources: {} };

  for (const t of graph.initializer ?? []) {
    if (t.name) values.set(t.name, { kind: 'const', value: constFromTensorProto(t, label) });
  }

  // Graph inputs → tfjs inputs (NHWC for rank 4).
  const usedNames = new Set<string>();
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name as string));
  const reservedOutputNames = new Map<string, string>();
  for (const o of graphOutputs) reservedOutputNames.set(o, sanitizeName(o));
  const takeName = (want: string): string => {
    let name = want;
    for (let i = 1; usedNames.has(name) || [...reservedOutputNames.values()].includes(name); i++) name = `${want}_${i}`;
    usedNames.add(name);
    return name;
  };
  const tfInputs: SymbolicTensor[] = [];
  const staticInputs = new Map<string, number[]>();
  for (const vi of graph.input ?? []) {
    const name = vi.name as string;
    if (values.has(name)) continue; // an initializer also listed as an input (IR < 4): a constant
    const declared = valueInfoDims(vi);
    const given = opts.inputShapes?.[name];
    const dims: Array<number | string> = given ? [...given] : (declared ?? []);
    if (dims.length !== 4 && dims.length !== 2) {
      throw new InputError(label, `input '${name}' has rank ${dims.length} (dims [${dims.join(', ')}]); only rank-4 NCHW and rank-2 inputs convert (inputShapes can declare them)`);
    }
    const tfShape = tfDims(dims).slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : null));
    const channels = tfShape[tfShape.length - 1];
    if (channels === null) {
      throw new InputError(label, `input '${name}' has a symbolic channel dim (dims [${dims.join(', ')}]); pass inputShapes { '${name}': [1, C, H, W] }`);
    }
    // Fully known dims let a Shape of this input fold (an export's padding to its stride multiple).
    if (dims.every((d) => typeof d === 'number' && d > 0)) staticInputs.set(name, dims as number[]);
    const sym = tf.input({ shape: tfShape, name: takeName(sanitizeName(name)), dtype: 'float32' });
    values.set(name, { kind: 'tensor', sym });
    tfInputs.push(sym);
    report.inputs.push({ name, onnxDims: dims, tfjsShape: [null, ...tfShape] });
  }

  const pending = new Set<string>();
  const known = (n: string) => values.has(n) || poisoned.has(n) || pending.has(n);
  const nodeLabel = (node: NodeProto, i: number) => node.name || node.output?.[0] || `#${i}`;

  // Who reads each tensor (for fusion decisions, and whether a Shape's batch dim is used).
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) for (const n of node.input ?? []) if (n) consumers.set(n, [...(consumers.get(n) ?? []), node]);

  // A Shape of a fixed-size input folds only where its batch dim is not used: the tfjs model keeps a free batch.
  const constInts = (name: string | undefined) => {
    const v = name ? values.get(name) : undefined;
    return v?.kind === 'const' ? Array.from(v.value.data, Number) : undefined;
  };
  const readsNoBatch = (shape: NodeProto, rank: number): boolean => {
    const notBatch = (i: number) => (i < 0 ? i + rank : i) >= 1;
    if (notBatch(attrInt(shape, 'start', 0) ?? 0)) return true;
    return (consumers.get(shape.output?.[0] ?? '') ?? []).every((r) => {
      if (!isDefaultDomain(r.domain) || r.input?.[0] !== shape.output?.[0]) return false;
      if (r.opType === 'Gather') return (attrInt(r, 'axis', 0) ?? 0) === 0 && (constInts(r.input?.[1])?.every(notBatch) ?? false);
      if (r.opType !== 'Slice' || opset < 10) return false;
      const axes = r.input?.[3] ? constInts(r.input[3]) : [0];
      const starts = constInts(r.input?.[1]);
      const steps = r.input?.[4] ? constInts(r.input[4]) : undefined;
      return !!axes && !!starts && axes.length === 1 && axes[0] === 0 && notBatch(starts[0]) && (!steps || steps[0] > 0);
    });
  };

  // Pass 1: fold constant subgraphs.
  const toBuild: Array<{ node: NodeProto; index: number; mapper: OpMapper }> = [];
  nodes.forEach((node, index) => {
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    for (const n of inputs) {
      if (n && !known(n)) {
        throw new InputError(label, `node '${nodeLabel(node, index)}' (${op}) reads '${n}', which no input, initializer or earlier node produces`);
      }
    }
    const mapper = isDefaultDomain(node.domain) ? OP_MAPPERS.get(op) : undefined;
    if (!mapper || opset < mapper.opsets[0] || opset > mapper.opsets[1]) {
      problems.push({ index, op: isDefaultDomain(node.domain) ? op : `${node.domain}:${op}`, node: nodeLabel(node, index), reason: mapper ? `opset ${opset} not in ${mapper.opsets.join('–')}` : '' });
      for (const o of node.output ?? []) if (o) poisoned.add(o);
      return;
    }
    if (inputs.some((n) => n && poisoned.has(n))) {
      for (const o of node.output ?? []) if (o) poisoned.add(o);
      return;
    }
    const fixedDims = op === 'Shape' ? staticInputs.get(inputs[0]) : undefined;
    const inputDims = fixedDims && readsNoBatch(node, fixedDims.length) ? fixedDims : undefined;
    const allConst = inputDims !== undefined || inputs.every((n) => !n || values.get(n)?.kind === 'const');
    if (allConst && mapper.fold) {
      try {
        const attrs = Object.fromEntries(mapper.attrs.map((s) => [s.onnxName, readAttr(node, s)]));
        // Shape reads only the dims: a static graph input stands in as an empty tensor of its dims.
        const consts = inputDims
          ? [{ dtype: 'float' as const, dims: inputDims, data: new Float64Array(0), onnxType: DataType.FLOAT }]
          : inputs.map((n) => (n ? (values.get(n) as { value: ConstTensor }).value : undefined));
        const outs = mapper.fold({ node, opset, attrs, inputs: consts });
        (node.output ?? []).forEach((o, k) => {
          if (o && outs[k]) values.set(o, { kind: 'const', value: outs[k] });
        });
        report.folded += 1;
      } catch (err) {
        problems.push({ index, op, node: nodeLabel(node, index), reason: `constant folding failed: ${(err as Error).message}` });
        for (const o of node.output ?? []) if (o) poisoned.add(o);
      }
      return;
    }
    if (!mapper.build) {
      const hint = op === 'Shape' && values.get(inputs[0])?.kind === 'tensor' && report.inputs.some((i) => i.name === inputs[0])
        ? `; of input '${inputs[0]}' once its dims are fixed (inputShapes, or --input-shape on the CLI)`
        : '';
      problems.push({ index, op, node: nodeLabel(node, index), reason: `only constant inputs are supported (it is evaluated at conversion time)${hint}` });
      for (const o of node.output ?? []) if (o) poisoned.add(o);
      return;
    }
    // Outputs are pending: later nodes see them as activations in pass 1.
    for (const o of node.output ?? []) if (o) pending.add(o);
    toBuild.push({ node, index, mapper });
  });


  // Pass 2: build layers.
  const absorbedBy = new Map<NodeProto, NodeProto>();
  for (const { node, index, mapper } of toBuild) {
    if (absorbedBy.has(node)) continue;
    const op = node.opType as string;
    const inputs = node.input ?? [];
    if (inputs.some((n) => n && poisoned.has(n))) {
      for (const o of node.output ?? []) if (o) poisoned.add(o);
      continue;
    }
    const where = nodeLabel(node, index);
    const attrs = Object.fromEntries(mapper.attrs.map((s) => [s.onnxName, readAttr(node, s)]));
    const absorbed: NodeProto[] = [];
    const unsupported = (what: string, supported: readonly string[], hint?: string): never => {
      throw new NodeUnsupported(`${what}${supported.length ? `; supported: ${supported.join(', ')}` : ''}${hint ? `. ${hint}` : ''}`);
    };
    const specOf = (i: number) => mapper.inputs[Math.min(i, mapper.inputs.length - 1)];
    // Activations held in ONNX axis order (after ConvNeXt's Transpose to NHWC) reach only the mappers that declare it.
    const ordered = inputs.map((n) => (n ? values.get(n) : undefined)).filter((v) => v?.kind === 'tensor').map((v) => Boolean((v as { onnxOrder?: boolean }).onnxOrder));
    const ctx: BuildContext = {
      tf,
      node,
      opset,
      attrs,
      input: (i) => {
        const n = inputs[i];
        return n ? values.get(n) : undefined;
      },
      tensor: (i) => {
        const v = ctx.input(i);
        if (!v) return unsupported(`missing input ${i} (${specOf(i)?.name ?? '?'})`, []);
        if (v.kind !== 'tensor') return unsupported(`a constant as input ${i} (${specOf(i)?.name ?? '?'})`, ['an activation']);
        return v.sym;
      },
      constant: (i) => {
        const v = ctx.input(i);
        if (!v) return undefined;
        if (v.kind !== 'const') {
          return unsupported(`a computed (non-constant) input ${i} (${specOf(i)?.name ?? '?'})`, ['an initializer or a constant subgraph']);
        }
        return v.value;
      },
      constantOf: (name) => {
        const v = values.get(name);
        return v?.kind === 'const' ? v.value : undefined;
      },
      consumer: (ops, from = node) => {
        const out = from.output?.[0];
        if (!out || graphOutputs.has(out)) return undefined;
        const readers = consumers.get(out) ?? [];
        if (readers.length !== 1) return undefined;
        const c = readers[0];
        if (!isDefaultDomain(c.domain) || !ops.includes(c.opType ?? '') || absorbedBy.has(c)) return undefined;
        const others = (c.input ?? []).filter((n) => n && n !== out);
        if (!others.every((n) => values.get(n)?.kind === 'const')) return undefined;
        return c;
      },
      absorb: (c) => {
        absorbedBy.set(c, node);
        absorbed.push(c);
      },
      layerName: (suffix) => {
        const finalOut = (absorbed.length ? absorbed[absorbed.length - 1] : node).output?.[0] ?? '';
        if (!suffix && graphOutputs.has(finalOut)) {
          const want = reservedOutputNames.get(finalOut) as string;
          if (!usedNames.has(want)) {
            usedNames.add(want);
            return want;
          }
        }
        const base = sanitizeName(node.name || node.output?.[0] || op);
        return takeName(suffix ? `${base}_${suffix}` : base);
      },
      apply: (layer, x, weights) => {
        // tfjs's executor counts a layer reading one tensor twice (Mul(x, x)) as one reader and disposes the
        // tensor while another layer still needs it: later repeats go through an Identity layer.
        if (Array.isArray(x)) {
          const all = x;
          x = all.map((t, i) => {
            if (all.indexOf(t) === i) return t;
            const copy = new (registerOnnxLayers(tf).OnnxUnary)({ name: ctx.layerName(`copy${i}`), op: 'Identity', alpha: 0, beta: 0 });
            built.push(copy);
            report.layers += 1;
            return copy.apply(t) as SymbolicTensor;
          });
        }
        built.push(layer);
        const out = layer.apply(x) as SymbolicTensor;
        if (weights) setLayerWeights(tf, layer, weights, where);
        if (layer.weights.length) report.weightSources[layer.name] = { node: node.output?.[0] ?? '', fused: absorbed.map((c) => c.output?.[0] ?? '') };
        report.layers += 1;
        const cls = layer.getClassName();
        if ((ONNX_LAYER_CLASSES as readonly string[]).includes(cls)) report.customLayers[cls] = (report.customLayers[cls] ?? 0) + 1;
        return out;
      },
      unsupported,
    };
    try {
      if (ordered.some(Boolean)) {
        if (!mapper.onnxOrder) unsupported(`an activation in NHWC order (after a Transpose (0, 2, 3, 1))`, ['elementwise ops, MatMul, LayerNormalization and Transpose back (ConvNeXt\'s MLP block)']);
        if (mapper.onnxOrder === 'elementwise' && !ordered.every(Boolean)) unsupported('activations in NCHW and NHWC order together', ['inputs of one order']);
      }
      const built = mapper.build!(ctx);
      const outs = mapper.onnxOrder === 'elementwise' && ordered.length > 0 && ordered.every(Boolean)
        ? built.map((v) => (v?.kind === 'tensor' ? { ...v, onnxOrder: true } : v))
        : built;
      const first = absorbed.length ? absorbed[absorbed.length - 1].output?.[0] : undefined;
      (node.output ?? []).forEach((o, k) => {
        if (!o) return;
        if (k === 0 && first) return;
        const v = outs[k];
        if (v) values.set(o, v);
        else if (consumers.has(o) || graphOutputs.has(o)) unsupported(`output ${k} ('${o}') is used`, ['only the first output']);
      });
      if (first) values.set(first, outs[0]);
      report.fused += absorbed.length;
      const in0 = inputs[0] ? values.get(inputs[0]) : undefined;
      if (outs[0]?.kind === 'tensor' && in0?.kind === 'tensor' && in0.sym === outs[0].sym) report.aliased += 1;
    } catch (err) {
      if (err instanceof NodeUnsupported) {
        problems.push({ index, op, node: where, reason: err.what });
      } else {
        const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
        problems.push({ index, op, node: where, reason: msg });
      }
      for (const o of node.output ?? []) if (o) poisoned.add(o);
      for (const c of absorbed) for (const o of c.output ?? []) if (o) poisoned.add(o);
    }
  }

  // An output left in NHWC order (a Transpose (0, 2, 3, 1) not undone) is a problem of the node producing it.
  nodes.forEach((node, index) => {
    for (const o of node.output ?? []) {
      const v = o && graphOutputs.has(o) ? values.get(o) : undefined;
      if (v?.kind === 'tensor' && v.onnxOrder) {
        problems.push({ index, op: node.opType ?? '', node: nodeLabel(node, index), reason: `graph output '${o}' in NHWC order (a Transpose (0, 2, 3, 1) not transposed back); supported: NCHW outputs` });
      }
    }
  });

  try {
    if (problems.length) {
      const ordered = problems.sort((a, b) => a.index - b.index).map(({ op, node, reason }) => ({ op, node, reason }));
      throw new UnsupportedOnnxOpsError(ordered, opset, label);
    }

    const tfOutputs: SymbolicTensor[] = [];
    for (const vi of graph.output ?? []) {
      const name = vi.name as string;
      const v = values.get(name);
      if (!v) throw new InputError(label, `graph output '${name}' is never produced`);
      if (v.kind === 'const') throw new UnsupportedOpError(`a constant graph output '${name}'`, label, ['outputs computed from the inputs']);
      tfOutputs.push(v.sym);
      report.outputs.push({ name, tfjsShape: [...v.sym.shape] });
    }
    const modelName = sanitizeName(opts.name ?? graph.name ?? 'onnx_model');
    const tfModel = tf.model({ inputs: tfInputs, outputs: tfOutputs, name: modelName });
    return { model: tfModel, report };
  } catch (err) {
    disposeBuilt(built);
    throw err;
  }
}

/**
 * Frees the weights of the layers a failed conversion built: tfjs keeps a layer's variables until
 * they are disposed, and a layer built for a hostile input shape (e.g. 3×10⁸ declared channels)
 * holds a kernel of gigabytes even though its weights were then refused.
 */
function disposeBuilt(layers: readonly Layer[]): void {
  for (const layer of layers) {
    if (!layer.built) continue;
    for (const w of layer.weights) {
      try {
        w.dispose();
      } catch {
        // already disposed
      }
    }
  }
}

function setLayerWeights(tf: Tf, layer: Layer, weights: ReadonlyArray<{ data: Float32Array; shape: number[] }>, where: string): void {
  const expected = layer.weights.map((w) => w.shape);
  if (expected.length !== weights.length || expected.some((s, i) => s.join(',') !== weights[i].shape.join(','))) {
    throw new Error(
      `internal: layer '${layer.name}' for node '${where}' expects weights ${expected.map((s) => `[${s.join(',')}]`).join(' ')}, ` +
        `got ${weights.map((w) => `[${w.shape.join(',')}]`).join(' ')}`,
    );
  }
  const tensors = weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
  layer.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
}
