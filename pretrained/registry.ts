/**
 * The encoder registry: frozen descriptions of the VGG/ResNet layouts onnxtune knows, with the
 * stages graph detection should find (name, channels, stride), the input normalization and the
 * typical input size. Entries describe architectures; they never download anything, so a job
 * that names an entry still gives the ONNX file. Add an entry as pretrained/README.md explains.
 */
import { ConfigError } from '../src/errors';
import { suggestClosest } from '../src/text';
import type { DetectedArchitecture } from './detect';
import { IMAGENET, type Normalization } from './normalization';

/** One stage the architecture exposes as a tap (names as {@link detectArchitecture} gives them). */
export interface StageSpec {
  readonly name: string;
  readonly channels: number;
  /** Downsampling factor relative to the input (1 = full resolution). */
  readonly stride: number;
}

/** A registered encoder layout. */
export interface EncoderSpec {
  /** The registry key. */
  readonly name: string;
  readonly family: 'resnet' | 'vgg';
  /** One line for people: what the architecture is and where its weights usually come from. */
  readonly description: string;
  /** Conventional file name, when the project knows one (the job still gives the path). */
  readonly file?: string;
  readonly normalization: Normalization;
  /** Typical square input size in pixels (the ONNX files take any size at or above the network's minimum). */
  readonly inputSize: number;
  /** resnet: residual blocks per stage; vgg: convolutions per block. */
  readonly blocks: readonly number[];
  /** resnet only: 'basic' (two 3×3 convs) or 'bottleneck' (1×1, 3×3, 1×1). */
  readonly block?: 'basic' | 'bottleneck';
  /** vgg only: whether convs are followed by BatchNormalization (exporters usually fold it into the conv). */
  readonly batchNorm?: boolean;
  /** The stages detection finds, in graph order. */
  readonly stages: readonly StageSpec[];
}

type SpecBody = Omit<EncoderSpec, 'name'>;

function freezeSpec(name: string, body: SpecBody): EncoderSpec {
  return Object.freeze({
    name,
    ...body,
    blocks: Object.freeze([...body.blocks]),
    stages: Object.freeze(body.stages.map((s) => Object.freeze({ ...s }))),
  });
}

function defineEncoders<K extends string>(bodies: Record<K, SpecBody>): Readonly<Record<K, EncoderSpec>> {
  const out = {} as Record<K, EncoderSpec>;
  for (const name of Object.keys(bodies) as K[]) out[name] = freezeSpec(name, bodies[name]);
  return Object.freeze(out);
}

/** stem + layer1..layerN with the given channels; layer1 keeps the stem's stride, each later stage doubles it. */
function resnetStages(stemStride: number, stemChannels: number, channels: readonly number[]): StageSpec[] {
  return [
    { name: 'stem', channels: stemChannels, stride: stemStride },
    ...channels.map((c, i) => ({ name: `layer${i + 1}`, channels: c, stride: stemStride * 2 ** i })),
  ];
}

/** block1..block5 (the ReLU before each pool) and block1_pool..block5_pool. */
function vggStages(channels: readonly number[] = [64, 128, 256, 512, 512]): StageSpec[] {
  return channels.flatMap((c, i) => [
    { name: `block${i + 1}`, channels: c, stride: 2 ** i },
    { name: `block${i + 1}_pool`, channels: c, stride: 2 ** (i + 1) },
  ]);
}

const TORCHVISION = 'torchvision ImageNet weights exported to ONNX by the user';

function resnet(depth: number, block: 'basic' | 'bottleneck', blocks: number[]): SpecBody {
  const width = block === 'basic' ? 1 : 4;
  return {
    family: 'resnet',
    description: `ResNet-${depth} (${block} blocks ${blocks.join('-')}), ${TORCHVISION}`,
    normalization: IMAGENET,
    inputSize: 224,
    blocks,
    block,
    stages: resnetStages(4, 64, [64, 128, 256, 512].map((c) => c * width)),
  };
}

function vgg(depth: number, blocks: number[], batchNorm: boolean): SpecBody {
  return {
    family: 'vgg',
    description: `VGG-${depth}${batchNorm ? ' with batch norm' : ''} conv layers (convs per block ${blocks.join('-')}), ${TORCHVISION}`,
    normalization: IMAGENET,
    inputSize: 224,
    blocks,
    batchNorm,
    stages: vggStages(),
  };
}

/** Every registered encoder layout, by name. */
export const ENCODERS = defineEncoders({
  resnet20_cifar10: {
    family: 'resnet',
    description:
      'ResNet-20 for CIFAR-10 (basic blocks 3-3-3, option A shortcuts), weights of akamaster/pytorch_resnet_cifar10 (BSD-2)',
    file: 'resnet20_cifar10.onnx',
    normalization: IMAGENET,
    inputSize: 32,
    blocks: [3, 3, 3],
    block: 'basic',
    stages: resnetStages(1, 16, [16, 32, 64]),
  },
  resnet18: resnet(18, 'basic', [2, 2, 2, 2]),
  resnet34: resnet(34, 'basic', [3, 4, 6, 3]),
  resnet50: resnet(50, 'bottleneck', [3, 4, 6, 3]),
  vgg11: vgg(11, [1, 1, 2, 2, 2], false),
  vgg11_bn: vgg(11, [1, 1, 2, 2, 2], true),
  vgg13: vgg(13, [2, 2, 2, 2, 2], false),
  vgg13_bn: vgg(13, [2, 2, 2, 2, 2], true),
  vgg16: vgg(16, [2, 2, 3, 3, 3], false),
  vgg16_bn: vgg(16, [2, 2, 3, 3, 3], true),
  vgg19: vgg(19, [2, 2, 4, 4, 4], false),
  vgg19_bn: vgg(19, [2, 2, 4, 4, 4], true),
});

/** A registered encoder name. */
export type EncoderName = keyof typeof ENCODERS;

/** The registered names, in registry order. */
export const ENCODER_NAMES = Object.freeze(Object.keys(ENCODERS) as EncoderName[]);

/** Other spellings people use, mapped to registry names. */
export const ENCODER_ALIASES: Readonly<Record<string, EncoderName>> = Object.freeze({
  resnet20: 'resnet20_cifar10',
  'resnet-20': 'resnet20_cifar10',
  'resnet-18': 'resnet18',
  'resnet-34': 'resnet34',
  'resnet-50': 'resnet50',
  'vgg-11': 'vgg11',
  'vgg-13': 'vgg13',
  'vgg-16': 'vgg16',
  'vgg-19': 'vgg19',
  'vgg11-bn': 'vgg11_bn',
  'vgg13-bn': 'vgg13_bn',
  'vgg16-bn': 'vgg16_bn',
  'vgg19-bn': 'vgg19_bn',
});

/** Whether `name` is a registry name or alias. */
export function isEncoderName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(ENCODERS, name) || Object.prototype.hasOwnProperty.call(ENCODER_ALIASES, name);
}

/**
 * Looks up an encoder by registry name or alias.
 * @param where the job file and YAML path the name came from, for the error message.
 * @throws ConfigError (exit code 2) on a miss, suggesting the closest name and listing the valid ones.
 */
export function getEncoderSpec(name: string, where: { file?: string; path?: string } = {}): EncoderSpec {
  if (Object.prototype.hasOwnProperty.call(ENCODERS, name)) return ENCODERS[name as EncoderName];
  if (Object.prototype.hasOwnProperty.call(ENCODER_ALIASES, name)) return ENCODERS[ENCODER_ALIASES[name]];
  const hint = suggestClosest(name, [...ENCODER_NAMES, ...Object.keys(ENCODER_ALIASES)]);
  throw new ConfigError(
    where.file ?? 'encoder registry',
    where.path ?? 'encoder',
    `unknown encoder '${name}'` + (hint ? `; did you mean '${hint}'?` : '') + ` Valid names: ${ENCODER_NAMES.join(', ')}.`,
  );
}

/**
 * Differences between what graph detection found and what the registry expects: family and, for
 * each expected stage, presence, channels and stride. Empty when they agree. (The variant is not
 * compared: exporters fold BatchNormalization into convs, so vgg16_bn usually looks like vgg16.)
 */
export function compareWithSpec(spec: EncoderSpec, arch: DetectedArchitecture | undefined): string[] {
  if (!arch) return [`no ${spec.family} stages were detected in the graph (expected ${spec.name})`];
  if (arch.family !== spec.family) return [`detected a ${arch.variant}, but ${spec.name} is a ${spec.family}`];
  const problems: string[] = [];
  const found = new Map(arch.stages.map((s) => [s.name, s] as const));
  for (const want of spec.stages) {
    const got = found.get(want.name);
    if (!got) problems.push(`stage ${want.name} not found (detected: ${arch.stages.map((s) => s.name).join(', ')})`);
    else if (got.channels !== want.channels || got.stride !== want.stride) {
      problems.push(`stage ${want.name}: ${spec.name} has /${want.stride} ${want.channels}ch, the graph /${got.stride} ${got.channels}ch`);
    }
  }
  return problems;
}
