/**
 * QuantizeLinear / DequantizeLinear (QDQ models). On constants (int8 weights, int32 biases)
 * they fold with the core rules. On an activation, a QuantizeLinear → DequantizeLinear pair is
 * fake quantization and becomes one OnnxFakeQuant layer: q = saturate(round(x / s) + zp), then
 * (q − zp) · s, per tensor or per channel, with round half to even like onnxruntime.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../../src/backends/tf-types';
import { coreFold } from './constant';
import { quantRange } from '../../../src/onnx/const-rules';
import { DataType } from '../../../src/onnx/proto';
import { normAxis, type ConstTensor } from '../constants';
import { tfAxis } from '../layout';
import type { BuildContext, OpMapper } from '../types';

type Tensor = TfModule.Tensor;
type LayerArgs = NonNullable<ConstructorParameters<typeof TfModule.layers.Layer>[0]>;

/** OnnxFakeQuant: per-tensor (one value) or per-channel scales/zero points along `axis` of the tfjs tensor. */
export interface OnnxFakeQuantConfig {
  scale: number[];
  zeroPoint: number[];
  /** tfjs axis of a per-channel quantization; -1 for per tensor. */
  axis: number;
  qmin: number;
  qmax: number;
  /** ONNX element type of the quantized values (INT8, UINT8, …), for export. */
  onnxType: number;
}

type FakeQuantCtor = new (config: LayerArgs & OnnxFakeQuantConfig) => TfModule.layers.Layer;
const registered = new WeakMap<object, FakeQuantCtor>();

/**
 * Defines and registers OnnxFakeQuant for this tfjs module (once); call it before
 * `tf.loadLayersModel` on a converted QDQ model.
 */
export function registerQuantizeLayers(tf: Tf): FakeQuantCtor {
  const done = registered.get(tf);
  if (done) return done;
  class OnnxFakeQuant extends tf.layers.Layer {
    static className = 'OnnxFakeQuant';
    readonly cfg: OnnxFakeQuantConfig;
    constructor(config: LayerArgs & OnnxFakeQuantConfig) {
      super(config);
      const { scale, zeroPoint, axis, qmin, qmax, onnxType } = config;
      this.cfg = { scale: [...scale], zeroPoint: [...zeroPoint], axis, qmin, qmax, onnxType };
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.tidy(() => {
        const { scale, zeroPoint, axis, qmin, qmax } = this.cfg;
        const shape = axis < 0 ? [] : x.shape.map((_, i) => (i === axis ? scale.length : 1));
        const s = tf.tensor(scale, shape, 'float32');
        const zp = tf.tensor(zeroPoint, shape, 'float32');
        // tf.round rounds half to even, as onnxruntime's QuantizeLinear does.
        const q = tf.clipByValue(tf.add(tf.round(tf.div(x, s)), zp), qmin, qmax);
        return tf.mul(tf.sub(q, zp), s);
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }
  tf.serialization.registerClass(OnnxFakeQuant as unknown as TfModule.serialization.SerializableConstructor<TfModule.serialization.Serializable>);
  registered.set(tf, OnnxFakeQuant);
  return OnnxFakeQuant;
}

/** Scale/zero point of one Q or DQ node as per-tensor or per-axis values. */
function params(ctx: BuildContext, node: 'q' | 'dq', scale: ConstTensor | undefined, zp: ConstTensor | undefined) {
  if (!scale) return ctx.unsupported(`${node === 'q' ? 'QuantizeLinear' : 'DequantizeLinear'} without a constant scale`, ['constant scale']);
  if (scale.dims.length > 1) ctx.unsupported('blocked quantization of an activation', ['per-tensor', 'per-axis']);
  return { scale: Array.from(scale.data, Math.fround), zp: zp ? Array.from(zp.data) : Array.from(scale.data, () => 0), type: zp?.onnxType ?? DataType.UINT8 };
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export const QUANTIZE_OPS: readonly OpMapper[] = [
  {
    onnxOp: 'QuantizeLinear',
    opsets: [10, 21],
    category: 'constant',
    inputs: [
      { name: 'x', kind: 'tensor' },
      { name: 'y_scale', kind: 'const' },
      { name: 'y_zero_point', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'axis', type: 'int', default: 1 },
      { onnxName: 'block_size', type: 'int', default: 0 },
    ],
    fold: coreFold,
    build: (ctx) => {
      const x = ctx.tensor(0);
      const dq = ctx.consumer(['DequantizeLinear']);
      if (!dq) return ctx.unsupported('QuantizeLinear of an activation not followed by DequantizeLinear', ['a Q → DQ pair (fake quantization)']);
      const q = params(ctx, 'q', ctx.constant(1), ctx.constant(2));
      const d = params(ctx, 'dq', ctx.constantOf(dq.input?.[1] ?? ''), dq.input?.[2] ? ctx.constantOf(dq.input[2]) : undefined);
      if (!same(q.scale, d.scale) || !same(q.zp, d.zp)) {
        ctx.unsupported('a Q → DQ pair whose scales or zero points differ', ['equal Q and DQ parameters']);
      }
      const rank = x.shape.length;
      const axisAttr = (ctx.attrs.axis as number | undefined) ?? 1;
      const dqAxis = (dq.attribute ?? []).find((a) => a.name === 'axis');
      if (q.scale.length > 1 && dqAxis && Number(dqAxis.i) !== axisAttr) ctx.unsupported('Q and DQ along different axes', ['the same axis']);
      const axis = q.scale.length > 1 ? tfAxis(normAxis(axisAttr, rank), rank) : -1;
      if (axis === 0) ctx.unsupported('per-axis quantization along the batch axis', ['per-tensor', 'a non-batch axis']);
      const [qmin, qmax] = quantRange(q.type);
      ctx.absorb(dq);
      const layer = new (registerQuantizeLayers(ctx.tf))({ name: ctx.layerName(), scale: q.scale, zeroPoint: q.zp, axis, qmin, qmax, onnxType: q.type });
      return [{ kind: 'tensor', sym: ctx.apply(layer, x) }];
    },
    notes: 'folded on constants; on an activation a Q → DQ pair (per tensor or per channel): OnnxFakeQuant',
  },
  {
    onnxOp: 'DequantizeLinear',
    opsets: [10, 21],
    category: 'constant',
    inputs: [
      { name: 'x', kind: 'tensor' },
      { name: 'x_scale', kind: 'const' },
      { name: 'x_zero_point', kind: 'const', optional: true },
    ],
    attrs: [
      { onnxName: 'axis', type: 'int', default: 1 },
      { onnxName: 'block_size', type: 'int', default: 0 },
    ],
    fold: coreFold,
    // Reached only when no QuantizeLinear took this node over (see above).
    build: (ctx) => ctx.unsupported('DequantizeLinear of an activation that is not a QuantizeLinear output', ['constants', 'a Q → DQ pair']),
    notes: 'folded (int8/uint8/int32 weights and biases, per tensor, per axis or blocked); after a QuantizeLinear: see QuantizeLinear',
  },
];
