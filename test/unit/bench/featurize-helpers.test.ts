/** Featurize bench helpers: the default encoder choice (shared ResNet-20, else the committed MNIST encoder) and the seeded patches. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchPatches, defaultEncoder } from '../../../bench/featurize';
import { tmpDir } from '../../helpers/tmp';

describe('defaultEncoder', () => {
  it('takes resnet20_cifar10 with layer1-3 at 40×40 when the shared folder has it', () => {
    const shared = tmpDir();
    fs.mkdirSync(path.join(shared, 'models'));
    fs.writeFileSync(path.join(shared, 'models', 'resnet20_cifar10.onnx'), 'x');
    const c = defaultEncoder(shared);
    expect(c.file).toBe(path.join(shared, 'models', 'resnet20_cifar10.onnx'));
    expect(c.taps).toEqual(['layer1', 'layer2', 'layer3']);
    expect(c.size).toBe(40);
    expect(c.registry).toBe('resnet20_cifar10');
  });

  it.each([
    ['the shared folder is missing', (d: string) => path.join(d, 'nope'), /no shared folder/],
    ['the shared folder lacks the model', (d: string) => d, /resnet20_cifar10\.onnx not found/],
  ])('falls back to the committed MNIST encoder when %s, saying why', (_what, where, why) => {
    const c = defaultEncoder(where(tmpDir()));
    expect(c.file.endsWith(path.join('pretrained', 'mnist-conv-ae', 'encoder.onnx'))).toBe(true);
    expect(fs.existsSync(c.file)).toBe(true);
    expect(c.taps).toEqual(['stage1', 'stage2']);
    expect(c.size).toBe(28);
    expect(c.why).toMatch(why);
  });
});

describe('benchPatches', () => {
  it('is the same pool for the same seed and a different one for another seed', () => {
    const a = benchPatches(0, 3, 4, 1);
    const b = benchPatches(0, 3, 4, 1);
    expect(a.noisy.length).toBe(48);
    expect(Array.from(a.noisy)).toEqual(Array.from(b.noisy));
    expect(Array.from(benchPatches(1, 3, 4, 1).clean)).not.toEqual(Array.from(a.clean));
    expect(Math.min(...a.clean)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.clean)).toBeLessThan(1);
  });
});
