/**
 * `onnxtune inspect`: besides the model summary it prints the detected architecture and the
 * tensor of every stage, and `--json` includes them; on ../shared/models (when present) it shows
 * the resnet20, resnet18 and vgg16 stages. Set ONNXTUNE_TEST_REPORT=1 to print those outputs.
 */
import * as path from 'node:path';
import { saveModel } from '../../src/onnx/model-io';
import { convReluConvRelu } from '../onnx/fixtures';
import { ARCHITECTURES } from '../../bench/architectures/index';
import { basicResnet } from '../pretrained/synthetic';
import { runCli } from '../helpers/cli';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { tmpDir } from '../helpers/tmp';

describe('onnxtune inspect: architecture', () => {
  const dir = tmpDir();
  const resnet = basicResnet('torch');
  const resnetFile = path.join(dir, 'resnet.onnx');
  const plainFile = path.join(dir, 'plain.onnx');

  beforeAll(() => {
    saveModel(resnet.model, resnetFile);
    saveModel(convReluConvRelu(), plainFile);
  });

  test('prints the variant, the stage summary and a stage → tensor table after the usual summary', async () => {
    const r = await runCli(['inspect', resnetFile]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (const head of ['input ', 'output ', 'op ']) expect(lines.some((l) => l.startsWith(head))).toBe(true);
    const at = lines.indexOf("architecture: resnet (basic blocks, 2 stages), input 'input'");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('  resnet: stem /2 8ch → layer1 /2 8ch → layer2 /4 16ch');
    expect(lines[at + 3]).toMatch(/^stage\s+stride\s+channels\s+tensor$/);
    resnet.stages.forEach((s, i) => {
      expect(lines[at + 4 + i].split(/\s+/)).toEqual([s.name, `/${s.stride}`, String(s.channels), s.tensor]);
    });
    expect(r.stdout).not.toContain('tensors:');
  });

  test('--json includes the architecture; --tensors still lists tensors', async () => {
    const r = await runCli(['inspect', resnetFile, '--json', '--tensors']);
    const data = JSON.parse(r.stdout);
    expect(data.architecture).toMatchObject({ family: 'resnet', variant: 'resnet (basic blocks, 2 stages)', input: 'input', stages: resnet.stages });
    expect(data.tensors).toContain(resnet.stages[1].tensor);
    expect(data.inputs[0].name).toBe('input');
  });

  test("a MobileNet v2 prints its family, stride stages and the 'taps: auto' table (also in --json)", async () => {
    const mnv2 = ARCHITECTURES.mobilenet_v2('timm');
    const file = path.join(dir, 'mnv2.onnx');
    saveModel(mnv2.model, file);
    const r = await runCli(['inspect', file]);
    const lines = r.stdout.split('\n');
    expect(lines).toContain("architecture: mobilenet v2 (inverted residuals), input 'input.1'");
    const at = lines.indexOf('taps: auto');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^stride\s+channels\s+tensor$/);
    mnv2.auto.forEach((t, i) => expect(lines[at + 2 + i].split(/\s+/).slice(0, 2)).toEqual([`/${t.stride}`, String(t.channels)]));
    const data = JSON.parse((await runCli(['inspect', file, '--json'])).stdout);
    expect(data.autoTaps.map((t: { channels: number; stride: number }) => ({ channels: t.channels, stride: t.stride }))).toEqual(mnv2.auto);
    expect(data.architecture.family).toBe('mobilenet');
  });

  test('a model with no ResNet/VGG pattern says so (JSON: null)', async () => {
    const r = await runCli(['inspect', plainFile]);
    expect(r.stdout).toContain("architecture: no named stages detected (taps must be tensor names or 'auto'; see --tensors)");
    expect(JSON.parse((await runCli(['inspect', plainFile, '--json'])).stdout).architecture).toBeNull();
  });
});

const SHARED: Array<[string, string, string[]]> = [
  [
    'models/resnet20_cifar10.onnx',
    "architecture: resnet (basic blocks, 3 stages), input 'input', matches registry entry resnet20_cifar10",
    ['  resnet: stem /1 16ch → layer1 /1 16ch → layer2 /2 32ch → layer3 /4 64ch', 'layer3  /4      64        /layer3/layer3.2/Relu_1_output_0'],
  ],
  [
    'models/resnet18_torchvision_random.onnx',
    "architecture: resnet (basic blocks, 4 stages), input 'input', matches registry entry resnet18",
    [
      '  resnet: stem /4 64ch → layer1 /4 64ch → layer2 /8 128ch → layer3 /16 256ch → layer4 /32 512ch',
      'stem    /4      64        /maxpool/MaxPool_output_0',
    ],
  ],
  [
    'models/vgg16_features_torchvision_random.onnx',
    "architecture: vgg16, input 'input', matches registry entry vgg16",
    ['block3       /4      256       /15/Relu_output_0', 'block5_pool  /32     512       features'],
  ],
];

for (const [file, header, rows] of SHARED) {
  describeIfShared(`onnxtune inspect ${file}`, [file], () => {
    test('shows the detected stages and their tensors', async () => {
      const r = await runCli(['inspect', sharedPath(file)]);
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines).toContain(header);
      for (const row of rows) expect(lines).toContain(row);
      if (process.env.ONNXTUNE_TEST_REPORT) process.stderr.write(r.stdout.slice(r.stdout.indexOf('architecture:')) + '\n');
    });
  });
}
