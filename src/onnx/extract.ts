/**
 * Cutting a sub-model out of a model, like onnx.utils.extract_model: keep only the nodes
 * that the requested outputs need (optionally stopping at given tensors, which become the
 * new inputs), prune unused initializers and inputs, and declare the requested outputs.
 */
import { InputError } from '../errors';
import { cloneNode, makeValueInfo, nodeSubgraphs, renameValueInfo, valueInfoMap } from './graph-utils';
import { onnx, type GraphProto, type ModelProto, type NodeProto } from './proto';

/** Names a subgraph reads from its enclosing scope (used but not defined inside it). */
export function outerScopeReads(graph: GraphProto): string[] {
  const defined = new Set<string>();
  const reads = new Set<string>();
  for (const t of graph.initializer ?? []) if (t.name) defined.add(t.name);
  for (const vi of graph.input ?? []) if (vi.name) defined.add(vi.name);
  for (const node of graph.node ?? []) {
    for (const i of node.input ?? []) if (i && !defined.has(i)) reads.add(i);
    for (const sub of nodeSubgraphs(node)) for (const r of outerScopeReads(sub)) if (!defined.has(r)) reads.add(r);
    for (const o of node.output ?? []) if (o) defined.add(o);
  }
  for (const vi of graph.output ?? []) if (vi.name && !defined.has(vi.name)) reads.add(vi.name);
  return [...reads];
}

/** Every tensor a node reads: its inputs plus what its subgraphs read from outside. */
export function nodeReads(node: NodeProto): string[] {
  const out = (node.input ?? []).filter((i) => i);
  for (const sub of nodeSubgraphs(node)) out.push(...outerScopeReads(sub));
  return out;
}

/** Up to `n` known names, those resembling `wanted` first. */
export function suggestNames(wanted: string, known: Iterable<string>, n = 8): string[] {
  const w = wanted.toLowerCase();
  const close: string[] = [];
  const rest: string[] = [];
  for (const k of known) {
    const l = k.toLowerCase();
    (w && (l.includes(w) || w.includes(l)) ? close : rest).push(k);
    if (close.length >= n) break;
  }
  return [...close, ...rest].slice(0, n);
}

/**
 * A new model computing `outputNames` from the original inputs, or from `inputNames` when
 * given (those tensors become graph inputs; needed original inputs are kept after them).
 * Outputs carry their known value-info type/shape, else FLOAT with unknown shape.
 * @throws InputError when a name is not a tensor of the model (listing a few valid names).
 */
export function extractSubModel(
  model: ModelProto,
  outputNames: readonly string[],
  inputNames: readonly string[] = [],
  label = 'model',
): onnx.ModelProto {
  const graph = model.graph;
  if (!graph) throw new InputError(label, 'has no graph');
  if (!outputNames.length) throw new InputError(label, 'extractSubModel needs at least one output name');
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t] as const));
  const graphInputs = (graph.input ?? []).filter((vi) => !inits.has(vi.name ?? ''));
  const graphInputNames = new Set(graphInputs.map((vi) => vi.name ?? ''));
  const known = new Set<string>([...graphInputNames, ...inits.keys(), ...producer.keys()]);
  for (const name of [...outputNames, ...inputNames]) {
    if (!known.has(name)) {
      throw new InputError(label, `no tensor named '${name}'; some valid names: ${suggestNames(name, known).join(', ')}`);
    }
  }

  const stop = new Set(inputNames);
  const keepNodes = new Set<number>();
  const keepInits = new Set<string>();
  const neededInputs = new Set<string>();
  const seen = new Set<string>();
  const stack = [...outputNames];
  while (stack.length) {
    const t = stack.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    if (stop.has(t)) continue;
    const p = producer.get(t);
    if (p !== undefined) {
      if (!keepNodes.has(p)) {
        keepNodes.add(p);
        stack.push(...nodeReads(nodes[p]));
      }
    } else if (inits.has(t)) {
      keepInits.add(t);
    } else if (graphInputNames.has(t)) {
      neededInputs.add(t);
    } else {
      throw new InputError(label, `tensor '${t}' is read but never produced; the graph is malformed`);
    }
  }

  const infos = valueInfoMap(graph);
  const infoFor = (name: string) => {
    const vi = infos.get(name);
    return vi?.type ? renameValueInfo(vi, name) : makeValueInfo(name);
  };
  const keptNodes = nodes.filter((_, i) => keepNodes.has(i)).map(cloneNode);
  const producedByKept = new Set(keptNodes.flatMap((n) => n.output ?? []));
  const inputs = [
    ...inputNames.map(infoFor),
    ...graphInputs.filter((vi) => neededInputs.has(vi.name ?? '') && !stop.has(vi.name ?? '')).map((vi) => infoFor(vi.name ?? '')),
  ];
  const outputSet = new Set(outputNames);
  const newGraph = onnx.GraphProto.create({
    name: graph.name ?? 'extracted',
    docString: graph.docString ?? '',
    node: keptNodes,
    initializer: (graph.initializer ?? []).filter((t) => keepInits.has(t.name ?? '')),
    input: inputs,
    output: outputNames.map(infoFor),
    valueInfo: (graph.valueInfo ?? []).filter((vi) => producedByKept.has(vi.name ?? '') && !outputSet.has(vi.name ?? '')),
  });
  return onnx.ModelProto.create({ ...model, graph: newGraph });
}
