/**
 * Elementwise arithmetic: Add/Sub/Mul/Div and Clip. Two activations of the same rank map to
 * tfjs Add/Multiply (or OnnxBinary for Sub/Div), an activation and a constant to
 * OnnxConstBinary with the constant re-laid for NHWC broadcasting, and constants fold.
 * Clip(0, ∞) and Clip(0, m) map to ReLU (maxValue m), other bounds to OnnxClip.
 */
import { toFloat32, type ConstTensor } from '../constants';
import { registerOnnxLayers, type BinaryOp } from '../custom-layers';
import { broadcastConstToTf } from '../layout';
import { coreFold } from './constant';
import type { BuildContext, OpMapper, Value } from '../types';

function buildBinary(op: BinaryOp) {
  return (ctx: BuildContext): Value[] => {
    const { tf } = ctx;
    const a = ctx.input(0) as Value;
    const b = ctx.input(1) as Value;
    if (a.kind === 'tensor' && b.kind === 'tensor') {
      if (a.sym.shape.length !== b.sym.shape.length) {
        ctx.unsupported(`${op} of activations of ranks ${a.sym.shape.length} and ${b.sym.shape.length}`, ['activations of equal rank']);
      }
      const name = ctx.layerName();
      const layer =
        op === 'Add' ? tf.layers.add({ name }) : op === 'Mul' ? tf.layers.multiply({ name }) : new (registerOnnxLayers(tf).OnnxBinary)({ name, op });
      return [{ kind: 'tensor', sym: ctx.apply(layer, [a.sym, b.sym]) }];
    }
    const constantFirst = a.kind === 'const';
    const x = (constantFirst ? b : a) as { kind: 'tensor'; sym: ReturnType<BuildContext['tensor']> };
    const c = ((constantFirst ? a : b) as { value: ConstTensor }).value;
    const rank = x.sym.shape.length;
    const laid = broadcastConstToTf(c, rank);
    if (!laid) ctx.unsupported(`${op} with a constant of rank ${c.dims.length} on a rank-${rank} activation`, ['constants that broadcast against the activation']);
    const layer = new (registerOnnxLayers(tf).OnnxConstBinary)({ name: ctx.layerName(), op, constantFirst, constantShape: laid!.dims });
    return [{ kind: 'tensor', sym: ctx.apply(layer, x.sym, [{ data: toFloat32(laid!), shape: laid!.dims }]) }];
  };
}

function binary(op: BinaryOp): OpMapper {
  return {
    onnxOp: op,
    opsets: [7, 21],
    category: 'elementwise',
    inputs: [
      { name: 'A', kind: 'tensor' },
      { name: 'B', kind: 'tensor' },
    ],
    attrs: [],
    fold: coreFold,
    build: buildBinary(op),
    notes:
      op === 'Add' || op === 'Mul'
        ? `two activations: ${op === 'Add' ? 'Add' : 'Multiply'}; with a constant: OnnxConstBinary; constants fold`
        : 'two activations: OnnxBinary; with a constant: OnnxConstBinary; constants fold',
  };
}

/** Clip bounds from inputs (opset ≥ 11) or attributes (≤ 10); undefined = unbounded. */
function clipBounds(ctx: Pick<BuildContext, 'opset' | 'attrs'> & { constant(i: number): ConstTensor | undefined }): [number | undefined, number | undefined] {
  if (ctx.opset < 11) return [ctx.attrs.min as number | undefined, ctx.attrs.max as number | undefined];
  const lo = ctx.constant(1);
  const hi = ctx.constant(2);
  return [lo?.data[0], hi?.data[0]];
}

export const ELEMENTWISE_OPS: readonly OpMapper[] = [
  binary('Add'),
  binary('Sub'),
  binary('Mul'),
  binary('Div'),
  {
    onnxOp: 'Clip',
    opsets: [6, 21],
    category: 'elementwise',
    inputs: [
      { name: 'input', kind: 'tensor' },
      { name: 'min', kind: 'const', optional: true },
      { name: 'max', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'min', type: 'float' },
      { onnxName: 'max', type: 'float' },
    ],
    fold: coreFold,
    build: (ctx) => {
      const [lo, hi] = clipBounds(ctx);
      const x = ctx.tensor(0);
      const name = ctx.layerName();
      if (lo === 0 && (hi === undefined || Number.isFinite(hi))) {
        return [{ kind: 'tensor', sym: ctx.apply(ctx.tf.layers.reLU({ name, maxValue: hi }), x) }];
      }
      const layer = new (registerOnnxLayers(ctx.tf).OnnxClip)({ name, min: lo ?? null, max: hi ?? null });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
    },
    notes: 'Clip(0, ∞) / Clip(0, m): ReLU (maxValue m); other bounds: OnnxClip; min/max as attributes (≤ 10) or inputs',
  },
];
