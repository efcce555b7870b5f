/**
 * Detection on the real exporter files in ../shared/models (skipped when absent): resnet20
 * (option A shortcuts), torchvision resnet18 and vgg16 give the registry's stages, and for every
 * detected tap the extracted sub-model computes exactly what the whole model computes at that
 * tensor in onnxruntime. Each file is loaded once; inputs are 1×3×64×64 to keep the big files fast.
 * Set ONNXTUNE_TEST_REPORT=1 to print the per-tap max abs diffs.
 */
import type { FloatTensor } from '../../src/backends/ort';
import { checkModel } from '../../src/onnx/check';
import { extractSubModel } from '../../src/onnx/extract';
import { loadModel } from '../../src/onnx/model-io';
import type { onnx } from '../../src/onnx/proto';
import { detectArchitecture, type DetectedArchitecture } from '../../pretrained/detect';
import { compareWithSpec, getEncoderSpec } from '../../pretrained/registry';
import { resolveTaps } from '../../pretrained/taps';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { maxAbsDiff, randomInput, runModel, withOutputs } from './helpers';

const SIZE = 64;
const TOLERANCE = 1e-6;

interface Fixture {
  file: string;
  registry: string;
  variant: string;
  /** [stage, channels, stride] */
  stages: Array<[string, number, number]>;
}

const FIXTURES: Fixture[] = [
  {
    file: 'models/resnet20_cifar10.onnx',
    registry: 'resnet20_cifar10',
    variant: 'resnet (basic blocks, 3 stages)',
    stages: [['stem', 16, 1], ['layer1', 16, 1], ['layer2', 32, 2], ['layer3', 64, 4]],
  },
  {
    file: 'models/resnet18_torchvision_random.onnx',
    registry: 'resnet18',
    variant: 'resnet (basic blocks, 4 stages)',
    stages: [['stem', 64, 4], ['layer1', 64, 4], ['layer2', 128, 8], ['layer3', 256, 16], ['layer4', 512, 32]],
  },
  {
    file: 'models/vgg16_features_torchvision_random.onnx',
    registry: 'vgg16',
    variant: 'vgg16',
    stages: [1, 2, 3, 4, 5].flatMap((i): Array<[string, number, number]> => {
      const c = [64, 128, 256, 512, 512][i - 1];
      return [[`block${i}`, c, 2 ** (i - 1)], [`block${i}_pool`, c, 2 ** i]];
    }),
  },
];

const report: string[] = [];
afterAll(() => {
  if (process.env.ONNXTUNE_TEST_REPORT && report.length) process.stdout.write(report.join('\n') + '\n');
});

for (const fx of FIXTURES) {
  describeIfShared(fx.file, [fx.file], () => {
    let model: onnx.ModelProto;
    let arch: DetectedArchitecture | undefined;

    beforeAll(() => {
      model = loadModel(sharedPath(fx.file));
      arch = detectArchitecture(model);
    });

    test(`detects ${fx.variant} with the expected stages`, () => {
      expect(arch?.variant).toBe(fx.variant);
      expect(arch?.input).toBe('input');
      expect(arch?.stages.map((s) => [s.name, s.channels, s.stride])).toEqual(fx.stages);
      expect(arch?.registryMatch).toBe(fx.registry);
      expect(compareWithSpec(getEncoderSpec(fx.registry), arch)).toEqual([]);
    });

    test('every tap: extractSubModel equals the whole model with that tensor exposed (max abs diff <= 1e-6)', async () => {
      const stages = arch?.stages ?? [];
      const tensors = stages.map((s) => s.tensor);
      const x: FloatTensor = randomInput([1, 3, SIZE, SIZE], 7);
      const ref = await runModel(withOutputs(model, tensors), { input: x }, tensors);
      const diffs: string[] = [];
      for (const s of stages) {
        const cut = extractSubModel(model, [s.tensor]);
        expect(checkModel(cut)).toEqual([]);
        const got = (await runModel(cut, { input: x }))[s.tensor];
        expect([s.name, got.dims]).toEqual([s.name, [1, s.channels, SIZE / s.stride, SIZE / s.stride]]);
        const d = maxAbsDiff(got.data, ref[s.tensor].data);
        diffs.push(`${s.name} ${d.toExponential(2)}`);
        expect([s.name, d <= TOLERANCE]).toEqual([s.name, true]);
      }
      report.push(`${fx.file} (1x3x${SIZE}x${SIZE}): ${diffs.join(', ')}`);
    });

    if (fx.registry === 'resnet20_cifar10') {
      test('resolveTaps maps stage names and raw tensor names, and suggests a stage for a typo', async () => {
        const taps = await resolveTaps(model, ['layer2', '/layer3/layer3.0/Relu_1_output_0'], { label: fx.file });
        expect(taps.map((t) => t.tensor)).toEqual(['/layer2/layer2.2/Relu_1_output_0', '/layer3/layer3.0/Relu_1_output_0']);
        await expect(resolveTaps(model, ['layer4'])).rejects.toThrow(/did you mean 'layer[1-3]'\?.*stages stem, layer1, layer2, layer3/);
      });
    }
  });
}

describeIfShared('models/dncnn_25.onnx', ['models/dncnn_25.onnx'], () => {
  test('a plain conv stack (DnCNN) is neither ResNet nor VGG', () => {
    expect(detectArchitecture(loadModel(sharedPath('models/dncnn_25.onnx')))).toBeUndefined();
  });
});
