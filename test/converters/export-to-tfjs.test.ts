/**
 * An onnxtune export converts to tfjs once its input size is fixed: the graph pads the image to the encoder's
 * stride multiple with Shape → Mod → Sub → Min → Pad, and with static dims (inputShapes, `--input-shape`) that
 * chain folds at conversion time; the tfjs model then equals onnxruntime on the same image. Without static dims
 * the error says which input to fix. Uses the shipped gray-blind (as shipped, and re-joined by the current
 * `combine`, whose edge-padding step handles 1–2 px sides).
 */
import * as tf from '@tensorflow/tfjs';
import { onnxToTfjs } from '../../converters/onnx-to-tfjs';
import { combine } from '../../pipeline/export-model';
import { splitDenoiser } from '../../pipeline/finetune/split';
import { resolveModel } from '../../pretrained/shipped';
import { createSession } from '../../src/backends/ort';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { GraphBuilder } from '../../src/onnx/builder';
import { nchwToNhwc } from '../../src/tensor/layout';
import { seeded } from '../helpers/seeded';
import { quietCpu } from '../helpers/tf-cpu';

const shipped = loadModel(resolveModel('gray-blind'));
const split = splitDenoiser(shipped, 'gray-blind.onnx');
const rejoined = combine(split.encoder, split.decoder, split.io, split.opset);

async function tfjsVsOrt(model: ModelProto, h: number, w: number): Promise<number> {
  const { model: converted } = onnxToTfjs(tf, model, { inputShapes: { noisy: [1, 1, h, w] }, label: 'gray-blind.onnx' });
  const x = Float32Array.from(seeded(h * w, h * 100 + w), (v) => 0.5 + 0.2 * v);
  const session = await createSession(encodeModel(model), { threads: 1 });
  try {
    const ref = (await session.run({ noisy: { data: x, dims: [1, 1, h, w] } })).denoised;
    expect(ref.dims).toEqual([1, 1, h, w]);
    const y = tf.tidy(() => (converted.predict(tf.tensor4d(nchwToNhwc(x, 1, 1, h, w), [1, h, w, 1])) as tf.Tensor).dataSync());
    // One channel: NHWC and NCHW orders coincide.
    return Array.from(y).reduce((m, v, i) => Math.max(m, Math.abs(v - ref.data[i])), 0);
  } finally {
    await session.release();
    converted.dispose();
  }
}

describe('an onnxtune export → tfjs', () => {
  beforeAll(quietCpu);

  it('folds the padding chain for a fixed size and matches onnxruntime (30×22: 2 rows and 2 columns of padding)', async () => {
    expect(await tfjsVsOrt(shipped, 30, 22)).toBeLessThan(1e-4);
  });

  it('the current export also at 2×2 and 1×5 (reflect what fits, then edge)', async () => {
    expect(await tfjsVsOrt(rejoined, 2, 2)).toBeLessThan(1e-4);
    expect(await tfjsVsOrt(rejoined, 1, 5)).toBeLessThan(1e-4);
  });

  it("leaves a Shape unfolded where its batch dim is read (the tfjs model's batch stays free)", () => {
    const b = new GraphBuilder('flatten');
    b.addInput('x', [1, 2, 3, 3]);
    b.addNode('Shape', ['x'], ['shape']);
    b.addInt64Initializer('zero', [1], [0]);
    b.addNode('Gather', ['shape', 'zero'], ['n'], { axis: 0 });
    b.addInt64Initializer('rest', [1], [-1]);
    b.addNode('Concat', ['n', 'rest'], ['target'], { axis: 0 });
    b.addNode('Reshape', ['x', 'target'], ['y']);
    b.addOutput('y');
    expect(() => onnxToTfjs(tf, b.toModel({ opset: 13 }), { label: 'flatten.onnx' })).toThrow(/'Shape' at node/);
  });

  it('without fixed dims names the input to fix', () => {
    expect(() => onnxToTfjs(tf, shipped, { label: 'gray-blind.onnx' })).toThrow(/Shape.*of input 'noisy' once its dims are fixed \(inputShapes, or --input-shape on the CLI\)/);
  });
});
