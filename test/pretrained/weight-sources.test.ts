/**
 * Weights from wherever exporters put them (issue 12 item 1). Every synthetic architecture and
 * every shared fixture is rewritten each way of weight-rewrites.ts (Constant, ConstantOfShape,
 * Identity/Cast/Transpose/Unsqueeze/Reshape chains, DequantizeLinear of int8/int32, plus Q → DQ
 * pairs on activations, initializers listed as inputs with IR 3), in opset 17 and opset 9 forms.
 * For each rewrite: detection gives the original's stages (names, tensors, channels, strides);
 * the sub-model cut at the taps computes in onnxruntime what the reference computes at those
 * tensors (≤ 1e-6; the reference is the original, or for int8 the original with dequantized
 * weights, or for qdq the rewritten model itself); and ONNX → tfjs conversion of the cut model
 * matches onnxruntime (≤ 1e-4). Set ONNXTUNE_TEST_REPORT=1 to print the numbers.
 */
import type { FloatTensor } from '../../src/backends/ort';
import type { Tf } from '../../src/backends/tf';
import { checkModel } from '../../src/onnx/check';
import { extractSubModel } from '../../src/onnx/extract';
import { loadModel } from '../../src/onnx/model-io';
import type { onnx } from '../../src/onnx/proto';
import { detectArchitecture, type DetectedArchitecture } from '../../pretrained/detect';
import { onnxToTfjs } from '../../converters/onnx-to-tfjs';
import { predictNchw } from '../converters/onnx-parity';
import { getTf } from '../converters/parity-helpers';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { maxAbsDiff, randomInput, runModel, withOutputs } from './helpers';
import {
  optionAResnet, preactResnet, resnet50Net, vgg19Net, type NamingStyle, type SyntheticModel,
} from './synthetic';
import { rewriteWeights, toOpset9, WEIGHT_SOURCES, type WeightSource } from './weight-rewrites';

const TAP_TOLERANCE = 1e-6;
const CONVERT_TOLERANCE = 1e-4;

const report: string[] = [];
afterAll(() => {
  if (process.env.ONNXTUNE_TEST_REPORT && report.length) process.stdout.write(report.join('\n') + '\n');
});

const summary = (a: DetectedArchitecture | undefined) =>
  a && { variant: a.variant, input: a.input, stages: a.stages.map((s) => [s.name, s.tensor, s.channels, s.stride]) };

interface Subject {
  name: string;
  model: () => onnx.ModelProto;
  input: string;
  inputDims: (size: number) => number[];
  size: number;
  /** False where the converter cannot take the graph whatever its weights (tf2onnx's NHWC input Transpose). */
  convert: boolean;
}

let tf: Tf;
beforeAll(async () => {
  tf = await getTf();
});

/** Opset 9 has no Slice steps, so strided "option A" shortcuts have no opset 9 form. */
function opsetForms(model: onnx.ModelProto): Array<[string, onnx.ModelProto | string]> {
  let nine: onnx.ModelProto | string;
  try {
    nine = toOpset9(model);
  } catch (err) {
    nine = (err as Error).message;
  }
  return [['opset 17', model], ['opset 9', nine]];
}

/** The three checks for one subject in one opset form, all weight sources. */
function checkSubject(s: Subject): void {
  let base: onnx.ModelProto;
  beforeAll(() => {
    base = s.model();
  });
  for (const form of ['opset 17', 'opset 9'] as const) {
    describe(form, () => {
      let source: onnx.ModelProto | undefined;
      let arch: DetectedArchitecture | undefined;
      beforeAll(() => {
        const forms = new Map(opsetForms(base));
        const m = forms.get(form);
        if (typeof m === 'string') {
          process.stderr.write(`${s.name} ${form}: skipped (${m})\n`);
          return;
        }
        source = m;
        arch = detectArchitecture(source as onnx.ModelProto, { input: s.input });
      });

      for (const way of WEIGHT_SOURCES) {
        test(`${way}: same stages, taps equal in onnxruntime, tfjs conversion matches`, async () => {
          if (!source) return; // no form (reason printed above)
          expect(arch).toBeDefined();
          let rewritten: ReturnType<typeof rewriteWeights>;
          try {
            rewritten = rewriteWeights(source, way, s.input);
          } catch (err) {
            if (!/^not expressible/.test((err as Error).message)) throw err;
            report.push(`${s.name} ${form} ${way}: skipped (${(err as Error).message})`);
            return;
          }
          const { model, reference } = rewritten;
          expect(summary(detectArchitecture(model, { input: s.input }))).toEqual(summary(arch));
          expect(summary(detectArchitecture(model))).toEqual(summary(arch));

          const tensors = (arch as DetectedArchitecture).stages.map((t) => t.tensor);
          const x: FloatTensor = randomInput(s.inputDims(s.size), 11);
          const cut = extractSubModel(model, tensors, [s.input]);
          expect(checkModel(cut)).toEqual([]); // what the encoder stage asserts before saving encoder.onnx
          const got = await runModel(cut, { [s.input]: x });
          const whole = await runModel(withOutputs(model, tensors), { [s.input]: x }, tensors);
          const cutDiff = Math.max(...tensors.map((t) => maxAbsDiff(got[t].data, whole[t].data)));
          expect(cutDiff).toBeLessThanOrEqual(TAP_TOLERANCE);
          const ref = way === 'qdq' ? whole : await runModel(withOutputs(reference, tensors), { [s.input]: x }, tensors);
          const refDiff = Math.max(...tensors.map((t) => maxAbsDiff(got[t].data, ref[t].data)));
          // onnxruntime keeps DequantizeLinear weights out of constant folding (to keep QDQ patterns), so
          // those convs run unpacked kernels with another summation order: ≤ 1e-6 relative to the tap's scale.
          const scale = way === 'int8' ? Math.max(1, ...tensors.map((t) => ref[t].data.reduce((m, v) => Math.max(m, Math.abs(v)), 0))) : 1;
          expect(refDiff).toBeLessThanOrEqual(TAP_TOLERANCE * scale);

          let line = `${s.name} ${form} ${way}: cut ${cutDiff.toExponential(2)}, vs reference ${refDiff.toExponential(2)}`;
          if (s.convert) line += `, tfjs ${(await convertDiff(cut, s, x, got, tensors)).toExponential(2)}`;
          report.push(line);
        });
      }
    });
  }
}

/** Max |tfjs − onnxruntime| over the cut model's outputs. */
async function convertDiff(cut: onnx.ModelProto, s: Subject, x: FloatTensor, ort: Record<string, FloatTensor>, tensors: string[]): Promise<number> {
  const { model } = onnxToTfjs(tf, cut, { inputShapes: { [s.input]: x.dims } });
  try {
    const outs = predictNchw(tf, model, [x]);
    const diffs = tensors.map((t, i) => {
      expect(outs[i].dims).toEqual(ort[t].dims);
      return maxAbsDiff(outs[i].data, ort[t].data);
    });
    const d = Math.max(...diffs);
    // qdq too: these seeded inputs put no value at a rounding boundary where the runtimes' sums differ by
    // an ulp (where one does, that element lands one quantum away; see converters/README.md).
    expect(d).toBeLessThanOrEqual(CONVERT_TOLERANCE);
    return d;
  } finally {
    model.dispose();
  }
}

const synthetic = (name: string, make: () => SyntheticModel, style: NamingStyle, size = 32): Subject => {
  const probe = make();
  return { name: `${name} (${style})`, model: () => make().model, input: probe.input, inputDims: probe.inputDims, size, convert: style !== 'tf' };
};

describe('weight sources: synthetic architectures', () => {
  const subjects: Subject[] = (['torch', 'zoo', 'tf'] as NamingStyle[]).flatMap((style) => [
    synthetic('resnet50 layout ÷16', () => resnet50Net(style, 16), style),
    synthetic('vgg19 layout ÷16', () => vgg19Net(style, 16), style),
    // Basic blocks and unfolded BN (the zoo style's) are in these two; the ResNet-50/VGG-19 layouts cover the rest.
    synthetic('pre-activation resnet', () => preactResnet(style), style, 16),
    synthetic('option-A resnet', () => optionAResnet(style), style, 16),
  ]);
  for (const s of subjects) describe(s.name, () => checkSubject(s));
});

/** The "must show" sources at full width (every source runs at ÷16 width above). */
const FULL_WIDTH_SOURCES: readonly WeightSource[] = ['initializer', 'constant', 'constant-of-shape', 'int8'];

describe('weight sources: full-width ResNet-50 and VGG-19 layouts (detection only)', () => {
  const expected = {
    resnet50: [['stem', 64, 4], ['layer1', 256, 4], ['layer2', 512, 8], ['layer3', 1024, 16], ['layer4', 2048, 32]],
    vgg19: [64, 128, 256, 512, 512].flatMap((c, i) => [[`block${i + 1}`, c, 2 ** i], [`block${i + 1}_pool`, c, 2 ** (i + 1)]]),
  };
  for (const [name, make] of [['resnet50', () => resnet50Net('torch')], ['vgg19', () => vgg19Net('torch')]] as const) {
    test(`${name}: weights from initializers, Constant, ConstantOfShape and DequantizeLinear detect ${name} with the registry's stages`, () => {
      const syn = make();
      for (const way of FULL_WIDTH_SOURCES) {
        const t0 = performance.now();
        const arch = detectArchitecture(rewriteWeights(syn.model, way, syn.input).model);
        report.push(`${name} full width, ${way}: detected in ${((performance.now() - t0) / 1000).toFixed(1)} s (rewrite included)`);
        expect([way, arch?.registryMatch]).toEqual([way, name]);
        expect([way, arch?.stages.map((s) => [s.name, s.channels, s.stride])]).toEqual([way, expected[name]]);
      }
    });
  }
});

const SHARED = ['models/resnet20_cifar10.onnx', 'models/resnet18_torchvision_random.onnx', 'models/vgg16_features_torchvision_random.onnx'];
describe('weight sources: shared fixtures', () => {
  for (const file of SHARED) {
    describeIfShared(file, [file], () => {
      checkSubject({ name: file, model: () => loadModel(sharedPath(file)), input: 'input', inputDims: (n) => [1, 3, n, n], size: 32, convert: true });
    });
  }
});
