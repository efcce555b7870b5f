/**
 * A denoiser's last Conv (few output channels, e.g. 32 → 1, and no Conv after it) is onnxruntime's
 * slowest int8 Conv per MAC: its int8 kernels work on blocks of 16 output channels, so 32 → 1 at
 * 256² takes 6.5 ms on int8 and 2.0 ms as 32 → 16 (float: 4.2 ms). This pass gives such a Conv zero
 * output channels up to 16 and a Slice after it that keeps the real ones: exact in float
 * (the extra channels are 0 and never read), and after quantization the Slice runs on the dequantized
 * output. A Relu that is the Conv's only reader stays next to it (the Slice follows the Relu), so the
 * quantizer can still fold it. The input model is not modified.
 */
import { GraphBuilder } from '../../src/onnx/builder';
import { isDefaultDomain, onnx, type ModelProto } from '../../src/onnx/proto';
import { floatTensor, int64Tensor, tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';
import { defaultOpset } from '../model-utils';
import { reachesConv } from './plan';

/** onnxruntime's int8 Conv kernels compute output channels in blocks of this many. */
export const OUTPUT_CHANNEL_BLOCK = 16;

/**
 * The weight dims [out, in, kh, kw] of a Conv the padding passes may rewrite: default domain, group 1, 2-D, float
 * initializer weight (and bias), not excluded by name; otherwise undefined.
 */
export function plainFloatConvDims(n: onnx.INodeProto, inits: ReadonlyMap<string, onnx.ITensorProto>, excluded: ReadonlySet<string>): number[] | undefined {
  if (n.opType !== 'Conv' || !isDefaultDomain(n.domain) || excluded.has(n.name || (n.output?.[0] ?? ''))) return undefined;
  const [, wName, bName] = n.input ?? [];
  const w = inits.get(wName ?? '');
  const b = bName ? inits.get(bName) : undefined;
  const group = Number((n.attribute ?? []).find((a) => a.name === 'group')?.i ?? 1);
  if (!w || w.dataType !== onnx.TensorProto.DataType.FLOAT || (bName && b?.dataType !== onnx.TensorProto.DataType.FLOAT) || group !== 1) return undefined;
  const dims = tensorDims(w);
  return dims.length === 4 ? dims : undefined;
}

/**
 * `model` with `nodes` as its graph's nodes, `newInits` added and the initializers (and graph inputs) in `replaced`
 * dropped, except those a node still reads.
 */
export function withNodes(model: ModelProto, graph: onnx.IGraphProto, nodes: onnx.NodeProto[], newInits: onnx.TensorProto[], replaced: Set<string>): onnx.ModelProto {
  for (const n of nodes) for (const i of n.input ?? []) replaced.delete(i);
  const initializer = [...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '')), ...newInits] as onnx.TensorProto[];
  const input = (graph.input ?? []).filter((vi) => !replaced.has(vi.name ?? '')).map((vi) => onnx.ValueInfoProto.create(vi));
  return onnx.ModelProto.create({ ...model, graph: onnx.GraphProto.create({ ...graph, node: nodes, initializer, input }) });
}

/** One padded Conv. */
export interface PaddedConv {
  node: string;
  from: number;
  to: number;
}

/**
 * Pads every Conv with fewer than `block` output channels whose output reaches no other Conv (see the
 * module comment); only Convs with float initializer weights (and bias) and group 1.
 */
export function padOutputConvs(model: ModelProto, opts: { block?: number; excludeNodes?: readonly string[] } = {}): { model: onnx.ModelProto; padded: PaddedConv[] } {
  const graph = model.graph;
  const block = opts.block ?? OUTPUT_CHANNEL_BLOCK;
  if (!graph || block <= 1 || defaultOpset(model) < 10) return { model: onnx.ModelProto.create(model), padded: [] };
  const excluded = new Set(opts.excludeNodes ?? []);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const readers = new Map<string, onnx.NodeProto[]>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n as onnx.NodeProto]);
  const names = GraphBuilder.fromGraph(graph);
  const newInits: onnx.TensorProto[] = [];
  const replaced = new Set<string>();
  const padded: PaddedConv[] = [];
  const nodes: onnx.NodeProto[] = [];
  const movedRelus = new Set<unknown>();
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  for (const n of graph.node ?? []) {
    if (movedRelus.has(n)) continue;
    const [x, wName, bName] = n.input ?? [];
    const out = n.output?.[0] ?? '';
    const w = inits.get(wName ?? '');
    const b = bName ? inits.get(bName) : undefined;
    const dims = plainFloatConvDims(n, inits, excluded) ?? [];
    const eligible = w && dims.length && dims[0] < block && out && !reachesConv(out, readers);
    if (!eligible) {
      nodes.push(n as onnx.NodeProto);
      continue;
    }
    const [cout, ...rest] = dims;
    const per = rest.reduce((p, d) => p * d, 1);
    const weights = new Float32Array(block * per);
    weights.set(tensorToFloat32(w));
    const wNew = names.uniqueName(`${wName}_padded`);
    newInits.push(floatTensor(wNew, [block, ...rest], weights));
    const input = [x, wNew];
    if (bName && b) {
      const bias = new Float32Array(block);
      bias.set(tensorToFloat32(b));
      const bNew = names.uniqueName(`${bName}_padded`);
      newInits.push(floatTensor(bNew, [block], bias));
      input.push(bNew);
    }
    // A lone Relu after the Conv moves with it, so the Q still follows Conv → Relu.
    const next = readers.get(out) ?? [];
    const relu = next.length === 1 && next[0].opType === 'Relu' && isDefaultDomain(next[0].domain) && !graphOutputs.has(out) ? next[0] : undefined;
    const sliced = relu ? (relu.output?.[0] ?? '') : out;
    const paddedOut = names.uniqueName(`${out}_padded`);
    const paddedRelu = relu ? names.uniqueName(`${sliced}_padded`) : paddedOut;
    const [starts, ends, axes] = ['starts', 'ends', 'axes'].map((s) => names.uniqueName(`${sliced}_slice_${s}`));
    newInits.push(int64Tensor(starts, [1], [0]), int64Tensor(ends, [1], [cout]), int64Tensor(axes, [1], [1]));
    nodes.push(onnx.NodeProto.create({ ...n, input, output: [paddedOut, ...(n.output ?? []).slice(1)], attribute: [...(n.attribute ?? [])] }));
    if (relu) {
      nodes.push(onnx.NodeProto.create({ ...relu, input: [paddedOut], output: [paddedRelu], attribute: [...(relu.attribute ?? [])] }));
      movedRelus.add(relu);
    }
    nodes.push(onnx.NodeProto.create({ opType: 'Slice', name: names.uniqueName(`${n.name || out}/unpad`), input: [paddedRelu, starts, ends, axes], output: [sliced] }));
    replaced.add(wName ?? '');
    if (bName) replaced.add(bName);
    padded.push({ node: n.name || out, from: cout, to: block });
  }
  if (!padded.length) return { model: onnx.ModelProto.create(model), padded };
  return { model: withNodes(model, graph, nodes, newInits, replaced), padded };
}
