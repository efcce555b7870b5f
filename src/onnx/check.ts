/**
 * A structural checker for graphs we build or rewrite (not a full ONNX checker): the
 * default-domain opset is declared, nodes are in topological order, each tensor is
 * produced once, and every graph output is produced. Subgraphs see their outer scope.
 */
import { InputError } from '../errors';
import { nodeSubgraphs } from './graph-utils';
import { isDefaultDomain, type GraphProto, type ModelProto } from './proto';

function checkGraph(graph: GraphProto, outer: ReadonlySet<string>, where: string, problems: string[], domains: Set<string>): void {
  const local = new Set<string>();
  const known = (n: string) => local.has(n) || outer.has(n);
  const define = (n: string, what: string) => {
    if (local.has(n)) problems.push(`${where}: tensor '${n}' is produced twice (again by ${what})`);
    local.add(n);
  };
  for (const t of graph.initializer ?? []) if (t.name) define(t.name, 'an initializer');
  const initNames = new Set(local);
  for (const vi of graph.input ?? []) {
    if (!vi.name) {
      problems.push(`${where}: a graph input has no name`);
    } else if (!initNames.has(vi.name)) {
      define(vi.name, 'a graph input');
    }
  }
  (graph.node ?? []).forEach((node, i) => {
    const label = `${where}: node ${i} (${node.opType ?? '?'}${node.name ? ` '${node.name}'` : ''})`;
    if (!node.opType) problems.push(`${label} has no op_type`);
    if (!isDefaultDomain(node.domain) && !domains.has(node.domain as string)) {
      problems.push(`${label} uses domain '${node.domain}' with no opset_import for it`);
    }
    for (const inp of node.input ?? []) {
      if (inp && !known(inp)) problems.push(`${label} reads '${inp}', which is not produced before it (graph input, initializer or earlier node)`);
    }
    const subs = nodeSubgraphs(node);
    if (subs.length) {
      const scope = new Set([...outer, ...local]);
      for (const sub of subs) checkGraph(sub, scope, `${label} subgraph '${sub.name ?? ''}'`, problems, domains);
    }
    for (const out of node.output ?? []) if (out) define(out, label);
  });
  for (const vi of graph.output ?? []) {
    if (!vi.name) problems.push(`${where}: a graph output has no name`);
    else if (!known(vi.name)) problems.push(`${where}: graph output '${vi.name}' is never produced`);
  }
}

/** Structural problems of `model`; an empty list means it passed. */
export function checkModel(model: ModelProto): string[] {
  const problems: string[] = [];
  const opsets = model.opsetImport ?? [];
  if (!opsets.some((o) => isDefaultDomain(o.domain))) problems.push('no opset_import for the default ONNX domain');
  const domains = new Set(opsets.map((o) => o.domain ?? '').filter((d) => !isDefaultDomain(d)));
  if (!model.graph) {
    problems.push('model has no graph');
    return problems;
  }
  checkGraph(model.graph, new Set(), 'graph', problems, domains);
  return problems;
}

/**
 * Throws when {@link checkModel} finds problems.
 * @throws InputError naming `label` and the first problems.
 */
export function assertModelValid(model: ModelProto, label: string): void {
  const problems = checkModel(model);
  if (!problems.length) return;
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? ` (+${problems.length - 5} more)` : '';
  throw new InputError(label, `invalid ONNX graph: ${shown}${more}`);
}
