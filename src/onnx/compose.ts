/**
 * Composing models: renaming every tensor of a graph under a prefix, and merging two models
 * into one where chosen tensors of the first feed inputs of the second (encoder taps →
 * decoder inputs). The merged graph is pruned to what its outputs need and checked.
 */
import { InputError } from '../errors';
import { minIrVersionForOpset } from './builder';
import { assertModelValid } from './check';
import { extractSubModel, suggestNames } from './extract';
import { cloneNode, makeValueInfo, renameValueInfo, valueInfoMap } from './graph-utils';
import { valueInfoDims } from './info';
import { isDefaultDomain, onnx, toNumber, type GraphProto, type ModelProto, type ValueInfoProto } from './proto';

/** Returns a copy of `graph` where every tensor and node name `n` becomes `rename(n)` (empty names stay empty), subgraphs included. */
export function renameGraph(graph: GraphProto, rename: (name: string) => string): onnx.GraphProto {
  const r = (n: string | null | undefined) => (n ? rename(n) : (n ?? ''));
  const node = (graph.node ?? []).map((n) => {
    const c = cloneNode(n);
    c.name = r(n.name);
    c.input = c.input.map(r);
    c.output = c.output.map(r);
    c.attribute = c.attribute.map((a) => {
      if (!a.g && !(a.graphs && a.graphs.length)) return a;
      return onnx.AttributeProto.create({
        ...a,
        ...(a.g ? { g: renameGraph(a.g, rename) } : {}),
        ...(a.graphs && a.graphs.length ? { graphs: a.graphs.map((g) => renameGraph(g, rename)) } : {}),
      });
    });
    return c;
  });
  const vi = (list: ValueInfoProto[] | null | undefined) => (list ?? []).map((v) => renameValueInfo(v, r(v.name)));
  return onnx.GraphProto.create({
    ...graph,
    node,
    initializer: (graph.initializer ?? []).map((t) => onnx.TensorProto.create({ ...t, name: r(t.name) })),
    sparseInitializer: (graph.sparseInitializer ?? []).map((s) =>
      onnx.SparseTensorProto.create({ ...s, values: s.values ? { ...s.values, name: r(s.values.name) } : s.values }),
    ),
    input: vi(graph.input),
    output: vi(graph.output),
    valueInfo: vi(graph.valueInfo),
  });
}

/** A copy of `graph` with `prefix` prepended to every node and tensor name except those in `keepNames`. */
export function prefixGraph(graph: GraphProto, prefix: string, keepNames: ReadonlySet<string> = new Set()): onnx.GraphProto {
  return renameGraph(graph, (n) => (keepNames.has(n) ? n : prefix + n));
}

/** Options for {@link mergeModels}. */
export interface MergeOptions {
  /** [tensor of a, graph input of b]: b's input is fed by a's tensor (any tensor of a, not only outputs). */
  connect: ReadonlyArray<readonly [string, string]>;
  /** Outputs of the merged model: a merged (prefixed) name, or an original name looked up in b first, then in a. */
  outputs: readonly string[];
  /** [graph input of a, graph input of b]: both become a's input. */
  shareInputs?: ReadonlyArray<readonly [string, string]>;
  /** Prepended to all of a's names (default ''). */
  prefixA?: string;
  /** Prepended to all of b's names (default ''). */
  prefixB?: string;
  /** Default-domain opset of the result; default the larger of a's and b's; may not be lower. */
  opset?: number;
  /** Drop nodes and initializers the outputs do not need (default true); graph inputs are always kept. */
  prune?: boolean;
  producerName?: string;
  producerVersion?: string;
  /** Added after a's then b's metadata (later keys replace earlier ones). */
  metadata?: Record<string, string>;
  /** Name used in errors (default 'mergeModels'). */
  label?: string;
}

function definedNames(graph: GraphProto): Set<string> {
  const s = new Set<string>();
  for (const t of graph.initializer ?? []) if (t.name) s.add(t.name);
  for (const vi of graph.input ?? []) if (vi.name) s.add(vi.name);
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) s.add(o);
  return s;
}

function graphInputNames(graph: GraphProto): Set<string> {
  const inits = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return new Set((graph.input ?? []).map((v) => v.name ?? '').filter((n) => n && !inits.has(n)));
}

function opsetMap(model: ModelProto): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of model.opsetImport ?? []) m.set(isDefaultDomain(o.domain) ? '' : (o.domain as string), toNumber(o.version));
  return m;
}

function checkCompatible(a: ValueInfoProto | undefined, b: ValueInfoProto | undefined, what: string, label: string): void {
  const ta = a?.type?.tensorType;
  const tb = b?.type?.tensorType;
  if (ta?.elemType && tb?.elemType && ta.elemType !== tb.elemType) {
    throw new InputError(label, `${what}: element types differ (${ta.elemType} vs ${tb.elemType})`);
  }
  const da = a ? valueInfoDims(a) : undefined;
  const db = b ? valueInfoDims(b) : undefined;
  if (!da || !db) return;
  if (da.length !== db.length) throw new InputError(label, `${what}: ranks differ ([${da.join(',')}] vs [${db.join(',')}])`);
  da.forEach((d, i) => {
    if (typeof d === 'number' && typeof db[i] === 'number' && d !== db[i]) {
      throw new InputError(label, `${what}: dim ${i} differs ([${da.join(',')}] vs [${db.join(',')}])`);
    }
  });
}

/**
 * Merges `a` and `b` into one model in which b's inputs listed in `connect` are computed by a.
 * @throws InputError on unknown names, name collisions (use prefixA/prefixB), incompatible
 *   connected shapes, or a result that fails checkModel.
 */
export function mergeModels(a: ModelProto, b: ModelProto, opts: MergeOptions): onnx.ModelProto {
  const label = opts.label ?? 'mergeModels';
  if (!a.graph || !b.graph) throw new InputError(label, 'both models need a graph');
  const prefixA = opts.prefixA ?? '';
  const prefixB = opts.prefixB ?? '';
  const aDefined = definedNames(a.graph);
  const aInputs = graphInputNames(a.graph);
  const bInputs = graphInputNames(b.graph);
  const bDefined = definedNames(b.graph);

  const wire = new Map<string, string>(); // original b input → (prefixed) a tensor
  const addWire = (aName: string, bName: string, kind: string, aPool: Set<string>) => {
    if (!aPool.has(aName)) {
      throw new InputError(label, `${kind}: model a has no ${kind === 'connect' ? 'tensor' : 'input'} '${aName}'; some valid names: ${suggestNames(aName, aPool).join(', ')}`);
    }
    if (!bInputs.has(bName)) {
      throw new InputError(label, `${kind}: model b has no graph input '${bName}'; its inputs: ${[...bInputs].join(', ')}`);
    }
    if (wire.has(bName)) throw new InputError(label, `${kind}: b input '${bName}' is wired twice`);
    wire.set(bName, prefixA + aName);
  };
  for (const [aName, bName] of opts.connect) addWire(aName, bName, 'connect', aDefined);
  for (const [aName, bName] of opts.shareInputs ?? []) addWire(aName, bName, 'shareInputs', aInputs);

  const ga = prefixA ? prefixGraph(a.graph, prefixA) : renameGraph(a.graph, (n) => n);
  const bStripped = onnx.GraphProto.create({ ...b.graph, input: (b.graph.input ?? []).filter((vi) => !wire.has(vi.name ?? '')) });
  const gb = renameGraph(bStripped, (n) => wire.get(n) ?? prefixB + n);

  // Connected shapes must agree where both sides know them.
  const aInfos = valueInfoMap(ga);
  const bInfos = valueInfoMap(b.graph);
  for (const [bName, aName] of wire) checkCompatible(aInfos.get(aName), bInfos.get(bName), `'${aName}' → '${bName}'`, label);

  const gaDefined = definedNames(ga);
  const clashes = [...definedNames(gb)].filter((n) => gaDefined.has(n) && ![...wire.values()].includes(n));
  if (clashes.length) {
    throw new InputError(label, `a and b both define ${clashes.slice(0, 5).map((c) => `'${c}'`).join(', ')}${clashes.length > 5 ? ', …' : ''}; pass prefixA/prefixB`);
  }
  const aNodeNames = new Set((ga.node ?? []).map((n) => n.name ?? ''));
  for (const n of gb.node ?? []) {
    if (n.name && aNodeNames.has(n.name)) {
      let i = 1;
      while (aNodeNames.has(`${n.name}_${i}`)) i++;
      n.name = `${n.name}_${i}`;
    }
  }

  // Resolve the requested outputs by original name: b first, then a.
  const gbInfos = valueInfoMap(gb);
  const mergedDefined = new Set([...gaDefined, ...definedNames(gb)]);
  const outputNames = opts.outputs.map((name) => {
    const fromB = bDefined.has(name) ? (wire.get(name) ?? prefixB + name) : undefined;
    if (mergedDefined.has(name)) {
      if (fromB !== undefined && fromB !== name) {
        throw new InputError(label, `output '${name}' is ambiguous: a merged tensor and b's '${name}' (merged as '${fromB}'); give the merged name`);
      }
      return name;
    }
    if (fromB !== undefined) return fromB;
    if (aDefined.has(name)) return prefixA + name;
    throw new InputError(label, `output '${name}' is a tensor of neither model; some valid names: ${suggestNames(name, [...bDefined, ...aDefined]).join(', ')}`);
  });
  const outInfo = (n: string) => {
    const vi = gbInfos.get(n) ?? aInfos.get(n);
    return vi?.type ? renameValueInfo(vi, n) : makeValueInfo(n);
  };

  const opsets = opsetMap(a);
  for (const [d, v] of opsetMap(b)) opsets.set(d, Math.max(v, opsets.get(d) ?? 0));
  const maxDefault = opsets.get('') ?? 0;
  if (opts.opset !== undefined) {
    if (opts.opset < maxDefault) throw new InputError(label, `opset ${opts.opset} is lower than the models need (${maxDefault})`);
    opsets.set('', opts.opset);
  }
  const metadata = new Map<string, string>();
  for (const m of [a, b]) for (const kv of m.metadataProps ?? []) if (kv.key) metadata.set(kv.key, kv.value ?? '');
  for (const [k, v] of Object.entries(opts.metadata ?? {})) metadata.set(k, v);

  const outSet = new Set(outputNames);
  const demoted = [...(ga.output ?? []), ...(gb.output ?? [])].filter((vi) => !outSet.has(vi.name ?? '') && vi.type);
  const graph = onnx.GraphProto.create({
    name: `${a.graph.name || 'a'}+${b.graph.name || 'b'}`,
    node: [...(ga.node ?? []), ...(gb.node ?? [])],
    initializer: [...(ga.initializer ?? []), ...(gb.initializer ?? [])],
    input: [...(ga.input ?? []), ...(gb.input ?? [])],
    output: outputNames.map(outInfo),
    valueInfo: [...(ga.valueInfo ?? []), ...(gb.valueInfo ?? []), ...demoted].filter((vi) => !outSet.has(vi.name ?? '')),
  });
  const defaultOpset = opsets.get('') ?? 0;
  let merged = onnx.ModelProto.create({
    irVersion: Math.max(toNumber(a.irVersion), toNumber(b.irVersion), minIrVersionForOpset(defaultOpset)),
    opsetImport: [...opsets].map(([domain, version]) => ({ domain, version })),
    producerName: opts.producerName ?? 'onnxtune',
    producerVersion: opts.producerVersion ?? a.producerVersion ?? '',
    graph,
    metadataProps: [...metadata].map(([key, value]) => ({ key, value })),
  });
  if (opts.prune ?? true) {
    const allInits = new Set(graph.initializer.map((t) => t.name ?? ''));
    merged = extractSubModel(merged, outputNames, [], label);
    const pruned = merged.graph as onnx.GraphProto;
    const keptInits = new Set(pruned.initializer.map((t) => t.name ?? ''));
    // Keep every real graph input (the interface stays stable); drop inputs that shadowed pruned initializers.
    pruned.input = graph.input.filter((vi) => !allInits.has(vi.name ?? '') || keptInits.has(vi.name ?? ''));
  }
  assertModelValid(merged, label);
  return merged;
}
