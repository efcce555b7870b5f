/**
 * A Conv that reads 1–3 channels (a denoiser's first conv, a patch embedding of the image) is among
 * onnxruntime's slowest int8 Convs per MAC: its u8×s8 kernels take input channels four at a time,
 * and a 3 → 16 conv at 256² takes 3.5 ms on int8, as 4 → 16 1.8 ms. This pass appends zero input
 * channels up to 4 with a channel Pad in float (cheap: the tensor is narrow) and gives the Conv zero
 * weights for them: exact in float, and the Pad's output is what the quantizer puts on 8 bits. Convs
 * reading the same tensor share one Pad. The input model is not modified.
 */
import { GraphBuilder } from '../../src/onnx/builder';
import { onnx, type ModelProto } from '../../src/onnx/proto';
import { floatTensor, int64Tensor, tensorToFloat32 } from '../../src/onnx/tensor';
import { defaultOpset } from '../model-utils';
import { plainFloatConvDims, withNodes, type PaddedConv } from './pad-outputs';

/** onnxruntime's int8 Conv kernels take input channels in groups of this many. */
export const INPUT_CHANNEL_GROUP = 4;

/**
 * Pads the input of every Conv with fewer than `group` input channels (group 1, float initializer weights and
 * bias, 2-D) up to `group` channels; see the module comment.
 */
export function padInputConvs(model: ModelProto, opts: { group?: number; excludeNodes?: readonly string[] } = {}): { model: onnx.ModelProto; padded: PaddedConv[] } {
  const graph = model.graph;
  const group = opts.group ?? INPUT_CHANNEL_GROUP;
  // Pad takes its pads as an input from opset 11.
  if (!graph || group <= 1 || defaultOpset(model) < 11) return { model: onnx.ModelProto.create(model), padded: [] };
  const excluded = new Set(opts.excludeNodes ?? []);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const names = GraphBuilder.fromGraph(graph);
  const newInits: onnx.TensorProto[] = [];
  const pads = new Map<string, string>(); // `${input}|${extra}` → padded tensor
  const replaced = new Set<string>();
  const padded: PaddedConv[] = [];
  const nodes: onnx.NodeProto[] = [];
  for (const n of graph.node ?? []) {
    const [x, wName] = n.input ?? [];
    const w = inits.get(wName ?? '');
    const dims = plainFloatConvDims(n, inits, excluded);
    if (!x || !w || !dims || dims[1] >= group) {
      nodes.push(n as onnx.NodeProto);
      continue;
    }
    const [cout, cin, kh, kw] = dims;
    const extra = group - cin;
    const key = `${x}|${extra}`;
    let y = pads.get(key);
    if (!y) {
      y = names.uniqueName(`${x}_channel_padded`);
      const padsName = names.uniqueName(`${x}_channel_pads`);
      // [N, C, H, W] begins then ends: `extra` channels at the end of C.
      newInits.push(int64Tensor(padsName, [8], [0, 0, 0, 0, 0, extra, 0, 0]));
      nodes.push(onnx.NodeProto.create({ opType: 'Pad', name: names.uniqueName(`${x}/channel_pad`), input: [x, padsName], output: [y] }));
      pads.set(key, y);
    }
    const k = kh * kw;
    const v = tensorToFloat32(w);
    const weights = new Float32Array(cout * group * k);
    for (let o = 0; o < cout; o++) weights.set(v.subarray(o * cin * k, (o + 1) * cin * k), o * group * k);
    const wNew = names.uniqueName(`${wName}_cin_padded`);
    newInits.push(floatTensor(wNew, [cout, group, kh, kw], weights));
    nodes.push(onnx.NodeProto.create({ ...n, input: [y, wNew, ...(n.input ?? []).slice(2)], attribute: [...(n.attribute ?? [])] }));
    replaced.add(wName ?? '');
    padded.push({ node: n.name || (n.output?.[0] ?? ''), from: cin, to: group });
  }
  if (!padded.length) return { model: onnx.ModelProto.create(model), padded };
  return { model: withNodes(model, graph, nodes, newInits, replaced), padded };
}
