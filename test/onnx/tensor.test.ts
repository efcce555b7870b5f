/** Tensor helpers: raw_data vs float_data, float16/bfloat16/double reads, int64, Long dims. */
import { InputError } from '../../src/errors';
import { decodeModel, encodeModel } from '../../src/onnx/model-io';
import { DataType, onnx } from '../../src/onnx/proto';
import { floatTensor, int64Tensor, tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';
import { fromHalf } from '../../src/tensor/fp16';
import { seeded } from './fixtures';

describe('tensors', () => {
  test('floatTensor writes little-endian raw_data; raw_data and float_data read the same', () => {
    const data = seeded(12, 3);
    const t = floatTensor('w', [3, 4], data);
    expect(t.dataType).toBe(DataType.FLOAT);
    expect(t.rawData).toHaveLength(48);
    expect(new DataView(t.rawData.buffer, t.rawData.byteOffset).getFloat32(4, true)).toBe(data[1]);
    const viaFloatData = onnx.TensorProto.create({ name: 'w', dims: [3, 4], dataType: DataType.FLOAT, floatData: Array.from(data) });
    expect(tensorToFloat32(t)).toEqual(data);
    expect(tensorToFloat32(viaFloatData)).toEqual(data);
    expect(() => floatTensor('bad', [2, 2], data)).toThrow(/need 4 values/);
  });

  test('dims decoded as Long come back as numbers', () => {
    const g = onnx.GraphProto.create({ name: 'g', initializer: [floatTensor('w', [2, 3], seeded(6, 1))] });
    const m = decodeModel(encodeModel({ irVersion: 8, graph: g }), 'm');
    const t = m.graph!.initializer![0];
    expect(typeof t.dims![0]).not.toBe('number'); // protobufjs decodes int64 as Long
    expect(tensorDims(t)).toEqual([2, 3]);
    expect(tensorToFloat32(t)).toEqual(seeded(6, 1));
  });

  test('float16 (raw_data and int32_data), bfloat16 and double convert to float32', () => {
    const halves = [0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x0000, 0x7c00];
    const expected = [1, -2, 0.333251953125, 65504, 2 ** -24, 0, Infinity];
    const raw = new Uint8Array(halves.length * 2);
    halves.forEach((h, i) => new DataView(raw.buffer).setUint16(i * 2, h, true));
    expect(Array.from(tensorToFloat32({ dims: [7], dataType: DataType.FLOAT16, rawData: raw }))).toEqual(expected);
    expect(Array.from(tensorToFloat32({ dims: [7], dataType: DataType.FLOAT16, int32Data: halves }))).toEqual(expected);
    expect(fromHalf(0x7e00)).toBeNaN();
    const bf = new Uint8Array(4);
    new DataView(bf.buffer).setUint16(0, 0x3f80, true); // 1.0
    new DataView(bf.buffer).setUint16(2, 0xc040, true); // -3.0
    expect(Array.from(tensorToFloat32({ dims: [2], dataType: DataType.BFLOAT16, rawData: bf }))).toEqual([1, -3]);
    expect(Array.from(tensorToFloat32({ dims: [2], dataType: DataType.DOUBLE, doubleData: [0.5, -1.25] }))).toEqual([0.5, -1.25]);
  });

  test('int64Tensor and unreadable tensors', () => {
    const t = int64Tensor('shape', [3], [0, -1, 2n ** 40n]);
    const v = new DataView(t.rawData.buffer, t.rawData.byteOffset);
    expect([v.getBigInt64(0, true), v.getBigInt64(8, true), v.getBigInt64(16, true)]).toEqual([0n, -1n, 2n ** 40n]);
    expect(() => tensorToFloat32(t)).toThrow(InputError);
    expect(() => tensorToFloat32({ name: 'w', dims: [2], dataType: DataType.FLOAT, rawData: new Uint8Array(4) })).toThrow(/need 2 values/);
    expect(() =>
      tensorToFloat32({ name: 'w', dims: [1], dataType: DataType.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL }),
    ).toThrow(/external/);
  });
});
