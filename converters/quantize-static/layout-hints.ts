/**
 * onnxruntime runs int8 Convs in NHWC and puts layout Transposes around them; its transpose optimizer then moves them
 * through other ops when that, by its rank-count heuristic, removes more Transposes than it adds. A QLinearConcat of a
 * Conv output (NHWC) and a tensor quantized from float ops (the noisy image a U-Net level reads again) scores a tie:
 * pushing the Conv's Transpose through would remove one and add one. So the Concat stays NCHW, and its whole output is
 * transposed back to NHWC for the next Conv (single-threaded: 1.6 ms of gray-s25's 24 ms at 256², 2 threads).
 *
 * This pass puts `Transpose(NHWC) → Reshape (no-op) → Transpose(NCHW)` on the 8-bit side of such an input, before
 * its DequantizeLinear: the same values, but now pushing through also cancels a Transpose on that input, so the Concat
 * runs in NHWC and only the narrow image tensor is transposed (the Reshape stops onnxruntime cancelling the pair
 * before it lays out the graph). The input model is not modified.
 */
import { GraphBuilder, makeAttribute } from '../../src/onnx/builder';
import { attrInt } from '../../src/onnx/const-rules';
import { isDefaultDomain, onnx, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import { int64Tensor } from '../../src/onnx/tensor';

/**
 * Adds the layout hint (see the module comment) to every 8-bit input of a Concat of dequantized tensors that is computed
 * from the graph's inputs alone, when another input of that Concat is computed from a Conv. Returns the hinted
 * (quantized) tensors.
 */
export function hintConcatLayouts(model: ModelProto): { model: onnx.ModelProto; hinted: string[] } {
  const graph = model.graph;
  if (!graph) return { model: onnx.ModelProto.create(model), hinted: [] };
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const is = (n: NodeProto | undefined, op: string): n is NodeProto => n?.opType === op && isDefaultDomain(n.domain);
  // The 8-bit tensor behind a Concat input: DQ(Q(x)).
  const quantizedInput = (t: string) => {
    const dq = producer.get(t);
    const q = is(dq, 'DequantizeLinear') ? producer.get(dq.input?.[0] ?? '') : undefined;
    return is(q, 'QuantizeLinear') ? { dq: dq as NodeProto, x: q.input?.[0] ?? '' } : undefined;
  };
  // Computed from a Conv (NHWC in onnxruntime, or moved there through layout-agnostic ops) or only from the graph's
  // inputs (NCHW: the image path, which the hint is for).
  const afterConv = new Map<string, boolean>();
  const computedFromConv = (t: string): boolean => {
    const known = afterConv.get(t);
    if (known !== undefined) return known;
    afterConv.set(t, false); // cycles cannot occur in a valid graph; this also bounds the walk
    const p = producer.get(t);
    const found = p !== undefined && (p.opType === 'Conv' || (p.input ?? []).some((i) => i !== '' && computedFromConv(i)));
    afterConv.set(t, found);
    return found;
  };
  const names = GraphBuilder.fromGraph(graph);
  const perm = (p: number[]) => [makeAttribute('perm', p)];
  const inserted = new Map<NodeProto, onnx.NodeProto[]>(); // hint + its own DQ, after the DQ it copies
  const hintedDq = new Map<NodeProto, string>(); // DQ → the hinted copy's output
  const concatInputs = new Map<NodeProto, string[]>();
  const initializers: onnx.TensorProto[] = [];
  for (const cat of graph.node ?? []) {
    const axis = attrInt(cat, 'axis', 0);
    if (!is(cat, 'Concat') || (axis !== 1 && axis !== -3)) continue;
    const inputs = (cat.input ?? []).map((t) => quantizedInput(t));
    if (inputs.some((i) => !i) || !inputs.some((i) => i && computedFromConv(i.x))) continue;
    const rewired = inputs.map((i, k) => {
      const t = cat.input?.[k] ?? '';
      if (!i || computedFromConv(i.x)) return t;
      const done = hintedDq.get(i.dq);
      if (done) return done;
      // The hint sits on the 8-bit side; the Concat reads its own DequantizeLinear of it (other readers keep theirs).
      const q8 = i.dq.input?.[0] ?? '';
      const [nhwc, same, nchw, shape, dq] = ['nhwc', 'nhwc_kept', 'nchw', 'same_shape', 'nchw_dequantized'].map((x) => names.uniqueName(`${q8}_${x}`));
      initializers.push(int64Tensor(shape, [4], [0, 0, 0, -1]));
      inserted.set(i.dq, [
        onnx.NodeProto.create({ opType: 'Transpose', name: names.uniqueName(`${q8}/layout_hint/Transpose`), input: [q8], output: [nhwc], attribute: perm([0, 2, 3, 1]) }),
        onnx.NodeProto.create({ opType: 'Reshape', name: names.uniqueName(`${q8}/layout_hint/Reshape`), input: [nhwc, shape], output: [same] }),
        onnx.NodeProto.create({ opType: 'Transpose', name: names.uniqueName(`${q8}/layout_hint/Transpose_back`), input: [same], output: [nchw], attribute: perm([0, 3, 1, 2]) }),
        onnx.NodeProto.create({ ...i.dq, name: names.uniqueName(`${i.dq.name || q8}/layout_hint`), input: [nchw, ...(i.dq.input ?? []).slice(1)], output: [dq], attribute: [...(i.dq.attribute ?? [])] }),
      ]);
      hintedDq.set(i.dq, dq);
      return dq;
    });
    concatInputs.set(cat, rewired);
  }
  const hinted = [...hintedDq.keys()].map((dq) => dq.input?.[0] ?? '');
  if (!hinted.length) return { model: onnx.ModelProto.create(model), hinted };
  // A DequantizeLinear the Concats no longer read goes when nothing else reads it.
  const stillRead = new Set((graph.node ?? []).flatMap((n) => (concatInputs.get(n) ?? n.input ?? []) as string[]));
  for (const o of graph.output ?? []) stillRead.add(o.name ?? '');
  const nodes = (graph.node ?? []).flatMap((n) => {
    const unread = hintedDq.has(n) && !stillRead.has(n.output?.[0] ?? '');
    const inputs = concatInputs.get(n);
    const node = inputs ? onnx.NodeProto.create({ ...n, input: inputs }) : (n as onnx.NodeProto);
    return [...(unread ? [] : [node]), ...(inserted.get(n) ?? [])];
  });
  const out = onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...initializers] as onnx.TensorProto[] });
  return { model: onnx.ModelProto.create({ ...model, graph: out }), hinted };
}
