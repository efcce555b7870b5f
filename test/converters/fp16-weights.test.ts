/**
 * float16 weight storage (`float16Weights`): the model computes in float32 on weights rounded to
 * float16. Reference: the same graph with each large weight replaced by its float16-rounded
 * float32 copy (rounded independently, through Math.fround of the half decode) run in onnxruntime.
 */
import { GraphBuilder } from '../../src/onnx/builder';
import { checkModel } from '../../src/onnx/check';
import { encodeModel } from '../../src/onnx/model-io';
import { DataType, onnx } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/fp16';
import { float16Weights } from '../../converters/fp16-weights';
import { runModel, seeded } from '../onnx/fixtures';

function convNet(): onnx.ModelProto {
  const b = new GraphBuilder('net');
  b.addInput('x', ['N', 2, 'H', 'W']);
  b.addInitializer('w1', [16, 2, 3, 3], seeded(288, 1).map((v) => v * 0.5));
  b.addInitializer('b1', [16], seeded(16, 2));
  b.addInitializer('w2', [1, 16, 3, 3], seeded(144, 3).map((v) => v * 0.3));
  b.addInitializer('shift', [1, 1, 1, 1], Float32Array.of(0.25));
  b.addNode('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Relu', ['c1'], ['r1']);
  b.addNode('Conv', ['r1', 'w2'], ['c2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Add', ['c2', 'shift'], ['y']);
  b.addOutput('y', ['N', 1, 'H', 'W']);
  return b.toModel({ opset: 17 });
}

/** The same model with every initializer of ≥ minElements values rounded to float16 but stored as float32. */
function roundedCopy(model: onnx.ModelProto, minElements: number): onnx.ModelProto {
  const inits = (model.graph?.initializer ?? []).map((t) => {
    const data = tensorToFloat32(t);
    if (data.length < minElements) return t;
    const r = float16ToFloat32(float32ToFloat16(data));
    return onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: DataType.FLOAT, floatData: Array.from(r) });
  });
  return onnx.ModelProto.create({ ...model, graph: onnx.GraphProto.create({ ...model.graph, initializer: inits }) });
}

describe('float16Weights', () => {
  const model = convNet();
  const x = { dims: [1, 2, 9, 11], data: Float32Array.from(seeded(198, 9)) };

  test('large weights stored as float16 behind a Cast, small ones kept; output = float32 compute on rounded weights', async () => {
    const { model: half, report } = float16Weights(model, { minElements: 100 });
    expect(checkModel(half)).toEqual([]);
    expect(report).toMatchObject({ converted: 2, keptFloat32: 2, clamped: 0 });
    expect(report.maxRoundingError).toBeGreaterThan(0);
    expect(report.maxRoundingError).toBeLessThan(1e-3);
    const types = new Map((half.graph?.initializer ?? []).map((t) => [t.name, t.dataType]));
    expect(types.get('w1_fp16')).toBe(DataType.FLOAT16);
    expect(types.get('b1')).toBe(DataType.FLOAT);
    expect(types.has('w1')).toBe(false);
    expect((half.graph?.node ?? []).filter((n) => n.opType === 'Cast').map((n) => n.output?.[0])).toEqual(['w1', 'w2']);
    const [got, ref, orig] = await Promise.all([runModel(half, { x }), runModel(roundedCopy(model, 100), { x }), runModel(model, { x })]);
    expect(got.y.data).toBeCloseToArray(ref.y.data, { atol: 1e-6, rtol: 0 });
    // ... and genuinely rounded: not the float32 weights' output bit for bit.
    expect(Array.from(got.y.data)).not.toEqual(Array.from(orig.y.data));
    expect(got.y.data).toBeCloseToArray(orig.y.data, { atol: 1e-2, rtol: 0 });
  });

  test('about half the bytes for a weight-dominated model; the input model is untouched', () => {
    const b = new GraphBuilder('wide');
    b.addInput('x', ['N', 32, 'H', 'W']);
    b.addInitializer('w', [32, 32, 3, 3], seeded(9216, 4));
    b.addNode('Conv', ['x', 'w'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    b.addOutput('y', ['N', 32, 'H', 'W']);
    const wide = b.toModel({ opset: 17 });
    const before = encodeModel(wide).length;
    const { model: half } = float16Weights(wide);
    expect(encodeModel(half).length / before).toBeLessThan(0.52);
    expect((model.graph?.initializer ?? []).every((t) => t.dataType === DataType.FLOAT)).toBe(true);
  });

  test('values beyond the float16 range are clamped and counted', () => {
    const b = new GraphBuilder('big');
    b.addInput('x', [1, 4]);
    b.addInitializer('w', [4, 4], Float32Array.from({ length: 16 }, (_, i) => (i === 3 ? 1e6 : i)));
    b.addNode('MatMul', ['x', 'w'], ['y']);
    b.addOutput('y', [1, 4]);
    const { report } = float16Weights(b.toModel({ opset: 17 }), { minElements: 1 });
    expect(report.clamped).toBe(1);
  });
});
