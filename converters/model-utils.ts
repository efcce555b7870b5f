/**
 * Small helpers shared by the model-level converters: the default-domain opset of a model,
 * and dead-node/initializer cleanup (constants are looked up with src/onnx/constants.ts).
 */
import { isDefaultDomain, toNumber, type GraphProto, type ModelProto } from '../src/onnx/proto';

/** The model's default-domain ('' / 'ai.onnx') opset, 1 when none is declared. */
export function defaultOpset(model: ModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => isDefaultDomain(x.domain));
  return o ? toNumber(o.version) : 1;
}

/**
 * Removes, in place, Constant nodes nobody reads (with `allNodes`, any node nobody reads, e.g. a
 * DequantizeLinear whose weight was replaced) and initializers no node or graph output reads
 * (initializers that are declared graph inputs are kept).
 */
export function pruneUnused(graph: GraphProto, opts: { allNodes?: boolean } = {}): void {
  const keep = new Set((graph.output ?? []).map((o) => o.name as string));
  for (const vi of graph.input ?? []) keep.add(vi.name as string);
  let changed = true;
  while (changed) {
    const used = new Set([...keep, ...(graph.node ?? []).flatMap((n) => n.input ?? [])]);
    const before = (graph.node ?? []).length;
    graph.node = (graph.node ?? []).filter((n) => (!opts.allNodes && n.opType !== 'Constant') || (n.output ?? []).some((o) => used.has(o)));
    changed = graph.node.length !== before;
  }
  const used = new Set([...keep, ...(graph.node ?? []).flatMap((n) => n.input ?? [])]);
  graph.initializer = (graph.initializer ?? []).filter((t) => used.has(t.name as string));
}
