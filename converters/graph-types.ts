/**
 * Element-type inference for the graph rewrites (fp16, int8): which tensors of a graph are
 * float32, int64, bool…, from graph inputs, initializers, Constant values and per-op output
 * rules. Good enough for the CNN graphs onnxtune handles; unknown ops take the type of their
 * first input.
 */
import { DataType, toNumber, type GraphProto, type NodeProto } from '../src/onnx/proto';

const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

function attr(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

/** The element type of each output of `node`, given the types of its inputs. */
function outputTypes(node: NodeProto, typeOf: (name: string) => number | undefined): number[] {
  const op = node.opType ?? '';
  const outs = node.output ?? [];
  const firstIn = (node.input ?? []).find((n) => n && typeOf(n) !== undefined);
  const dflt = firstIn ? (typeOf(firstIn) as number) : DataType.FLOAT;
  return outs.map((_, k) => {
    if (op === 'Constant') {
      const t = attr(node, 'value')?.t;
      if (t) return t.dataType ?? DataType.FLOAT;
      return attr(node, 'value_int') || attr(node, 'value_ints') ? DataType.INT64 : DataType.FLOAT;
    }
    if (op === 'Cast') return toNumber(attr(node, 'to')?.i ?? DataType.FLOAT);
    if (op === 'ConstantOfShape') return attr(node, 'value')?.t?.dataType ?? DataType.FLOAT;
    if (INT64_OUT.has(op)) return DataType.INT64;
    if (BOOL_OUT.has(op)) return DataType.BOOL;
    if (op === 'DequantizeLinear') return typeOf(node.input?.[1] ?? '') ?? DataType.FLOAT;
    if (op === 'QuantizeLinear') return typeOf(node.input?.[2] ?? '') ?? DataType.UINT8;
    if (op === 'Where') return typeOf(node.input?.[1] ?? '') ?? dflt;
    if ((op === 'MaxPool' || op === 'TopK') && k === 1) return DataType.INT64;
    if (op === 'Dropout' && k === 1) return DataType.BOOL;
    return dflt;
  });
}

/**
 * Element types of every tensor of `graph` (inputs, initializers, node outputs), by name.
 * Value-info entries win where they exist.
 */
export function inferElementTypes(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const vi of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const t = vi.type?.tensorType?.elemType;
    if (vi.name && t) types.set(vi.name, t);
  }
  for (const t of graph.initializer ?? []) if (t.name) types.set(t.name, t.dataType ?? DataType.FLOAT);
  for (const node of graph.node ?? []) {
    const outTypes = outputTypes(node, (n) => types.get(n));
    (node.output ?? []).forEach((o, k) => {
      if (o && !types.has(o)) types.set(o, outTypes[k]);
    });
  }
  return types;
}
