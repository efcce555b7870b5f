/**
 * Ops evaluated at conversion time: Constant, ConstantOfShape, Shape, Cast, Gather and Range.
 * They appear in exporters' shape-computation chains (resnet20's Pad `pads` input is built
 * by Constant → ConstantOfShape → Concat → Reshape → Slice → Transpose → Reshape → Cast), so
 * folding them gives the tfjs layers static arguments. Cast of an activation between float
 * types is an alias.
 */
import { DataType, type TensorProto } from '../../../src/onnx/proto';
import { constFromTensorProto, dtypeOf, gatherBlock, makeConst, normAxis, toNumbers, type ConstTensor } from '../constants';
import type { OpMapper } from '../types';

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

/** Casts a constant to ONNX element type `to` (floats → ints truncate toward zero, like C). */
export function castConst(c: ConstTensor, to: number): ConstTensor {
  const dtype = dtypeOf(to);
  if (!dtype) throw new RangeError(`Cast to element type ${to} is not supported`);
  const data = Float64Array.from(c.data, (v) => {
    if (dtype === 'bool') return v ? 1 : 0;
    if (dtype === 'int') return Math.trunc(v);
    return to === DataType.FLOAT ? Math.fround(v) : v;
  });
  return { dtype, dims: [...c.dims], data, onnxType: to };
}

export const CONSTANT_OPS: readonly OpMapper[] = [
  {
    onnxOp: 'Constant',
    opsets: [1, 21],
    category: 'constant',
    inputs: [],
    attrs: [
      { onnxName: 'value', type: 'tensor' },
      { onnxName: 'value_float', type: 'float' },
      { onnxName: 'value_floats', type: 'floats' },
      { onnxName: 'value_int', type: 'int' },
      { onnxName: 'value_ints', type: 'ints' },
    ],
    fold: ({ attrs, node }) => {
      if (attrs.value) return [constFromTensorProto(attrs.value as TensorProto, `Constant '${node.name ?? ''}'`)];
      if (attrs.value_float !== undefined) return [makeConst('float', [], [attrs.value_float as number])];
      if (attrs.value_floats !== undefined) return [makeConst('float', [(attrs.value_floats as number[]).length], attrs.value_floats as number[])];
      if (attrs.value_int !== undefined) return [makeConst('int', [], [attrs.value_int as number])];
      if (attrs.value_ints !== undefined) return [makeConst('int', [(attrs.value_ints as number[]).length], attrs.value_ints as number[])];
      throw new RangeError('Constant without a numeric value attribute (sparse/string values are not supported)');
    },
    notes: 'folded',
  },
  {
    onnxOp: 'ConstantOfShape',
    opsets: [9, 21],
    category: 'constant',
    inputs: [{ name: 'shape', kind: 'const' }],
    attrs: [{ onnxName: 'value', type: 'tensor' }],
    fold: ({ attrs, inputs, node }) => {
      const dims = toNumbers(inputs[0] as ConstTensor);
      const v = attrs.value ? constFromTensorProto(attrs.value as TensorProto, `ConstantOfShape '${node.name ?? ''}'`) : makeConst('float', [1], [0]);
      const n = dims.reduce((a, b) => a * b, 1);
      return [{ dtype: v.dtype, dims, data: new Float64Array(n).fill(v.data[0] ?? 0), onnxType: v.onnxType }];
    },
    notes: 'folded',
  },
  {
    onnxOp: 'Shape',
    opsets: [1, 21],
    category: 'constant',
    inputs: [{ name: 'data', kind: 'const' }],
    attrs: [
      { onnxName: 'start', type: 'int', default: 0 },
      { onnxName: 'end', type: 'int' },
    ],
    fold: ({ inputs, attrs }) => {
      const dims = (inputs[0] as ConstTensor).dims;
      const r = dims.length;
      const clamp = (v: number) => Math.max(0, Math.min(r, v < 0 ? v + r : v));
      const s = clamp(attrs.start as number);
      const e = attrs.end === undefined ? r : clamp(attrs.end as number);
      const out = dims.slice(s, Math.max(s, e));
      return [makeConst('int', [out.length], out)];
    },
    notes: 'folded (of constants only: activation shapes are dynamic in tfjs)',
  },
  {
    onnxOp: 'Cast',
    opsets: [1, 21],
    category: 'constant',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [{ onnxName: 'to', type: 'int', default: DataType.FLOAT }],
    fold: ({ inputs, attrs }) => [castConst(inputs[0] as ConstTensor, attrs.to as number)],
    build: (ctx) => {
      const to = ctx.attrs.to as number;
      if (!FLOAT_TYPES.has(to)) ctx.unsupported(`Cast of an activation to element type ${to}`, ['float types (an alias)']);
      return [{ kind: 'tensor', sym: ctx.tensor(0) }];
    },
    notes: 'folded; on activations only float → float (an alias)',
  },
  {
    onnxOp: 'Gather',
    opsets: [1, 21],
    category: 'constant',
    inputs: [
      { name: 'data', kind: 'const' },
      { name: 'indices', kind: 'const' },
    ],
    attrs: [{ onnxName: 'axis', type: 'int', default: 0 }],
    fold: ({ inputs, attrs }) => {
      const data = inputs[0] as ConstTensor;
      const indices = inputs[1] as ConstTensor;
      const axis = normAxis(attrs.axis as number, data.dims.length);
      const idx = toNumbers(indices).map((i) => (i < 0 ? i + data.dims[axis] : i));
      const picks = data.dims.map((d, k) => (k === axis ? idx : Array.from({ length: d }, (_, j) => j)));
      const g = gatherBlock(data, picks);
      const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
      return [{ ...g, dims }];
    },
    notes: 'folded',
  },
  {
    onnxOp: 'Range',
    opsets: [11, 21],
    category: 'constant',
    inputs: [
      { name: 'start', kind: 'const' },
      { name: 'limit', kind: 'const' },
      { name: 'delta', kind: 'const' },
    ],
    attrs: [],
    fold: ({ inputs }) => {
      const [s, l, d] = inputs.map((c) => (c as ConstTensor).data[0]);
      const n = Math.max(Math.ceil((l - s) / d), 0);
      const c = inputs[0] as ConstTensor;
      return [makeConst(c.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d), c.onnxType)];
    },
    notes: 'folded',
  },
];
