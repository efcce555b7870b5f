/**
 * Ops evaluated at conversion time: Constant, ConstantOfShape, Shape, Cast, Gather and Range. They appear in exporters' weight and shape-computation chains (resnet20's Pad `pads`
 * input is built by Constant → ConstantOfShape → Concat → Reshape → Slice → Transpose → Reshape
 * → Cast). Every mapper's `fold` is {@link coreFold}: the evaluation rules live in the core
 * (src/onnx/const-rules.ts), shared with stage detection, tap cutting and inspect. Cast of an
 * activation between float types is an alias.
 */
import { evaluateConstNode } from '../../../src/onnx/const-rules';
import { DataType } from '../../../src/onnx/proto';
import type { ConstTensor } from '../constants';
import type { FoldContext, OpMapper } from '../types';

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

/**
 * The fold of every mapper: the core rule of the node's op (src/onnx/const-rules.ts).
 * @throws InputError when the rule refuses the arguments or the result would be too large.
 */
export function coreFold(ctx: FoldContext): ConstTensor[] {
  const out = evaluateConstNode(ctx.node, ctx.inputs, ctx.opset);
  if (!out) throw new RangeError(`no constant rule for ${ctx.node.opType ?? '?'}`);
  return out;
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
    fold: coreFold,
    notes: 'folded',
  },
  {
    onnxOp: 'ConstantOfShape',
    opsets: [9, 21],
    category: 'constant',
    inputs: [{ name: 'shape', kind: 'const' }],
    attrs: [{ onnxName: 'value', type: 'tensor' }],
    fold: coreFold,
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
    fold: coreFold,
    notes: 'folded: of constants, and of a graph input with static dims (inputShapes / `--input-shape`; activation shapes are dynamic in tfjs)',
  },
  {
    onnxOp: 'Mod',
    opsets: [10, 21],
    category: 'constant',
    inputs: [{ name: 'A', kind: 'const' }, { name: 'B', kind: 'const' }],
    attrs: [{ onnxName: 'fmod', type: 'int', default: 0 }],
    fold: coreFold,
    notes: 'folded (shape arithmetic, e.g. padding to a stride multiple)',
  },
  {
    onnxOp: 'Cast',
    opsets: [1, 21],
    category: 'constant',
    inputs: [{ name: 'input', kind: 'tensor' }],
    attrs: [{ onnxName: 'to', type: 'int', default: DataType.FLOAT }],
    fold: coreFold,
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
    fold: coreFold,
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
    fold: coreFold,
    notes: 'folded',
  },
];
