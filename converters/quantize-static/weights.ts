/**
 * Conv weights wherever the file keeps them, as float initializers: a model shipped with float16
 * weight storage (`Cast(float16 initializer) → float`, converters/fp16-weights.ts), weights in
 * Constant nodes or behind Identity/Reshape chains would otherwise look like activations to the
 * planner, and their Convs would stay float (gray-s25 as shipped: 4 of 35 Convs quantized).
 * The constant resolver (src/onnx/constants.ts) says what each weight holds; the Conv then reads a
 * new float initializer with those values, and the old producers go when nothing else reads them.
 */
import { GraphBuilder } from '../../src/onnx/builder';
import { constToTensorProto } from '../../src/onnx/const-tensor';
import { constantResolver } from '../../src/onnx/constants';
import { isDefaultDomain, onnx, type ModelProto } from '../../src/onnx/proto';
import { pruneUnused } from '../model-utils';

/**
 * A copy of `model` whose Conv weights and biases are float initializers where they are
 * constants computed some other way; `materialized` counts the tensors rewritten.
 * The input model is not modified.
 */
export function materializeConvWeights(model: ModelProto): { model: onnx.ModelProto; materialized: number } {
  const graph = model.graph;
  if (!graph) return { model: onnx.ModelProto.create(model), materialized: 0 };
  const consts = constantResolver(model);
  const names = GraphBuilder.fromGraph(graph);
  const made = new Map<string, string>();
  const inits: onnx.TensorProto[] = [];
  const nodes = (graph.node ?? []).map((n) => {
    if (n.opType !== 'Conv' || !isDefaultDomain(n.domain)) return n as onnx.NodeProto;
    const input = (n.input ?? []).map((name, k) => {
      if (k === 0 || !name || consts.isInitializer(name) || !consts.isConstant(name)) return name;
      const done = made.get(name);
      if (done) return done;
      const value = consts.value(name);
      if (!value || value.dtype !== 'float') return name;
      const fresh = names.uniqueName(`${name}_float`);
      inits.push(constToTensorProto(fresh, value));
      made.set(name, fresh);
      return fresh;
    });
    return onnx.NodeProto.create({ ...n, input });
  });
  if (!made.size) return { model: onnx.ModelProto.create(model), materialized: 0 };
  const out = onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...inits] as onnx.TensorProto[] });
  // The old producers (Cast of the float16 copy, Constant, …) go with whatever nothing reads any more.
  pruneUnused(out, { allNodes: true });
  return { model: onnx.ModelProto.create({ ...model, graph: out }), materialized: made.size };
}
