/**
 * configs/set12-resnet20-s25.yaml, shortened (a few Train400 images, one epoch): the real
 * CIFAR-pretrained ResNet-20 cut at layer1/2/3, gray input repeated to RGB and ImageNet
 * normalization inside the graph, end to end through export and parity on Set12 images.
 * Skips (with the missing path named) where ../shared is absent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import { ROOT } from '../helpers/jobs';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { tmpDir } from '../helpers/tmp';

describeIfShared('resnet20 job on Train400 → Set12', ['models/resnet20_cifar10.onnx', 'data/train400', 'data/set12'], () => {
  it('runs through export and parity', async () => {
    const dir = tmpDir();
    const r = await runJob({
      jobFile: path.join(ROOT, 'configs', 'set12-resnet20-s25.yaml'),
      outDir: path.join(dir, 'run'),
      overrides: [
        `data.train=${sharedPath('data/train400')}`, `data.test=${sharedPath('data/set12')}`,
        `encoder.onnx=${sharedPath('models/resnet20_cifar10.onnx')}`,
        'data.limit=6', 'data.patches_per_image=4', 'train.epochs=1', 'verify.samples=2', 'device=cpu',
      ],
    });
    const io = JSON.parse(fs.readFileSync(path.join(r.runDir, 'encoder', 'io.json'), 'utf8'));
    expect(io.taps.map((t: { stage: string; channels: number; stride: number }) => [t.stage, t.channels, t.stride])).toEqual([
      ['layer1', 16, 1], ['layer2', 32, 2], ['layer3', 64, 4],
    ]);
    expect(r.summaries.data).toMatchObject({ test: 6 });
    expect((r.summaries.verify as { maxAbsDiff: number }).maxAbsDiff).toBeLessThanOrEqual(1e-4);
    const model = loadModel(path.join(r.runDir, 'export', 'resnet20-s25-denoiser.onnx'));
    expect(getMetadata(model)['onnxtune.channels']).toBe('1');
    // Gray → RGB repeat and ImageNet normalization are graph nodes in front of the encoder.
    const ops = (model.graph?.node ?? []).map((n) => n.opType);
    expect(ops).toEqual(expect.arrayContaining(['Concat', 'Sub', 'Div', 'Pad']));
  });
});
