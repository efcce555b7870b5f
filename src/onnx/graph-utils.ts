/**
 * Small shared helpers for walking and copying graphs: visiting nested subgraphs (If/Loop
 * bodies), shallow node copies, value-info lookup and construction. Used by model-io,
 * check, extract and compose; not part of the public surface beyond these helpers.
 */
import { AttributeType, onnx, type GraphProto, type NodeProto, type ValueInfoProto } from './proto';

/** Calls `fn` on every subgraph held in a node attribute (GRAPH / GRAPHS), not recursing. */
export function nodeSubgraphs(node: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const a of node.attribute ?? []) {
    if (a.g) out.push(a.g);
    for (const g of a.graphs ?? []) out.push(g);
  }
  return out;
}

/** Visits `graph` and every graph nested in its nodes' attributes, depth first. */
export function forEachGraph(graph: GraphProto, fn: (g: GraphProto) => void): void {
  fn(graph);
  for (const node of graph.node ?? []) for (const sub of nodeSubgraphs(node)) forEachGraph(sub, fn);
}

/** A shallow copy of a node with its own input/output/attribute arrays. */
export function cloneNode(node: NodeProto): onnx.NodeProto {
  return onnx.NodeProto.create({
    ...node,
    input: [...(node.input ?? [])],
    output: [...(node.output ?? [])],
    attribute: [...(node.attribute ?? [])],
  });
}

/** Every value-info the graph declares (inputs, outputs, value_info), by name; later wins. */
export function valueInfoMap(graph: GraphProto): Map<string, ValueInfoProto> {
  const map = new Map<string, ValueInfoProto>();
  for (const list of [graph.valueInfo, graph.input, graph.output]) {
    for (const vi of list ?? []) if (vi.name) map.set(vi.name, vi);
  }
  return map;
}

/** A tensor value-info; `dims` entries are numbers (fixed) or strings (symbolic); no dims = unknown shape. */
export function makeValueInfo(
  name: string,
  dims?: ReadonlyArray<number | string>,
  elemType: number = onnx.TensorProto.DataType.FLOAT,
): onnx.ValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType };
  if (dims) {
    tensorType.shape = {
      dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
    };
  }
  return onnx.ValueInfoProto.create({ name, type: { tensorType } });
}

/** A copy of `vi` under another name (same type). */
export function renameValueInfo(vi: ValueInfoProto, name: string): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({ ...vi, name });
}

/** Whether an attribute holds graphs (used to decide when renames must recurse). */
export function isGraphAttribute(type: number | null | undefined): boolean {
  return type === AttributeType.GRAPH || type === AttributeType.GRAPHS;
}
