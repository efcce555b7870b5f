/**
 * A plain-data summary of a model for logs, run.json and the CLI: inputs/outputs with
 * fixed or symbolic dims, opsets, producer, parameter and node counts, op histogram and
 * metadata. Reads only; never touches tensor data beyond counting elements.
 */
import { dataTypeName, isDefaultDomain, toNumber, type ModelProto, type ValueInfoProto } from './proto';
import { tensorNumel } from './tensor';

/** One graph input or output. */
export interface TensorInfo {
  name: string;
  /** Element type name, e.g. "FLOAT". */
  elemType: string;
  /** Fixed dims as numbers, symbolic dims as their name, unknown dims as '?'; [] when the shape is unknown (see shapeKnown). */
  dims: Array<number | string>;
  /** False when the value-info declares no shape at all (dims is then []). */
  shapeKnown: boolean;
}

/** What {@link modelInfo} returns. */
export interface ModelInfo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Declared operator sets; the default domain has domain '' (or 'ai.onnx' if the file says so). */
  opsets: Array<{ domain: string; version: number }>;
  irVersion: number;
  /** "name version", e.g. "onnxtune 0.1.0" ('' when unset). */
  producer: string;
  producerName: string;
  producerVersion: string;
  /** Elements in all initializers (graph inputs that are also initializers count once). */
  parameterCount: number;
  nodeCount: number;
  /** opType → count (custom domains as 'domain:opType'). */
  opCounts: Record<string, number>;
  metadata: Record<string, string>;
}

/** Dims of a value-info: numbers, symbolic names, or '?' for unknown; undefined when no shape. */
export function valueInfoDims(vi: ValueInfoProto): Array<number | string> | undefined {
  const shape = vi.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    // protobufjs keeps unset fields on the prototype, so an own dimValue means "set".
    if (d.dimValue !== null && d.dimValue !== undefined && Object.prototype.hasOwnProperty.call(d, 'dimValue')) {
      return toNumber(d.dimValue);
    }
    return '?';
  });
}

function tensorInfo(vi: ValueInfoProto): TensorInfo {
  const dims = valueInfoDims(vi);
  return { name: vi.name ?? '', elemType: dataTypeName(vi.type?.tensorType?.elemType), dims: dims ?? [], shapeKnown: dims !== undefined };
}

/** Summarizes `model` (see {@link ModelInfo}). */
export function modelInfo(model: ModelProto): ModelInfo {
  const graph = model.graph ?? {};
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const opsets = (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version) }));
  const opCounts: Record<string, number> = {};
  for (const n of graph.node ?? []) {
    const key = isDefaultDomain(n.domain) ? (n.opType ?? '') : `${n.domain}:${n.opType}`;
    opCounts[key] = (opCounts[key] ?? 0) + 1;
  }
  const metadata: Record<string, string> = {};
  for (const kv of model.metadataProps ?? []) if (kv.key) metadata[kv.key] = kv.value ?? '';
  return {
    inputs: (graph.input ?? []).filter((vi) => !initNames.has(vi.name ?? '')).map(tensorInfo),
    outputs: (graph.output ?? []).map(tensorInfo),
    opsets,
    irVersion: toNumber(model.irVersion),
    producer: [model.producerName ?? '', model.producerVersion ?? ''].filter(Boolean).join(' '),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    parameterCount: (graph.initializer ?? []).reduce((s, t) => s + tensorNumel(t), 0),
    nodeCount: (graph.node ?? []).length,
    opCounts,
    metadata,
  };
}
