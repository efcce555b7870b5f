/**
 * Whole models ONNX → tfjs → ONNX: the synthetic torchvision-style and model-zoo-style
 * ResNets/VGGs of the detection tests (Identity on initializers, unfolded BatchNormalization,
 * option-A shortcuts built from strided Slice + channel Pad), then the ../shared fixtures:
 * resnet20 (real weights) through model.json + weights.bin on disk, resnet18 and vgg16 at small
 * inputs. Each checks tfjs vs onnxruntime and the re-exported ONNX vs the original (≤ 1e-5),
 * and that re-exporting adds no nodes. Also: the one error listing every unsupported op.

 *
 * The suite runs once per TF.js runtime, one runtime per test file (TF.js loads one per process):
 * onnx-to-tfjs-models.test.ts (native tfjs-node) and onnx-to-tfjs-models.wasm.test.ts. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initTf, type Tf, type TfBackendName } from '../../src/backends/tf';
import { InputError, UnsupportedOpError } from '../../src/errors';
import { GraphBuilder } from '../../src/onnx/builder';
import { checkModel } from '../../src/onnx/check';
import { modelInfo } from '../../src/onnx/info';
import { loadModel } from '../../src/onnx/model-io';
import type { onnx } from '../../src/onnx/proto';
import {
  buildOpTable, loadTfjsModel, onnxToTfjs, registerOnnxLayers, saveTfjsModel, tfjsToOnnx, UnsupportedOnnxOpsError,
} from '../../converters';
import { runModel, seeded } from '../onnx/fixtures';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { tmpDir } from '../helpers/tmp';
import { basicResnet, bottleneckResnet, optionAResnet, preactResnet, vggNet, type SyntheticModel } from '../pretrained/synthetic';
import { maxAbsDiff, predictNchw, randomInput } from './onnx-parity';
import { setLogLevel } from '../../src/log';

const ATOL = 1e-5;

async function loadTf(backend: TfBackendName): Promise<Tf> {
  setLogLevel('warn');
  const rt = await initTf({ backend });
  expect(rt.backend).toBe(backend);
  return rt.tf;
}

/** Runs the original in onnxruntime, the tfjs conversion, and the re-exported ONNX; returns diffs and node counts. */
async function roundTrip(tf: Tf, model: onnx.ModelProto, dims: number[], opts: { tfjs?: boolean } = {}) {
  const input = (model.graph?.input ?? [])[0].name as string;
  const x = randomInput(dims, 17);
  const outNames = (model.graph?.output ?? []).map((o) => o.name as string);
  const refAll = await runModel(model, { [input]: x });
  const ref = outNames.map((n) => refAll[n]);
  const { model: tfModel, report } = onnxToTfjs(tf, model);
  try {
    const tfDiff = opts.tfjs === false ? NaN : maxAbsDiff(predictNchw(tf, tfModel, [x]), ref);
    const back = tfjsToOnnx(tfModel);
    expect(checkModel(back)).toEqual([]);
    const backIn = (back.graph?.input ?? [])[0].name as string;
    const again = await runModel(back, { [backIn]: x });
    const backDiff = maxAbsDiff((back.graph?.output ?? []).map((o) => again[o.name as string]), ref);
    return { tfDiff, backDiff, nodes: modelInfo(model).nodeCount, backNodes: modelInfo(back).nodeCount, back, report, tfModel };
  } finally {
    tfModel.dispose();
  }
}

/**
 * Registers the whole-model parity tests for one TF.js runtime.
 * @param backend the runtime every test of this file runs on
 */
export function onnxToTfjsModelSuite(backend: TfBackendName): void {
  describe(`onnx-to-tfjs whole models on ${backend} (synthetic ResNet/VGG graphs)`, () => {
    let tf: Tf;
    beforeAll(async () => {
      tf = await loadTf(backend);
    });

    const synthetic: Array<[string, () => SyntheticModel]> = [
      ['basic resnet, torchvision style (Identity weights)', () => basicResnet('torch')],
      ['basic resnet, model-zoo style (unfolded BatchNormalization)', () => basicResnet('zoo')],
      ['bottleneck resnet, torchvision style', () => bottleneckResnet('torch')],
      ['bottleneck resnet, model-zoo style', () => bottleneckResnet('zoo')],
      ['pre-activation resnet (standalone BatchNormalization)', () => preactResnet('zoo')],
      ['option-A resnet (strided Slice + channel Pad shortcuts)', () => optionAResnet('torch')],
      ['vgg with BatchNormalization', () => vggNet('zoo', { bn: true, layout: [1, 2, 2], widths: [8, 16, 16], variant: 'vgg' })],
    ];
    test.each(synthetic)('%s: tfjs and re-exported ONNX match onnxruntime; no node added', async (_name, make) => {
      const s = make();
      const r = await roundTrip(tf, s.model, s.inputDims(32));
      expect(r.tfDiff).toBeLessThanOrEqual(ATOL);
      expect(r.backDiff).toBeLessThanOrEqual(ATOL);
      expect(r.backNodes).toBeLessThanOrEqual(r.nodes);
    });

    test('every unsupported op is listed with its node name, in one error', () => {
      const b = new GraphBuilder('bad');
      b.addInput('x', ['N', 4, 'H', 'W']);
      b.addInitializer('w', [4, 2, 3, 3], seeded(72, 1));
      b.addNode('GridSample', ['x', 'x'], ['g'], {}, '/enc/grid');
      b.addNode('Conv', ['g', 'w'], ['c'], { kernel_shape: [3, 3], group: 2 }, '/enc/grouped');
      b.addNode('Relu', ['x'], ['r'], {}, '/enc/relu');
      b.addNode('Transpose', ['r'], ['t'], { perm: [0, 2, 3, 1] }, '/enc/to_nhwc');
      b.addNode('Conv', ['r', 'w'], ['c2'], { kernel_shape: [3, 3], group: 2, strides: [2, 2], dilations: [2, 2] }, '/enc/grouped2');
      b.addNode('MyOp', ['r'], ['m'], {}, '/enc/custom', 'com.example');
      for (const o of ['c', 't', 'c2', 'm']) b.addOutput(o);
      const m = b.toModel({ opset: 17, extraOpsets: { 'com.example': 1 } });
      let err: unknown;
      try {
        onnxToTfjs(tf, m, { label: 'bad.onnx' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedOpError);
      const e = err as UnsupportedOnnxOpsError;
      expect(e.problems.map((p) => [p.op, p.node])).toEqual([
        ['GridSample', '/enc/grid'],
        ['Transpose', '/enc/to_nhwc'],
        ['Conv', '/enc/grouped2'],
        ['com.example:MyOp', '/enc/custom'],
      ]);
      expect(e.message).toContain("'GridSample' at node '/enc/grid'");
      expect(e.message).toContain('Conv with strides [2,2] and dilations [2,2] together');
      expect(e.message).toMatch(/^Unsupported ONNX ops \(opset 17\) in bad\.onnx: 'GridSample' at node/);
      expect(e.message).toContain('Supported: Add, AveragePool');
      expect(e.message).toMatch(/converters\/onnx-to-tfjs\/ops/);
      expect(e.exitCode).toBe(1);
    });

    test('a Conv whose attributes disagree with its weight is refused before tfjs allocates, and a failed conversion frees what it built', () => {
      const b = new GraphBuilder('hostile');
      b.addInput('x', ['N', 1, 'H', 'W']);
      b.addInitializer('w', [4, 1, 3, 3], seeded(36, 73));
      b.addInitializer('w2', [4, 4, 3, 3], seeded(144, 74));
      b.addNode('Conv', ['x', 'w'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/ok');
      // A fuzzed file had kernel_shape [3, 343142884]: tfjs built a 16 GB kernel before the weights were refused.
      b.addNode('Conv', ['c', 'w2'], ['d'], { kernel_shape: [3, 343142884] }, '/huge_kernel');
      b.addNode('Conv', ['x', 'w2'], ['e'], { kernel_shape: [3, 3] }, '/channels');
      b.addOutput('d');
      b.addOutput('e');
      const before = tf.memory();
      let err: unknown;
      try {
        onnxToTfjs(tf, b.toModel({ opset: 17 }), { label: 'hostile.onnx' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedOnnxOpsError);
      expect((err as UnsupportedOnnxOpsError).problems.map((p) => [p.node, p.reason])).toEqual([
        ['/huge_kernel', expect.stringContaining('kernel_shape [3,343142884] with a 3×3 weight')],
        ['/channels', expect.stringContaining('Conv of a 1-channel input with weights for 4')],
      ]);
      // The '/ok' layer was built and its kernel set; the failed conversion disposed it.
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
    });

    test('inputs without a channel count, constant outputs and bad graphs are clear errors', () => {
      const b = new GraphBuilder('sym');
      b.addInput('x', ['N', 'C', 'H', 'W']);
      b.addNode('Relu', ['x'], ['y']);
      b.addOutput('y');
      expect(() => onnxToTfjs(tf, b.toModel())).toThrow(/symbolic channel dim.*inputShapes/);
      const ok = onnxToTfjs(tf, b.toModel(), { inputShapes: { x: [1, 3, 8, 8] } });
      expect(ok.model.inputs[0].shape).toEqual([null, 8, 8, 3]);
      ok.model.dispose();

      const c = new GraphBuilder('const');
      c.addInput('x', ['N', 2]);
      c.addInitializer('k', [2], Float32Array.from([1, 2]));
      c.addNode('Relu', ['x'], ['y']);
      c.addNode('Identity', ['k'], ['z']);
      c.addOutput('y');
      c.addOutput('z');
      expect(() => onnxToTfjs(tf, c.toModel())).toThrow(/constant graph output 'z'/);
      expect(() => onnxToTfjs(tf, c.toModel({ opset: 22 }))).toThrow(/opset 22/);
      const bad = c.toModel();
      (bad.graph as onnx.GraphProto).node[0].input = ['missing'];
      expect(() => onnxToTfjs(tf, bad)).toThrow(InputError);
    });

    test('the op table refuses a duplicate op type', () => {
      const m = { onnxOp: 'Relu', opsets: [1, 21] as const, category: 'activation' as const, inputs: [], attrs: [], notes: '' };
      expect(() => buildOpTable([[m], [m]])).toThrow(/'Relu' has two mappers/);
    });
  });

  describeIfShared(`ONNX → tfjs → ONNX on ../shared/models (${backend})`, ['models/resnet20_cifar10.onnx'], () => {
    let tf: Tf;
    beforeAll(async () => {
      tf = await loadTf(backend);
    });

    test('resnet20: model.json + weights.bin on disk, tfjs and re-exported ONNX within 1e-5, fewer nodes', async () => {
      const file = sharedPath('models/resnet20_cifar10.onnx');
      const original = loadModel(file);
      const dir = tmpDir();
      const { model: converted, report } = onnxToTfjs(tf, original, { label: file });
      expect(report.customLayers).toEqual({ OnnxStridedSlice: 4, OnnxPad: 2 });
      await saveTfjsModel(tf, converted, path.join(dir, 'model.json'));
      converted.dispose();
      expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);

      // A fresh load (custom layers registered first) is what a user of the files gets.
      registerOnnxLayers(tf);
      const loaded = await loadTfjsModel(tf, dir);
      expect(loaded.inputs[0].shape).toEqual([null, null, null, 3]);
      const x = randomInput([2, 3, 32, 32], 4);
      const ref = (await runModel(original, { input: x })).logits;
      const tfDiff = maxAbsDiff(predictNchw(tf, loaded, [x]), [ref]);
      const back = tfjsToOnnx(loaded);
      loaded.dispose();
      const again = (await runModel(back, { input: x })).logits;
      const backDiff = maxAbsDiff([again], [ref]);
      const [n0, n1] = [modelInfo(original).nodeCount, modelInfo(back).nodeCount];
      expect(tfDiff).toBeLessThanOrEqual(ATOL);
      expect(backDiff).toBeLessThanOrEqual(ATOL);
      expect(n1).toBeLessThanOrEqual(n0);
      expect(modelInfo(back).opCounts.Transpose ?? 0).toBe(0);
      process.stdout.write(`${backend} resnet20 round trip: tfjs ${tfDiff.toExponential(2)}, ONNX ${backDiff.toExponential(2)}, nodes ${n0} → ${n1} ${JSON.stringify(modelInfo(back).opCounts)}\n`);
    });

    const large: Array<[string, string, number[], boolean]> = [
      ['resnet18', 'models/resnet18_torchvision_random.onnx', [1, 3, 64, 64], true],
      ['vgg16 features', 'models/vgg16_features_torchvision_random.onnx', [1, 3, 32, 32], true],
    ];
    for (const [name, rel, dims, runTfjs] of large) {
      const exists = fs.existsSync(sharedPath(rel));
      (exists ? test : test.skip)(`${name} at ${dims.join('×')}: tfjs and re-exported ONNX within 1e-5, no more nodes`, async () => {
        const r = await roundTrip(tf, loadModel(sharedPath(rel)), dims, { tfjs: runTfjs });
        if (runTfjs) expect(r.tfDiff).toBeLessThanOrEqual(ATOL);
        expect(r.backDiff).toBeLessThanOrEqual(ATOL);
        expect(r.backNodes).toBeLessThanOrEqual(r.nodes);
        process.stdout.write(`${backend} ${name} round trip: tfjs ${r.tfDiff.toExponential(2)}, ONNX ${r.backDiff.toExponential(2)}, nodes ${r.nodes} → ${r.backNodes}\n`);
      });
    }
  });
}
