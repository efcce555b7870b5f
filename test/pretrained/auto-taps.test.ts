/**
 * `taps: auto` on real exporter files: the demo's MNIST encoder (which also outputs its shallow tap),
 * and on ../shared/models (skipped when absent) resnet20, torchvision resnet18 and vgg16: one tap per
 * stride at the stage outputs detection names, and DnCNN (no downsampling): its last tensor.
 */
import * as path from 'node:path';
import { loadModel } from '../../src/onnx/model-io';
import { autoTaps } from '../../pretrained/auto-taps';
import { detectArchitecture } from '../../pretrained/detect';
import { describeIfShared, sharedPath } from '../helpers/shared-data';

const ROOT = path.resolve(__dirname, '..', '..');

test('the MNIST encoder: /1, /2, /4 (the main path runs to the deepest output, past the shallow tap output)', () => {
  const model = loadModel(path.join(ROOT, 'pretrained', 'mnist-conv-ae', 'encoder.onnx'));
  expect(autoTaps(model).map((t) => [t.stride, t.channels, t.tensor])).toEqual([[1, 16, 'stem'], [2, 32, 'stage1'], [4, 64, 'stage2']]);
});

const STAGE_FILES: Array<[string, string[], number[]]> = [
  ['models/resnet20_cifar10.onnx', ['layer1', 'layer2', 'layer3'], [1, 2, 4]],
  ['models/resnet18_torchvision_random.onnx', ['layer1', 'layer2', 'layer3', 'layer4'], [2, 4, 8, 16, 32]],
  ['models/vgg16_features_torchvision_random.onnx', ['block1', 'block2', 'block3', 'block4', 'block5', 'block5_pool'], [1, 2, 4, 8, 16, 32]],
];

for (const [file, stages, strides] of STAGE_FILES) {
  describeIfShared(file, [file], () => {
    test(`auto taps are at strides ${strides.join('/')} and land on the detected stages ${stages.join(', ')}`, () => {
      const model = loadModel(sharedPath(file));
      const taps = autoTaps(model);
      expect(taps.map((t) => t.stride)).toEqual(strides);
      const arch = detectArchitecture(model);
      const byName = new Map((arch?.stages ?? []).map((s) => [s.name, s] as const));
      const deep = taps.slice(taps.length - stages.length);
      stages.forEach((name, i) => expect([deep[i].tensor, deep[i].channels]).toEqual([byName.get(name)?.tensor, byName.get(name)?.channels]));
    });
  });
}

describeIfShared('models/dncnn_25.onnx', ['models/dncnn_25.onnx'], () => {
  test('a plain conv stack without downsampling has one tap, at /1', () => {
    const taps = autoTaps(loadModel(sharedPath('models/dncnn_25.onnx')));
    expect(taps.map((t) => [t.stride, t.channels])).toEqual([[1, 1]]);
  });
});
