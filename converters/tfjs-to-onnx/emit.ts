/**
 * The dispatcher: walks a tfjs functional graph from its outputs back to its inputs (only
 * the layer calls the outputs need, in topological order), gives every call an EmitContext
 * and runs the mapper registered for the layer's class. Also owns naming, weight and
 * constant de-duplication, and BatchNormalization folding decisions.
 */
import { InputError, OnnxtuneError, UnsupportedOpError } from '../../src/errors';
import type { GraphBuilder } from '../../src/onnx/builder';
import { batchNormParams, isChannelBatchNorm } from './mappers/normalization';
import { LAYER_MAPPERS, SUPPORTED_LAYERS } from './registry';
import type { BatchNormFold, EmitContext, Layer, LayersModel, Shape, SymbolicTensor, Weight } from './types';

type TfNode = Layer['inboundNodes'][number];

/** One call of one layer (a tfjs Node). */
interface Call {
  layer: Layer;
  node: TfNode;
  nodeIndex: number;
}

/** Options of {@link emitLayersModel}. */
export interface EmitOptions {
  /** Default-domain opset the nodes must be valid for (13–21, default 17). */
  opset?: number;
  /** ONNX names for the model outputs (default: names derived from the output layers). */
  outputNames?: readonly string[];
}

export const MIN_OPSET = 13;
export const MAX_OPSET = 21;

/** @throws UnsupportedOpError when `opset` is outside the supported range. */
export function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    const range = Array.from({ length: MAX_OPSET - MIN_OPSET + 1 }, (_, i) => String(MIN_OPSET + i));
    throw new UnsupportedOpError(`opset ${opset}`, 'tfjs-to-onnx', range);
  }
}

function readWeights(layer: Layer): Map<string, Weight> {
  const map = new Map<string, Weight>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const key = (w.originalName ?? w.name).split('/').pop() as string;
    const t = values[i];
    map.set(key, { data: new Float32Array(t.dataSync() as ArrayLike<number>), shape: [...t.shape] });
  });
  return map;
}

class Emitter {
  private readonly constants = new Map<string, string>();
  private readonly layerInitializers = new Map<string, string>();
  private readonly weightCache = new Map<Layer, Map<string, Weight>>();

  constructor(
    readonly b: GraphBuilder,
    readonly opset: number,
    readonly rootPrefix: string,
  ) {}

  private weights(layer: Layer): Map<string, Weight> {
    let w = this.weightCache.get(layer);
    if (!w) {
      w = readWeights(layer);
      this.weightCache.set(layer, w);
    }
    return w;
  }

  constant(kind: 'f' | 'i', key: string, dims: readonly number[], data: ArrayLike<number>): string {
    const cacheKey = `${kind}|${key}|${dims.join('x')}`;
    let name = this.constants.get(cacheKey);
    if (!name) {
      name = this.b.uniqueName(`${this.rootPrefix}const/${key}`);
      if (kind === 'f') this.b.addInitializer(name, dims, Float32Array.from(data));
      else this.b.addInt64Initializer(name, dims, Array.from(data));
      this.constants.set(cacheKey, name);
    }
    return name;
  }

  /** Emits `model` reading `inputNames` (NCHW for 4-D inputs); returns the ONNX names of its outputs. */
  emitModel(model: LayersModel, inputNames: readonly string[], prefix: string, desired?: readonly string[]): string[] {
    const label = `tfjs model '${model.name}'`;
    if (inputNames.length !== model.inputs.length) {
      throw new InputError(label, `takes ${model.inputs.length} inputs (${model.inputs.map((t) => t.name).join(', ')}), got ${inputNames.length} names`);
    }
    for (const n of inputNames) {
      if (!this.b.isProduced(n)) throw new InputError(label, `input tensor '${n}' does not exist in the graph being built`);
    }
    const names = new Map<number, string>();
    model.inputs.forEach((t, i) => names.set(t.id, inputNames[i]));

    // Only the calls the outputs need, in dependency order.
    const order: Call[] = [];
    const state = new Map<TfNode, 'visiting' | 'done'>();
    const visit = (t: SymbolicTensor): void => {
      if (names.has(t.id)) return;
      const layer = t.sourceLayer;
      const node = layer.inboundNodes[t.nodeIndex];
      if (!node) throw new InputError(label, `tensor '${t.name}' has no producing call in layer '${layer.name}'`);
      const s = state.get(node);
      if (s === 'done') return;
      if (s === 'visiting') throw new InputError(label, `cycle through layer '${layer.name}'`);
      if (layer.getClassName() === 'InputLayer') {
        throw new InputError(label, `input '${t.name}' is used but is not one of the model's inputs`);
      }
      state.set(node, 'visiting');
      for (const x of node.inputTensors) visit(x);
      state.set(node, 'done');
      order.push({ layer, node, nodeIndex: t.nodeIndex });
    };
    model.outputs.forEach(visit);

    // Who reads each tensor (model outputs count as readers), for BatchNormalization folding.
    const readers = new Map<number, Call[]>();
    for (const c of order) for (const x of c.node.inputTensors) readers.set(x.id, [...(readers.get(x.id) ?? []), c]);
    const isModelOutput = new Set(model.outputs.map((t) => t.id));

    const wanted = new Map<number, string>();
    model.outputs.forEach((t, i) => {
      const want = desired?.[i];
      if (want === undefined || wanted.has(t.id)) return;
      if (this.b.has(want)) throw new InputError(label, `output name '${want}' is already used in the graph`);
      this.b.reserve(want);
      wanted.set(t.id, want);
    });

    const outNames = new Map<number, string>();
    const scopeOf = (c: Call) => `${prefix}${c.layer.name}${c.layer.inboundNodes.length > 1 ? `_call${c.nodeIndex}` : ''}`;
    const nameFor = (c: Call, i: number): string => {
      const t = c.node.outputTensors[i];
      if (!t) throw new Error(`layer '${c.layer.name}' has no output ${i}`);
      let n = outNames.get(t.id);
      if (!n) {
        n = wanted.get(t.id) ?? this.b.uniqueName(c.node.outputTensors.length > 1 ? `${scopeOf(c)}:${i}` : scopeOf(c));
        outNames.set(t.id, n);
      }
      return n;
    };
    const folded = new Map<TfNode, string>();

    for (const call of order) {
      const { layer, node } = call;
      const className = layer.getClassName();
      const outs = node.outputTensors;
      const foldedInto = folded.get(node);
      if (foldedInto !== undefined) {
        names.set(outs[0].id, foldedInto);
        continue;
      }
      const mapper = LAYER_MAPPERS[className];
      if (!mapper) {
        throw new UnsupportedOpError(
          `layer class '${className}'`,
          layer.name,
          SUPPORTED_LAYERS,
          'Build the decoder from supported layers, or add a mapper in converters/tfjs-to-onnx/mappers.',
        );
      }
      const scope = scopeOf(call);
      const weights = () => this.weights(layer);
      let foldTaken = false;
      const ctx: EmitContext = {
        b: this.b,
        opset: this.opset,
        layer,
        className,
        config: layer.getConfig() as Record<string, unknown>,
        inputs: node.inputTensors.map((t) => {
          const name = names.get(t.id);
          if (name === undefined) throw new Error(`internal: input '${t.name}' of '${layer.name}' not emitted yet`);
          return { name, shape: [...t.shape] as Shape };
        }),
        outputShapes: outs.map((t) => [...t.shape] as Shape),
        scope,
        prefix,
        outputName: (i = 0) => nameFor(call, i),
        tmp: (suffix) => this.b.uniqueName(`${scope}/${suffix}`),
        hasWeight: (key) => weights().has(key),
        weight: (key) => {
          const w = weights().get(key);
          if (!w) throw new Error(`layer '${layer.name}' (${className}) has no weight '${key}' (has: ${[...weights().keys()].join(', ')})`);
          return w;
        },
        initializer: (key, dims, data) => {
          const cacheKey = `${layer.id}|${key}`;
          let name = this.layerInitializers.get(cacheKey);
          if (!name) {
            name = this.b.uniqueName(`${prefix}${layer.name}/${key}`);
            this.b.addInitializer(name, dims, data);
            this.layerInitializers.set(cacheKey, name);
          }
          return name;
        },
        constant: (key, dims, data) => this.constant('f', key, dims, data),
        int64Constant: (key, dims, data) => this.constant('i', key, dims, data),
        takeBatchNormFold: (): BatchNormFold | undefined => {
          if (foldTaken) throw new Error('takeBatchNormFold called twice');
          foldTaken = true;
          const out = outs[0];
          if (outs.length !== 1 || isModelOutput.has(out.id)) return undefined;
          const r = readers.get(out.id) ?? [];
          if (r.length !== 1) return undefined;
          const bn = r[0];
          if (bn.layer.getClassName() !== 'BatchNormalization' || bn.node.inputTensors.length !== 1) return undefined;
          if (!isChannelBatchNorm(bn.layer.getConfig() as Record<string, unknown>, out.shape.length)) return undefined;
          const bw = this.weights(bn.layer);
          const p = batchNormParams({
            hasWeight: (k) => bw.has(k),
            weight: (k) => bw.get(k) as Weight,
          });
          const eps = Number((bn.layer.getConfig() as Record<string, unknown>).epsilon ?? 1e-3);
          const c = p.mean.length;
          const scale = new Float64Array(c);
          const shift = new Float64Array(c);
          for (let i = 0; i < c; i++) {
            scale[i] = p.gamma[i] / Math.sqrt(p.variance[i] + eps);
            shift[i] = p.beta[i] - p.mean[i] * scale[i];
          }
          const outputName = nameFor(bn, 0);
          folded.set(bn.node, outputName);
          return { scale, shift, outputName, key: bn.layer.name };
        },
        emitNested: (inner, innerInputs) => this.emitModel(inner, innerInputs, `${scope}/`),
      };
      let produced: string[];
      try {
        produced = mapper(ctx);
      } catch (err) {
        if (err instanceof OnnxtuneError) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`tfjs-to-onnx: layer '${layer.name}' (${className}): ${msg}`, { cause: err });
      }
      if (produced.length !== outs.length) {
        throw new Error(`tfjs-to-onnx: mapper for ${className} returned ${produced.length} outputs, the layer has ${outs.length}`);
      }
      outs.forEach((t, i) => names.set(t.id, produced[i]));
    }

    return model.outputs.map((t, i) => {
      const got = names.get(t.id) as string;
      const want = desired?.[i];
      if (want === undefined || want === got) return got;
      if (this.b.isProduced(want)) throw new InputError(label, `output name '${want}' is already a tensor of the graph`);
      this.b.addNode('Identity', [got], [want], {}, `${want}/Identity`);
      return want;
    });
  }
}

/**
 * Appends the nodes of `model` to `builder`, reading `inputTensorNames` (existing tensors,
 * NCHW for 4-D inputs, in the order of `model.inputs`), and returns the ONNX names of the
 * model outputs (NCHW for 4-D). Internal names start with `prefix`.
 * @throws UnsupportedOpError for a layer class, configuration or opset the converter cannot map.
 */
export function emitLayersModel(
  builder: GraphBuilder,
  model: LayersModel,
  inputTensorNames: readonly string[],
  prefix: string,
  opts: EmitOptions = {},
): string[] {
  const opset = opts.opset ?? 17;
  checkOpset(opset);
  if (opts.outputNames && opts.outputNames.length !== model.outputs.length) {
    throw new InputError(`tfjs model '${model.name}'`, `has ${model.outputs.length} outputs, got ${opts.outputNames.length} output names`);
  }
  return new Emitter(builder, opset, prefix).emitModel(model, inputTensorNames, prefix, opts.outputNames);
}
