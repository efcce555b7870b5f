/** Tiny ONNX models built with GraphBuilder for the toolkit tests (seeded, no downloads). */
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { encodeModel } from '../../src/onnx/model-io';
import { GraphBuilder } from '../../src/onnx/builder';
import type { onnx } from '../../src/onnx/proto';
import { seeded } from '../helpers/seeded';
export { seeded };


/** x [N,2,H,W] → conv1(3×3, 4) → relu1 → conv2(3×3, 3) → relu2 = y. */
export function convReluConvRelu(opts: { opset?: number; prefix?: string } = {}): onnx.ModelProto {
  const p = opts.prefix ?? '';
  const b = new GraphBuilder('crcr');
  b.addInput(`${p}x`, ['N', 2, 'H', 'W']);
  b.addInitializer(`${p}w1`, [4, 2, 3, 3], seeded(72, 1));
  b.addInitializer(`${p}b1`, [4], seeded(4, 2));
  b.addInitializer(`${p}w2`, [3, 4, 3, 3], seeded(108, 3));
  b.addInitializer(`${p}b2`, [3], seeded(3, 4));
  b.addInitializer(`${p}unused`, [2], seeded(2, 5));
  b.addNode('Conv', [`${p}x`, `${p}w1`, `${p}b1`], [`${p}conv1`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Relu', [`${p}conv1`], [`${p}relu1`]);
  b.addNode('Conv', [`${p}relu1`, `${p}w2`, `${p}b2`], [`${p}conv2`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Relu', [`${p}conv2`], [`${p}y`]);
  b.addValueInfo(`${p}relu1`, ['N', 4, 'H', 'W']);
  b.addOutput(`${p}y`, ['N', 3, 'H', 'W']);
  return b.toModel({ opset: opts.opset ?? 17, metadata: { origin: 'fixture' } });
}

/** Runs a model once in a fresh onnxruntime CPU session and returns every output. */
export async function runModel(model: onnx.ModelProto, feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>> {
  const s = await createSession(encodeModel(model), { device: 'cpu', threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}
