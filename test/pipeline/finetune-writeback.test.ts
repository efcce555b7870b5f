/**
 * Write-back of fine-tuned TF.js encoder layers into ONNX (pipeline/stages/export-finetuned.ts) on a
 * small residual block built in code: Conv → BatchNormalization (folded by the converter) → Relu →
 * Conv without bias → Add → BatchNormalization (unfolded) → Relu. After every trainable weight is
 * changed in TF.js, onnxruntime on the written model must match the TF.js layers (≤ 1e-4), the
 * folded BN is gone, the unfolded BN keeps its statistics byte for byte, and BN statistics stay
 * frozen while training.
 */
import { createSession } from '../../src/backends/ort';
import { initTf, type Tf } from '../../src/backends/tf';
import { GraphBuilder, floatAttr } from '../../src/onnx/builder';
import { encodeModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import type { FinetuneIo } from '../../pipeline/artifacts';
import { writeBackWeights } from '../../pipeline/stages/export-finetuned';
import { buildEncoderLayers } from '../../pipeline/train/encoder-layers';
import { seeded } from '../helpers/seeded';

const C = 4;

function residualBlock(): ModelProto {
  const b = new GraphBuilder();
  b.addInput('cut', ['n', C, 'h', 'w']);
  b.addInitializer('c1.W', [C, C, 3, 3], seeded(C * C * 9, 1).map((v) => v * 0.3));
  b.addInitializer('c1.B', [C], seeded(C, 2));
  b.addNode('Conv', ['cut', 'c1.W', 'c1.B'], ['c1'], { pads: [1, 1, 1, 1] });
  const bn = (name: string, x: string, seed: number) => {
    b.addInitializer(`${name}.scale`, [C], seeded(C, seed).map((v) => 1 + 0.5 * v));
    b.addInitializer(`${name}.B`, [C], seeded(C, seed + 1));
    b.addInitializer(`${name}.mean`, [C], seeded(C, seed + 2));
    b.addInitializer(`${name}.var`, [C], seeded(C, seed + 3).map((v) => 1 + 0.5 * v));
    b.addNode('BatchNormalization', [x, `${name}.scale`, `${name}.B`, `${name}.mean`, `${name}.var`], [name], { epsilon: floatAttr(1e-5) });
  };
  bn('bn1', 'c1', 10);
  b.addNode('Relu', ['bn1'], ['r1']);
  b.addInitializer('c2.W', [C, C, 3, 3], seeded(C * C * 9, 3).map((v) => v * 0.3));
  b.addNode('Conv', ['r1', 'c2.W'], ['c2'], { pads: [1, 1, 1, 1] });
  b.addNode('Add', ['c2', 'cut'], ['sum']);
  bn('bn2', 'sum', 20);
  b.addNode('Relu', ['bn2'], ['out']);
  b.addOutput('out', ['n', C, 'h', 'w']);
  return b.toModel({ opset: 17 });
}

/** A depthwise Conv (group = C, channel multiplier 2, bias) → Relu: the [kh, kw, C, mult] kernel layout. */
function depthwiseBlock(): ModelProto {
  const b = new GraphBuilder();
  b.addInput('cut', ['n', C, 'h', 'w']);
  b.addInitializer('dw.W', [2 * C, 1, 3, 3], seeded(2 * C * 9, 4).map((v) => v * 0.3));
  b.addInitializer('dw.B', [2 * C], seeded(2 * C, 5));
  b.addNode('Conv', ['cut', 'dw.W', 'dw.B'], ['dw'], { pads: [1, 1, 1, 1], group: C });
  b.addNode('Relu', ['dw'], ['out']);
  b.addOutput('out', ['n', 2 * C, 'h', 'w']);
  return b.toModel({ opset: 17 });
}

const FT: FinetuneIo = {
  stages: ['block'], cut: { name: 'cut', channels: C, stride: 1 }, cached: [{ name: 'cut', channels: C, stride: 1 }], cutIndex: 0,
  frozenTaps: [], trainableTaps: [0],
};

describe('fine-tuned weights written back into ONNX', () => {
  let tf: Tf;
  beforeAll(async () => {
    tf = (await initTf({ device: 'cpu' })).tf;
  });

  it('matches the TF.js layers in onnxruntime, folds the fused BN and keeps BN statistics', async () => {
    const source = residualBlock();
    const enc = buildEncoderLayers(tf, source, FT);
    // "Training": every trainable weight moves.
    enc.model.trainableWeights.forEach((w, i) => {
      const v = w.read();
      w.write(tf.add(v, tf.mul(0.2, tf.tensor(seeded(v.size, 100 + i), v.shape))));
    });
    const { model, report } = writeBackWeights(source, enc);
    const ops = (model.graph?.node ?? []).map((n) => n.opType);
    expect(ops.filter((o) => o === 'BatchNormalization')).toHaveLength(1);
    expect(report.foldedBatchNorms).toEqual(['bn1']);
    // c2 had no bias: none is added; c1 gets its folded weight and bias; bn2 its scale and bias.
    expect([...report.initializers].sort()).toEqual(['bn2.B', 'bn2.scale', 'c1.B', 'c1.W', 'c2.W']);
    const init = (m: ModelProto, name: string) => (m.graph?.initializer ?? []).find((t) => t.name === name);
    for (const name of ['bn2.mean', 'bn2.var']) {
      expect(Buffer.from(init(model, name)!.rawData ?? []).equals(Buffer.from(init(source, name)!.rawData ?? []))).toBe(true);
    }
    expect(tensorToFloat32(init(model, 'c2.W')!)).not.toEqual(tensorToFloat32(init(source, 'c2.W')!));

    const [n, h, w] = [2, 6, 5];
    const x = seeded(n * h * w * C, 7);
    const session = await createSession(encodeModel(model), { device: 'cpu' });
    const ort = nchwToNhwc((await session.run({ cut: { data: nhwcToNchw(x, n, h, w, C), dims: [n, C, h, w] } })).out.data, n, C, h, w);
    await session.release();
    const tfOut = tf.tidy(() => (enc.model.predict(tf.tensor4d(x, [n, h, w, C])) as ReturnType<typeof tf.tensor>).dataSync() as Float32Array);
    expect(ort).toBeCloseToArray(tfOut, { atol: 1e-4, rtol: 1e-5 });

    // Frozen statistics: the training-mode forward pass normalizes with the running stats too.
    const train = tf.tidy(() => (enc.model.apply(tf.tensor4d(x, [n, h, w, C]), { training: true }) as ReturnType<typeof tf.tensor>).dataSync() as Float32Array);
    expect(train).toBeCloseToArray(tfOut, { atol: 1e-6, rtol: 0 });
  });

  it('writes a fine-tuned depthwise kernel back in ONNX order', async () => {
    const source = depthwiseBlock();
    const enc = buildEncoderLayers(tf, source, FT);
    expect(enc.model.layers.map((l) => l.getClassName())).toContain('DepthwiseConv2D');
    enc.model.trainableWeights.forEach((w, i) => {
      const v = w.read();
      w.write(tf.add(v, tf.mul(0.2, tf.tensor(seeded(v.size, 200 + i), v.shape))));
    });
    const { model, report } = writeBackWeights(source, enc);
    expect([...report.initializers].sort()).toEqual(['dw.B', 'dw.W']);
    const [n, h, w] = [2, 5, 6];
    const x = seeded(n * h * w * C, 8);
    const session = await createSession(encodeModel(model), { device: 'cpu' });
    const ort = nchwToNhwc((await session.run({ cut: { data: nhwcToNchw(x, n, h, w, C), dims: [n, C, h, w] } })).out.data, n, 2 * C, h, w);
    await session.release();
    const tfOut = tf.tidy(() => (enc.model.predict(tf.tensor4d(x, [n, h, w, C])) as ReturnType<typeof tf.tensor>).dataSync() as Float32Array);
    expect(ort).toBeCloseToArray(tfOut, { atol: 1e-4, rtol: 1e-5 });
  });
});
