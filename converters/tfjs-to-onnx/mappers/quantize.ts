/**
 * OnnxFakeQuant (converters/onnx-to-tfjs/ops/quantize.ts) back to the QuantizeLinear →
 * DequantizeLinear pair it came from, with the zero point in its original integer type.
 */
import { UnsupportedOpError } from '../../../src/errors';
import { DataType, onnx } from '../../../src/onnx/proto';
import type { EmitContext, LayerMapper } from '../types';

/** tfjs axis → NCHW axis for rank 4. */
const NHWC_TO_NCHW = [0, 2, 3, 1];

function zeroPointTensor(name: string, type: number, values: readonly number[], dims: number[]): onnx.TensorProto {
  const bytes = type === DataType.INT8 || type === DataType.UINT8 ? 1 : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 4;
  const raw = new Uint8Array(values.length * bytes);
  const v = new DataView(raw.buffer);
  values.forEach((z, i) => {
    if (type === DataType.INT8) v.setInt8(i, z);
    else if (type === DataType.UINT8) v.setUint8(i, z);
    else if (type === DataType.INT16) v.setInt16(i * 2, z, true);
    else if (type === DataType.UINT16) v.setUint16(i * 2, z, true);
    else v.setInt32(i * 4, z, true);
  });
  return onnx.TensorProto.create({ name, dims, dataType: type, rawData: raw });
}

const onnxFakeQuant: LayerMapper = (ctx: EmitContext) => {
  const x = ctx.inputs[0];
  const rank = x.shape.length;
  const scale = ctx.config.scale as number[];
  const zp = ctx.config.zeroPoint as number[];
  const axis = Number(ctx.config.axis);
  const type = Number(ctx.config.onnxType);
  if (axis >= 0 && ctx.opset < 13) throw new UnsupportedOpError('per-axis fake quantization below opset 13', ctx.layer.name, ['opset ≥ 13']);
  const dims = axis < 0 ? [] : [scale.length];
  const s = ctx.initializer('scale', dims, Float32Array.from(scale));
  const z = ctx.b.addTensor(zeroPointTensor(ctx.tmp('zero_point'), type, zp, dims));
  const attrs = axis < 0 ? {} : { axis: rank === 4 ? NHWC_TO_NCHW[axis] : axis };
  const q = ctx.tmp('quantized');
  ctx.b.addNode('QuantizeLinear', [x.name, s, z], [q], attrs, `${ctx.scope}/QuantizeLinear`);
  ctx.b.addNode('DequantizeLinear', [q, s, z], [ctx.outputName(0)], attrs, `${ctx.scope}/DequantizeLinear`);
  return [ctx.outputName(0)];
};

export const QUANTIZE_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [['OnnxFakeQuant', onnxFakeQuant]];
