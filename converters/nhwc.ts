/**
 * An NHWC interface for an NCHW ONNX graph: one Transpose after each rank-4 input and one
 * before each rank-4 output, so callers with NHWC data (tfjs, images) feed it directly; the
 * graph inside stays NCHW. The model is marked with metadata `onnxtune.layout = NHWC`, which
 * `onnxtune verify` reads.
 */
import { InputError } from '../src/errors';
import { valueInfoDims } from '../src/onnx/info';
import { getMetadata, setMetadata } from '../src/onnx/metadata';
import { makeValueInfo } from '../src/onnx/graph-utils';
import { onnx, type ModelProto } from '../src/onnx/proto';

/** Metadata key holding the layout of a model's rank-4 inputs and outputs ('NCHW' when absent). */
export const LAYOUT_KEY = 'onnxtune.layout';

/** The layout of a model's rank-4 inputs/outputs. */
export function modelLayout(model: ModelProto): 'NCHW' | 'NHWC' {
  return getMetadata(model)[LAYOUT_KEY] === 'NHWC' ? 'NHWC' : 'NCHW';
}

/**
 * A copy of `model` with NHWC rank-4 inputs and outputs (see the module comment).
 * @throws InputError when an input or output has no declared rank.
 */
export function wrapNhwc(model: ModelProto, label = 'model'): onnx.ModelProto {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
  if (modelLayout(copy) === 'NHWC') return copy;
  const g = copy.graph as onnx.GraphProto;
  const inits = new Set(g.initializer.map((t) => t.name));
  const pre: onnx.NodeProto[] = [];
  const post: onnx.NodeProto[] = [];
  const dimsOf = (vi: onnx.IValueInfoProto, what: string) => {
    const d = valueInfoDims(vi);
    if (!d) throw new InputError(label, `${what} '${vi.name}' has no declared shape; its rank decides whether it is transposed`);
    return d;
  };
  g.input = g.input.map((vi) => {
    if (inits.has(vi.name)) return vi;
    const d = dimsOf(vi, 'input');
    if (d.length !== 4) return vi;
    const name = vi.name as string;
    const inner = `${name}_nchw`;
    for (const n of g.node) n.input = (n.input ?? []).map((i) => (i === name ? inner : i));
    for (const o of g.output) if (o.name === name) throw new InputError(label, `input '${name}' is also an output`);
    pre.push(onnx.NodeProto.create({ opType: 'Transpose', name: `${name}/ToNCHW`, input: [name], output: [inner], attribute: [{ name: 'perm', type: 7, ints: [0, 3, 1, 2] }] }));
    return makeValueInfo(name, [d[0], d[2], d[3], d[1]].map((x) => (x === '?' ? `${name}_dim` : x)), vi.type?.tensorType?.elemType ?? 1);
  });
  g.output = g.output.map((vi) => {
    const d = dimsOf(vi, 'output');
    if (d.length !== 4) return vi;
    const name = vi.name as string;
    const inner = `${name}_nchw`;
    for (const n of g.node) {
      n.output = (n.output ?? []).map((o) => (o === name ? inner : o));
      n.input = (n.input ?? []).map((i) => (i === name ? inner : i));
    }
    post.push(onnx.NodeProto.create({ opType: 'Transpose', name: `${name}/ToNHWC`, input: [inner], output: [name], attribute: [{ name: 'perm', type: 7, ints: [0, 2, 3, 1] }] }));
    return makeValueInfo(name, [d[0], d[2], d[3], d[1]].map((x) => (x === '?' ? `${name}_dim` : x)), vi.type?.tensorType?.elemType ?? 1);
  });
  g.node = [...pre, ...g.node, ...post];
  return setMetadata(copy, { [LAYOUT_KEY]: 'NHWC' });
}
