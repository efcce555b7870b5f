/** The encoder registry: frozen data, alias lookup, misses that list valid names, stage lists that match detection. */
import { ConfigError } from '../../src/errors';
import { detectArchitecture } from '../../pretrained/detect';
import { IMAGENET } from '../../pretrained/normalization';
import { compareWithSpec, ENCODER_ALIASES, ENCODER_NAMES, ENCODERS, getEncoderSpec, isEncoderName } from '../../pretrained/registry';
import { basicResnet, vggNet } from './synthetic';

describe('encoder registry', () => {
  test('lists the ResNet and VGG layouts', () => {
    expect(ENCODER_NAMES).toEqual([
      'resnet20_cifar10', 'resnet18', 'resnet34', 'resnet50',
      'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16', 'vgg16_bn', 'vgg19', 'vgg19_bn',
    ]);
  });

  test('is frozen all the way down', () => {
    expect(Object.isFrozen(ENCODERS)).toBe(true);
    expect(Object.isFrozen(ENCODER_ALIASES)).toBe(true);
    for (const spec of Object.values(ENCODERS)) {
      expect(Object.isFrozen(spec)).toBe(true);
      expect(Object.isFrozen(spec.stages)).toBe(true);
      expect(Object.isFrozen(spec.blocks)).toBe(true);
      spec.stages.forEach((s) => expect(Object.isFrozen(s)).toBe(true));
      expect(Object.isFrozen(spec.normalization.mean)).toBe(true);
    }
    expect(() => {
      (ENCODERS.resnet18 as { inputSize: number }).inputSize = 1;
    }).toThrow(TypeError);
  });

  test('entries carry ImageNet normalization and the expected stages', () => {
    expect(IMAGENET).toMatchObject({ channelOrder: 'RGB', range: [0, 1], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    for (const spec of Object.values(ENCODERS)) expect(spec.normalization).toBe(IMAGENET);
    const short = (name: keyof typeof ENCODERS) => ENCODERS[name].stages.map((s) => `${s.name}/${s.stride}:${s.channels}`).join(' ');
    expect(short('resnet20_cifar10')).toBe('stem/1:16 layer1/1:16 layer2/2:32 layer3/4:64');
    expect(ENCODERS.resnet20_cifar10).toMatchObject({ file: 'resnet20_cifar10.onnx', inputSize: 32, block: 'basic', blocks: [3, 3, 3] });
    expect(short('resnet18')).toBe('stem/4:64 layer1/4:64 layer2/8:128 layer3/16:256 layer4/32:512');
    expect(short('resnet34')).toBe(short('resnet18'));
    expect(short('resnet50')).toBe('stem/4:64 layer1/4:256 layer2/8:512 layer3/16:1024 layer4/32:2048');
    expect(short('vgg16')).toBe(
      'block1/1:64 block1_pool/2:64 block2/2:128 block2_pool/4:128 block3/4:256 block3_pool/8:256 ' +
        'block4/8:512 block4_pool/16:512 block5/16:512 block5_pool/32:512',
    );
    for (const n of ['vgg11', 'vgg13', 'vgg19', 'vgg11_bn', 'vgg16_bn', 'vgg19_bn'] as const) expect(short(n)).toBe(short('vgg16'));
    expect(ENCODERS.vgg19_bn).toMatchObject({ family: 'vgg', blocks: [2, 2, 4, 4, 4], batchNorm: true, inputSize: 224 });
  });

  test('aliases resolve; every alias points at an entry', () => {
    expect(getEncoderSpec('resnet20')).toBe(ENCODERS.resnet20_cifar10);
    expect(getEncoderSpec('vgg16-bn')).toBe(ENCODERS.vgg16_bn);
    expect(getEncoderSpec('resnet50').name).toBe('resnet50');
    for (const target of Object.values(ENCODER_ALIASES)) expect(ENCODER_NAMES).toContain(target);
    expect(isEncoderName('resnet-18')).toBe(true);
    expect(isEncoderName('toString')).toBe(false);
  });

  test('a miss is a ConfigError suggesting the closest name and listing the valid ones', () => {
    let err: unknown;
    try {
      getEncoderSpec('resnet19', { file: 'job.yaml', path: 'encoder.registry' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      "job.yaml encoder.registry: unknown encoder 'resnet19'; did you mean 'resnet18'? Valid names: " + ENCODER_NAMES.join(', ') + '.',
    );
    expect(() => getEncoderSpec('constructor')).toThrow(/unknown encoder 'constructor'/);
  });

  test('compareWithSpec reports family and stage disagreements', () => {
    const resnet = detectArchitecture(basicResnet('torch').model);
    expect(compareWithSpec(ENCODERS.vgg16, resnet)).toEqual(['detected a resnet (basic blocks, 2 stages), but vgg16 is a vgg']);
    expect(compareWithSpec(ENCODERS.resnet18, resnet)).toEqual([
      'stage stem: resnet18 has /4 64ch, the graph /2 8ch',
      'stage layer1: resnet18 has /4 64ch, the graph /2 8ch',
      'stage layer2: resnet18 has /8 128ch, the graph /4 16ch',
      'stage layer3 not found (detected: stem, layer1, layer2)',
      'stage layer4 not found (detected: stem, layer1, layer2)',
    ]);
    expect(compareWithSpec(ENCODERS.vgg11, undefined)).toEqual(['no vgg stages were detected in the graph (expected vgg11)']);
    const vgg = detectArchitecture(vggNet('tf', { bn: false, layout: [1, 1, 2, 2, 2], widths: [64, 128, 256, 512, 512], variant: '' }).model);
    expect(vgg?.variant).toBe('vgg11');
    expect(vgg?.registryMatch).toBe('vgg11');
    expect(compareWithSpec(ENCODERS.vgg11, vgg)).toEqual([]);
  });
});
