/**
 * Peephole clean-ups of a converted graph, each exact: a constant Pad whose only reader is a
 * Conv / MaxPool / AveragePool with explicit pads is merged into that op's `pads` (zero pads
 * into Conv and AveragePool with count_include_pad, −∞ pads into MaxPool), and two
 * consecutive Transposes that cancel are removed, an H/W crop after a ConvTranspose becomes
 * more ConvTranspose pads, and a global pool flattened then reshaped
 * back to [N, C, 1, 1] keeps its own output. tfjs has no per-op padding amounts, so
 * ZeroPadding2D + 'valid' conv (and the onnx-to-tfjs −∞ pad before a max pool) come back as
 * the single ONNX node they were.
 */
import { makeAttribute } from '../../src/onnx/builder';
import { toNumber, type GraphProto, type NodeProto, type TensorProto } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';

/** What {@link simplifyGraph} changed. */
export interface SimplifyReport {
  padsFused: number;
  transposesCancelled: number;
  /** GlobalXPool → Flatten → Reshape to [N, C, 1, 1] pairs dropped. */
  reshapesDropped: number;
  /** H/W crops (Slice) merged into the pads of the ConvTranspose before them. */
  cropsFused: number;
}

function attr(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function ints(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map((v) => toNumber(v)) : undefined;
}

function setAttr(node: NodeProto, name: string, value: number | number[]): void {
  node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== name), makeAttribute(name, value)];
}

function int64Values(t: TensorProto): number[] | undefined {
  const raw = t.rawData;
  if (t.dataType !== 7) return undefined;
  if (raw && raw.length) {
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.length / 8 }, (_, i) => Number(v.getBigInt64(i * 8, true)));
  }
  return (t.int64Data ?? []).map((x) => toNumber(x));
}

/**
 * Applies the clean-ups in place.
 * @returns how many Pads were fused and Transpose pairs removed.
 */
export function simplifyGraph(graph: GraphProto): SimplifyReport {
  const report: SimplifyReport = { padsFused: 0, transposesCancelled: 0, reshapesDropped: 0, cropsFused: 0 };
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name as string, t]));
  const outputs = new Set((graph.output ?? []).map((o) => o.name as string));
  const readers = () => {
    const m = new Map<string, NodeProto[]>();
    for (const n of graph.node ?? []) for (const i of n.input ?? []) if (i) m.set(i, [...(m.get(i) ?? []), n]);
    return m;
  };
  const remove = new Set<NodeProto>();

  let r = readers();
  for (const pad of graph.node ?? []) {
    if (pad.opType !== 'Pad' || remove.has(pad)) continue;
    const out = pad.output?.[0] as string;
    const mode = attr(pad, 'mode');
    const modeName = mode?.s ? new TextDecoder().decode(mode.s) : 'constant';
    const [x, padsName, valueName, axesName] = pad.input ?? [];
    if (modeName !== 'constant' || axesName || outputs.has(out) || !padsName || !inits.has(padsName)) continue;
    const pads = int64Values(inits.get(padsName) as TensorProto);
    if (!pads || pads.length !== 8 || pads.some((p) => p < 0) || pads[0] || pads[1] || pads[4] || pads[5]) continue;
    const value = valueName ? (inits.has(valueName) ? tensorToFloat32(inits.get(valueName) as TensorProto)[0] : NaN) : 0;
    const users = r.get(out) ?? [];
    if (users.length !== 1 || users[0].input?.[0] !== out) continue;
    const op = users[0];
    const autoPad = attr(op, 'auto_pad');
    if (autoPad && new TextDecoder().decode(autoPad.s ?? new Uint8Array()) !== 'NOTSET') continue;
    const old = ints(op, 'pads') ?? [0, 0, 0, 0];
    const fits =
      (op.opType === 'Conv' && value === 0) ||
      (op.opType === 'MaxPool' && value === -Infinity && !Number(attr(op, 'ceil_mode')?.i ?? 0)) ||
      (op.opType === 'AveragePool' && value === 0 && old.every((p) => p === 0) && !Number(attr(op, 'ceil_mode')?.i ?? 0));
    if (!fits) continue;
    // ONNX Pad order [x1_begin, x2_begin, …, x1_end, …] → window pads [H_begin, W_begin, H_end, W_end].
    setAttr(op, 'pads', [old[0] + pads[2], old[1] + pads[3], old[2] + pads[6], old[3] + pads[7]]);
    if (op.opType === 'AveragePool') setAttr(op, 'count_include_pad', 1);
    op.input = [x, ...(op.input ?? []).slice(1)];
    remove.add(pad);
    report.padsFused += 1;
  }

  // ConvTranspose pads crop the full output, so a following H/W crop is more pads.
  r = readers();
  for (const slice of graph.node ?? []) {
    if (slice.opType !== 'Slice' || remove.has(slice)) continue;
    const [x, startsName, endsName, axesName, stepsName] = slice.input ?? [];
    const conv = (graph.node ?? []).find((n) => n.opType === 'ConvTranspose' && n.output?.[0] === x);
    if (!conv || outputs.has(x) || (r.get(x) ?? []).length !== 1 || !axesName) continue;
    const autoPad = attr(conv, 'auto_pad');
    if (autoPad && new TextDecoder().decode(autoPad.s ?? new Uint8Array()) !== 'NOTSET') continue;
    const [starts, ends, axes] = [startsName, endsName, axesName].map((n) => (inits.has(n) ? int64Values(inits.get(n) as TensorProto) : undefined));
    const steps = stepsName ? (inits.has(stepsName) ? int64Values(inits.get(stepsName) as TensorProto) : undefined) : [];
    if (!starts || !ends || !axes || !steps || steps.some((v) => v !== 1) || !axes.every((a) => a === 2 || a === 3)) continue;
    const OPEN = 2 ** 31 - 1;
    if (starts.some((v) => v < 0) || ends.some((v) => v > 0 && v < OPEN)) continue;
    const pads = ints(conv, 'pads') ?? [0, 0, 0, 0];
    axes.forEach((a, j) => {
      pads[a - 2] += starts[j];
      pads[a] += ends[j] >= OPEN ? 0 : -ends[j];
    });
    setAttr(conv, 'pads', pads);
    conv.output = [slice.output?.[0] as string];
    remove.add(slice);
    report.cropsFused += 1;
  }

  r = readers();
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) producer.set(o, n);
  for (const second of graph.node ?? []) {
    if (second.opType !== 'Transpose' || remove.has(second)) continue;
    const mid = second.input?.[0] as string;
    const first = producer.get(mid);
    if (!first || first.opType !== 'Transpose' || remove.has(first) || outputs.has(mid) || (r.get(mid) ?? []).length !== 1) continue;
    const p = ints(first, 'perm');
    const q = ints(second, 'perm');
    if (!p || !q || p.length !== q.length || !q.every((qi, i) => p[qi] === i)) continue;
    const out = second.output?.[0] as string;
    if (outputs.has(out)) continue;
    const src = first.input?.[0] as string;
    for (const n of r.get(out) ?? []) n.input = (n.input ?? []).map((i) => (i === out ? src : i));
    remove.add(first);
    remove.add(second);
    report.transposesCancelled += 1;
  }

  // A global pool's [N, C, 1, 1] flattened and reshaped back (tfjs global pools drop H, W).
  r = readers();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) producer.set(o, n);
  for (const reshape of graph.node ?? []) {
    if (reshape.opType !== 'Reshape' || remove.has(reshape)) continue;
    const [flatOut, shapeName] = reshape.input ?? [];
    const flatten = producer.get(flatOut);
    const pool = flatten ? producer.get(flatten.input?.[0] as string) : undefined;
    if (!flatten || flatten.opType !== 'Flatten' || remove.has(flatten) || Number(attr(flatten, 'axis')?.i ?? 1) !== 1) continue;
    if (!pool || (pool.opType !== 'GlobalAveragePool' && pool.opType !== 'GlobalMaxPool')) continue;
    if (outputs.has(flatOut) || (r.get(flatOut) ?? []).length !== 1 || !inits.has(shapeName)) continue;
    const shape = int64Values(inits.get(shapeName) as TensorProto);
    if (!shape || shape.length !== 4 || shape[2] !== 1 || shape[3] !== 1 || (shape[0] !== 0 && shape[0] !== -1) || shape[1] < 1) continue;
    const src = flatten.input?.[0] as string;
    if (outputs.has(src) || (r.get(src) ?? []).length !== 1) continue;
    // The pool writes the reshape's output directly (which may be a graph output).
    pool.output = [reshape.output?.[0] as string];
    remove.add(flatten);
    remove.add(reshape);
    report.reshapesDropped += 1;
  }

  if (remove.size) {
    graph.node = (graph.node ?? []).filter((n) => !remove.has(n));
    const used = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
    graph.initializer = (graph.initializer ?? []).filter((t) => used.has(t.name as string) || outputs.has(t.name as string));
  }
  return report;
}
