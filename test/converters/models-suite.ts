/**
 * Whole-model conversions: a U-Net-like decoder with two tap inputs and the image, an
 * encoder-like stack of stride-2 'same' convs run at even and odd sizes through one ONNX
 * model (symbolic H/W), opsets 13/17/21, several outputs, shared layers, emitting into an
 * existing graph, and the errors for what is not supported.
 *
 * The suite runs once per TF.js runtime, one runtime per test file (TF.js loads one per process):
 * models.test.ts (native tfjs-node) and models.wasm.test.ts.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { createSession } from '../../src/backends/ort';
import { initTf, type Tf, type TfBackendName } from '../../src/backends/tf';
import { setLogLevel } from '../../src/log';
import { UnsupportedOpError } from '../../src/errors';
import { GraphBuilder } from '../../src/onnx/builder';
import { mergeModels } from '../../src/onnx/compose';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import { checkModel } from '../../src/onnx/check';
import { modelInfo } from '../../src/onnx/info';
import { encodeModel } from '../../src/onnx/model-io';
import { buildRegistry, emitLayersModel, SUPPORTED_LAYERS, tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { convReluConvRelu, seeded } from '../onnx/fixtures';
import { opTypes, randomizeWeights, runParity, toOnnxFeed } from './parity-helpers';

type Sym = TfModule.SymbolicTensor;
const ATOL = 1e-5;

async function loadTf(backend: TfBackendName): Promise<Tf> {
  setLogLevel('warn');
  const rt = await initTf({ backend });
  expect(rt.backend).toBe(backend);
  return rt.tf;
}

/** taps 7×7×64 and 14×14×32 plus the 28×28×1 image → one 28×28×1 output. */
function unet(tf: Tf): TfModule.LayersModel {
  const L = tf.layers;
  const tap0 = tf.input({ shape: [null, null, 64], name: 'tap0' });
  const tap1 = tf.input({ shape: [null, null, 32], name: 'tap1' });
  const image = tf.input({ shape: [null, null, 1], name: 'image' });
  let h = L.upSampling2d({ size: [2, 2], name: 'up0' }).apply(tap0) as Sym;
  h = L.concatenate({ axis: -1, name: 'cat0' }).apply([h, tap1]) as Sym;
  h = L.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv0' }).apply(h) as Sym;
  h = L.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up1' }).apply(h) as Sym;
  h = L.concatenate({ name: 'cat1' }).apply([h, image]) as Sym;
  h = L.conv2d({ filters: 16, kernelSize: 3, padding: 'same', name: 'conv1' }).apply(h) as Sym;
  h = L.leakyReLU({ alpha: 0.1, name: 'act1' }).apply(h) as Sym;
  h = L.dropout({ rate: 0.2, name: 'drop1' }).apply(h) as Sym;
  const out = L.conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'head' }).apply(h) as Sym;
  return tf.model({ inputs: [tap0, tap1, image], outputs: out, name: 'unet' });
}

/** Stride-2 'same' convs with folded BN and a 'same' max pool, on any H×W. */
function encoder(tf: Tf): TfModule.LayersModel {
  const L = tf.layers;
  const x = tf.input({ shape: [null, null, 1], name: 'image' });
  let h = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'enc0' }).apply(x) as Sym;
  h = L.batchNormalization({ name: 'bn0' }).apply(h) as Sym;
  h = L.reLU({ name: 'relu0' }).apply(h) as Sym;
  h = L.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'enc1' }).apply(h) as Sym;
  h = L.conv2d({ filters: 16, kernelSize: 4, strides: 2, padding: 'same', activation: 'swish', name: 'enc2' }).apply(h) as Sym;
  h = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(h) as Sym;
  return tf.model({ inputs: x, outputs: h, name: 'encoder' });
}

/**
 * Registers the tfjs → ONNX whole-model tests for one TF.js runtime.
 * @param backend the runtime every test of this file runs on
 */
export function tfjsToOnnxModelSuite(backend: TfBackendName): void {
  describe(`tfjs-to-onnx whole models on ${backend}`, () => {
    let tf: Tf;
    beforeAll(async () => {
      tf = await loadTf(backend);
    });

    test.each([13, 17, 21])('U-Net-like decoder with taps, opset %i: parity, no Transpose, valid graph', async (opset) => {
      const model = unet(tf);
      randomizeWeights(tf, model, 42);
      const feeds = [tf.randomNormal([2, 7, 7, 64], 0, 1, 'float32', 1), tf.randomNormal([2, 14, 14, 32], 0, 1, 'float32', 2), tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 3)];
      const { onnxModel, maxDiff, ortOutputs, tfOutputs } = await runParity(tf, model, feeds, { opset });
      expect(ortOutputs[0].dims).toEqual([2, 1, 28, 28]);
      expect(ortOutputs[0].data).toBeCloseToArray(tfOutputs[0].data, { atol: ATOL });
      expect(maxDiff).toBeLessThanOrEqual(ATOL);
      expect(opTypes(onnxModel)).not.toContain('Transpose');
      expect(checkModel(onnxModel)).toEqual([]);
      const info = modelInfo(onnxModel);
      expect(info.opsets).toEqual([{ domain: '', version: opset }]);
      expect(info.inputs.map((i) => [i.name, i.dims])).toEqual([
        ['tap0', ['batch', 64, 'tap0_height', 'tap0_width']],
        ['tap1', ['batch', 32, 'tap1_height', 'tap1_width']],
        ['image', ['batch', 1, 'image_height', 'image_width']],
      ]);
      expect(info.outputs.map((o) => o.name)).toEqual(['head']);
      process.stdout.write(`${backend} U-Net opset ${opset}: max |diff| ${maxDiff.toExponential(2)}\n`);
      feeds.forEach((f) => f.dispose());
    });

    test('encoder-like stride-2 same convs: one ONNX model, parity at 28×28 and 27×29', async () => {
      const model = encoder(tf);
      randomizeWeights(tf, model, 7);
      const onnxModel = tfjsToOnnx(model);
      expect(opTypes(onnxModel)).not.toContain('Transpose');
      expect(opTypes(onnxModel)).not.toContain('BatchNormalization');
      expect(checkModel(onnxModel)).toEqual([]);
      const session = await createSession(encodeModel(onnxModel), { device: 'cpu', threads: 1 });
      for (const [h, w] of [[28, 28], [27, 29], [5, 3]]) {
        const x = tf.randomNormal([2, h, w, 1], 0, 1, 'float32', h * w);
        const expected = model.predict(x) as TfModule.Tensor;
        const want = toOnnxFeed(tf, expected);
        const got = (await session.run({ image: toOnnxFeed(tf, x) }))[onnxModel.graph?.output?.[0]?.name as string];
        expect(got.dims).toEqual(want.dims);
        expect(got.data).toBeCloseToArray(want.data, { atol: ATOL });
        let d = 0;
        got.data.forEach((v, i) => (d = Math.max(d, Math.abs(v - want.data[i]))));
        process.stdout.write(`encoder ${h}×${w} → [${got.dims.join(',')}]: max |diff| ${d.toExponential(2)}\n`);
        x.dispose();
        expected.dispose();
      }
      await session.release();
    });

    test('several outputs (one through a Dropout alias), custom input/output names and a prefix', async () => {
      const L = tf.layers;
      const x = tf.input({ shape: [6, 6, 3], name: 'x' });
      const c = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'trunk' }).apply(x) as Sym;
      const a = L.globalAveragePooling2d({ name: 'gap' }).apply(c) as Sym;
      const cls = L.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(a) as Sym;
      const seg = L.dropout({ rate: 0.5, name: 'seg' }).apply(L.conv2d({ filters: 2, kernelSize: 1, name: 'seg_conv' }).apply(c)) as Sym;
      const model = tf.model({ inputs: x, outputs: [cls, seg, c], name: 'multi' });
      randomizeWeights(tf, model, 3);
      const feed = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 9);
      const { onnxModel, ortOutputs, tfOutputs } = await runParity(tf, model, [feed], {
        inputNames: ['pixels'],
        outputNames: ['probs', 'mask', 'features'],
        prefix: 'dec/',
      });
      ortOutputs.forEach((o, i) => expect(o.data).toBeCloseToArray(tfOutputs[i].data, { atol: ATOL }));
      const g = onnxModel.graph!;
      expect(g.input!.map((i) => i.name)).toEqual(['pixels']);
      expect(g.output!.map((o) => o.name)).toEqual(['probs', 'mask', 'features']);
      const internal = [...g.initializer!.map((t) => t.name as string), ...g.node!.flatMap((n) => n.output as string[])];
      const io = new Set(['pixels', 'probs', 'mask', 'features']);
      expect(internal.filter((n) => !io.has(n) && !n.startsWith('dec/'))).toEqual([]);
      feed.dispose();
    });

    test('a top-level Sequential model converts with its generated input name', async () => {
      const L = tf.layers;
      const model = tf.sequential({
        layers: [
          L.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          L.batchNormalization(),
          L.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }),
        ],
      });
      randomizeWeights(tf, model, 8);
      const feed = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 4);
      const { onnxModel, ortOutputs, tfOutputs } = await runParity(tf, model, [feed]);
      expect(ortOutputs[0].dims).toEqual([2, 1, 8, 8]);
      expect(ortOutputs[0].data).toBeCloseToArray(tfOutputs[0].data, { atol: ATOL });
      expect(onnxModel.graph!.input![0].name).toBe(model.inputNames[0]);
      expect(opTypes(onnxModel)).toEqual(['Conv', 'Relu', 'BatchNormalization', 'ConvTranspose', 'Sigmoid']);
      feed.dispose();
    });

    test('a layer called on two inputs shares one set of ONNX weights', async () => {
      const L = tf.layers;
      const a = tf.input({ shape: [5, 5, 2], name: 'a' });
      const b = tf.input({ shape: [5, 5, 2], name: 'b' });
      const shared = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'shared' });
      const out = L.add().apply([shared.apply(a) as Sym, shared.apply(b) as Sym]) as Sym;
      const model = tf.model({ inputs: [a, b], outputs: out, name: 'siamese' });
      randomizeWeights(tf, model, 5);
      const feeds = [tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 1), tf.randomNormal([1, 5, 5, 2], 0, 1, 'float32', 2)];
      const { onnxModel, ortOutputs, tfOutputs } = await runParity(tf, model, feeds);
      expect(ortOutputs[0].data).toBeCloseToArray(tfOutputs[0].data, { atol: ATOL });
      expect(onnxModel.graph!.initializer!.map((t) => t.name)).toEqual(['shared/kernel', 'shared/bias']);
      expect(opTypes(onnxModel).filter((o) => o === 'Conv')).toHaveLength(2);
    });

    test('emitLayersModel appends a decoder to an existing graph', async () => {
      const model = unet(tf);
      randomizeWeights(tf, model, 11);
      const b = new GraphBuilder('composed');
      b.addInput('t0', ['batch', 64, 'h0', 'w0']);
      b.addInput('t1', ['batch', 32, 'h1', 'w1']);
      b.addInput('img', ['batch', 1, 'h', 'w']);
      b.addInitializer('two', [], new Float32Array([2]));
      b.addNode('Mul', ['img', 'two'], ['img2']);
      const [out] = emitLayersModel(b, model, ['t0', 't1', 'img2'], 'decoder/');
      b.addOutput(out);
      const composed = b.toModel();
      expect(checkModel(composed)).toEqual([]);
      const t0 = tf.randomNormal([1, 7, 7, 64], 0, 1, 'float32', 1);
      const t1 = tf.randomNormal([1, 14, 14, 32], 0, 1, 'float32', 2);
      const img = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 3);
      const img2 = tf.mul(img, 2);
      const expected = toOnnxFeed(tf, model.predict([t0, t1, img2]) as TfModule.Tensor);
      const session = await createSession(encodeModel(composed), { device: 'cpu', threads: 1 });
      const got = await session.run({ t0: toOnnxFeed(tf, t0), t1: toOnnxFeed(tf, t1), img: toOnnxFeed(tf, img) });
      await session.release();
      expect(got[out].data).toBeCloseToArray(expected.data, { atol: ATOL });
      expect(out.startsWith('decoder/')).toBe(true);
    });

    test('ONNX encoder + converted tfjs decoder merged into one model equals running them in turn', async () => {
      const L = tf.layers;
      const tap = tf.input({ shape: [null, null, 4], name: 'tap0' });
      const image = tf.input({ shape: [null, null, 2], name: 'image' });
      let h = L.concatenate().apply([tap, image]) as Sym;
      h = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(h) as Sym;
      const out = L.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'denoised' }).apply(h) as Sym;
      const decoder = tf.model({ inputs: [tap, image], outputs: out, name: 'decoder' });
      randomizeWeights(tf, decoder, 99);

      const encoder = convReluConvRelu();
      const merged = mergeModels(encoder, tfjsToOnnx(decoder), {
        connect: [['relu1', 'tap0']],
        shareInputs: [['x', 'image']],
        outputs: ['decoder/denoised'],
        prefixA: 'encoder/',
        prefixB: 'decoder/',
      });
      expect(checkModel(merged)).toEqual([]);
      expect(opTypes(merged)).not.toContain('Transpose');

      const x = { data: seeded(1 * 2 * 9 * 10, 5), dims: [1, 2, 9, 10] };
      const withTap = convReluConvRelu();
      withTap.graph!.output!.push(makeValueInfo('relu1'));
      const encSession = await createSession(encodeModel(withTap), { device: 'cpu', threads: 1 });
      const feat = (await encSession.run({ x })).relu1;
      await encSession.release();
      const nhwc = (t: { data: Float32Array; dims: number[] }) => tf.transpose(tf.tensor(t.data, t.dims), [0, 2, 3, 1]);
      const expected = toOnnxFeed(tf, decoder.predict([nhwc(feat), nhwc(x)]) as TfModule.Tensor);
      const session = await createSession(encodeModel(merged), { device: 'cpu', threads: 1 });
      const got = (await session.run({ 'encoder/x': x }))['decoder/denoised'];
      await session.release();
      expect(got.dims).toEqual([1, 2, 9, 10]);
      expect(got.data).toBeCloseToArray(expected.data, { atol: ATOL });
    });

    test('unsupported layers, layouts and opsets raise UnsupportedOpError', () => {
      const L = tf.layers;
      const x = tf.input({ shape: [4, 4, 3], name: 'x' });
      const normalized = tf.model({ inputs: x, outputs: L.layerNormalization({ name: 'layer_norm' }).apply(x) as Sym });
      let err: unknown;
      try {
        tfjsToOnnx(normalized);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedOpError);
      expect((err as Error).message).toContain("layer class 'LayerNormalization'");
      expect((err as Error).message).toContain("'layer_norm'");
      expect((err as Error).message).toContain('Conv2D');
      expect(SUPPORTED_LAYERS).toContain('Conv2D');

      const cf = tf.input({ shape: [3, 4, 4], name: 'cf' });
      const chFirst = tf.model({ inputs: cf, outputs: L.conv2d({ filters: 2, kernelSize: 1, dataFormat: 'channelsFirst' }).apply(cf) as Sym });
      expect(() => tfjsToOnnx(chFirst)).toThrow(/channelsFirst/);

      const ok = tf.model({ inputs: x, outputs: L.conv2d({ filters: 2, kernelSize: 1 }).apply(x) as Sym });
      expect(() => tfjsToOnnx(ok, { opset: 12 })).toThrow(UnsupportedOpError);
      expect(() => tfjsToOnnx(ok, { opset: 22 })).toThrow(UnsupportedOpError);
      expect(() => tfjsToOnnx(ok, { inputNames: ['a', 'b'] })).toThrow(/1 inputs/);
    });

    test('a class name registered twice is an error when the table is built', () => {
      const m = () => [];
      expect(() => buildRegistry([[['Conv2D', m]], [['Conv2D', m]]])).toThrow(/Conv2D.*two mappers/);
      expect(Object.isFrozen(buildRegistry([[['A', m]]]))).toBe(true);
    });
  });
}
