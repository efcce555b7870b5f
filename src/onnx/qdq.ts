/**
 * QDQ models (onnxruntime's quantization tool, TensorRT exports) put QuantizeLinear →
 * DequantizeLinear pairs on activations ("fake quantization"). Graph-pattern readers such as
 * stage detection see through them: the pair keeps channels and spatial size.
 */
import type { ConstantResolver } from './constants';
import { onnx, isDefaultDomain, type NodeProto } from './proto';

/**
 * The node list with every activation Q → DQ pair removed and readers of the DQ output reading
 * the Q input instead. A pair is a DequantizeLinear whose input is a QuantizeLinear output that
 * nothing else reads, on a non-constant tensor; weight DQs are left to the resolver.
 * @returns new node objects where inputs were renamed; the others are shared.
 */
export function withoutFakeQuant(nodes: readonly NodeProto[], consts: ConstantResolver): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  const readers = new Map<string, number>();
  for (const n of nodes) {
    for (const o of n.output ?? []) if (o) producer.set(o, n);
    for (const i of n.input ?? []) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  const alias = new Map<string, string>();
  const dropped = new Set<NodeProto>();
  for (const dq of nodes) {
    if (dq.opType !== 'DequantizeLinear' || !isDefaultDomain(dq.domain)) continue;
    const qOut = dq.input?.[0];
    const q = qOut ? producer.get(qOut) : undefined;
    const x = q?.input?.[0];
    const out = dq.output?.[0];
    if (!q || q.opType !== 'QuantizeLinear' || !isDefaultDomain(q.domain) || !x || !out || readers.get(qOut as string) !== 1) continue;
    if (consts.isConstant(x)) continue;
    alias.set(out, x);
    dropped.add(q).add(dq);
  }
  if (!alias.size) return [...nodes];
  const resolve = (name: string) => {
    let t = name;
    // Bounded: each hop follows a distinct pair.
    for (let hops = 0; alias.has(t) && hops <= alias.size; hops++) t = alias.get(t) as string;
    return t;
  };
  return nodes
    .filter((n) => !dropped.has(n))
    .map((n) => ((n.input ?? []).some((i) => alias.has(i)) ? onnx.NodeProto.create({ ...n, input: (n.input ?? []).map(resolve) }) : n));
}
