/**
 * QDQ models through ONNX → tfjs: int8 weights behind DequantizeLinear fold, an activation
 * Q → DQ pair becomes OnnxFakeQuant (per tensor and per channel, int8 and uint8, saturating,
 * rounding half to even like onnxruntime), which survives a save/load through model.json and
 * maps back to QuantizeLinear + DequantizeLinear. References are onnxruntime runs.
 */
import * as path from 'node:path';
import type { Tf } from '../../src/backends/tf';
import { GraphBuilder } from '../../src/onnx/builder';
import { DataType, onnx } from '../../src/onnx/proto';
import { floatTensor } from '../../src/onnx/tensor';
import { loadTfjsModel, onnxToTfjs, saveTfjsModel } from '../../converters';
import { tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { runModel } from '../onnx/fixtures';
import { tmpDir } from '../helpers/tmp';
import { maxAbsDiff, predictNchw } from './onnx-parity';
import { getTf } from './parity-helpers';

function zp(name: string, type: number, values: number[]): onnx.TensorProto {
  const raw = new Uint8Array(values.length);
  values.forEach((v, i) => (type === DataType.INT8 ? new DataView(raw.buffer).setInt8(i, v) : (raw[i] = v)));
  return onnx.TensorProto.create({ name, dims: values.length > 1 ? [values.length] : [], dataType: type, rawData: raw });
}

/** x → Q/DQ per tensor (int8, zp 3) → Q/DQ per channel (uint8) → Relu. */
function qdqModel(): onnx.ModelProto {
  const b = new GraphBuilder('qdq');
  b.addInput('x', ['N', 3, 'H', 'W']);
  b.addTensor(floatTensor('s', [], Float32Array.of(0.1)));
  b.addTensor(zp('z', DataType.INT8, [3]));
  b.addTensor(floatTensor('sc', [3], Float32Array.of(0.05, 0.2, 0.125)));
  b.addTensor(zp('zc', DataType.UINT8, [0, 128, 250]));
  b.addNode('QuantizeLinear', ['x', 's', 'z'], ['q1']);
  b.addNode('DequantizeLinear', ['q1', 's', 'z'], ['d1']);
  b.addNode('QuantizeLinear', ['d1', 'sc', 'zc'], ['q2'], { axis: 1 });
  b.addNode('DequantizeLinear', ['q2', 'sc', 'zc'], ['d2'], { axis: 1 });
  b.addNode('Relu', ['d2'], ['y']);
  b.addOutput('y');
  return b.toModel({ opset: 13 });
}

describe('ONNX → tfjs: QDQ activations', () => {
  let tf: Tf;
  beforeAll(async () => {
    tf = await getTf();
  });

  test('OnnxFakeQuant matches onnxruntime exactly, including .5 ties and saturation; save/load and back to ONNX', async () => {
    const model = qdqModel();
    // Ties at x/0.1 = k + 0.5 (half to even), values far past int8/uint8 range (saturation), and the rest.
    const values = [0.05, 0.15, 0.25, -0.05, -0.35, 100, -100, 30, 0.4, ...Array.from({ length: 27 }, (_, i) => Math.sin(i) * 8)];
    const x = { data: Float32Array.from(values), dims: [1, 3, 3, 4] };
    const ref = (await runModel(model, { x })).y;
    const { model: tfModel, report } = onnxToTfjs(tf, model);
    expect(report.fused).toBe(2);
    const dir = tmpDir();
    try {
      expect(maxAbsDiff(predictNchw(tf, tfModel, [x]), [ref])).toBeLessThanOrEqual(1e-6);
      await saveTfjsModel(tf, tfModel, path.join(dir, 'model.json'));
      const loaded = await loadTfjsModel(tf, path.join(dir, 'model.json'));
      expect(maxAbsDiff(predictNchw(tf, loaded, [x]), [ref])).toBeLessThanOrEqual(1e-6);
      loaded.dispose();
      const back = tfjsToOnnx(tfModel, { inputNames: ['x'] });
      expect((back.graph?.node ?? []).map((n) => n.opType)).toEqual(['QuantizeLinear', 'DequantizeLinear', 'QuantizeLinear', 'DequantizeLinear', 'Relu']);
      const again = await runModel(back, { x });
      expect(maxAbsDiff([Object.values(again)[0]], [ref])).toBeLessThanOrEqual(1e-6);
    } finally {
      tfModel.dispose();
    }
  });

  test('a QuantizeLinear of an activation without its DequantizeLinear is refused, naming the node', () => {
    const b = new GraphBuilder('q');
    b.addInput('x', ['N', 3, 4, 4]);
    b.addTensor(floatTensor('s', [], Float32Array.of(0.1)));
    b.addNode('QuantizeLinear', ['x', 's'], ['q'], {}, 'lonely_q');
    b.addNode('Cast', ['q'], ['y'], { to: DataType.FLOAT });
    b.addOutput('y');
    expect(() => onnxToTfjs(tf, b.toModel({ opset: 13 }))).toThrow(/'QuantizeLinear' at node 'lonely_q' \(QuantizeLinear of an activation not followed by DequantizeLinear/);
  });
});
