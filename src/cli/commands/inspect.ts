/**
 * `onnxtune inspect <model.onnx>`: inputs/outputs, opsets, parameters, weights by source
 * (initializers, Constant/ConstantOfShape/DequantizeLinear nodes…), ops, metadata, the detected
 * architecture with the tensor of each stage (tap), the `taps: auto` choice, and tensor names.
 */
import type { Argv, CommandModule } from 'yargs';
import { summarizeWeights, type WeightSummary } from '../../onnx/constants';
import { modelInfo } from '../../onnx/info';
import { loadModel } from '../../onnx/model-io';
import { producedTensors } from '../../../pipeline/preflight';
import { autoTaps, type AutoTap } from '../../../pretrained/auto-taps';
import { describeArchitecture, detectArchitecture, type DetectedArchitecture } from '../../../pretrained/detect';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';

interface InspectArgs extends GlobalArgs {
  model: string;
  tensors?: boolean;
}

const dims = (d: Array<number | string>) => `[${d.join(', ')}]`;

/** The architecture section of `inspect`: variant, one-line stage summary, and a stage → tensor table. */
export function formatArchitecture(arch: DetectedArchitecture | undefined): string[] {
  if (!arch) return ["architecture: no named stages detected (taps must be tensor names or 'auto'; see --tensors)"];
  const match = arch.registryMatch ? `, matches registry entry ${arch.registryMatch}` : '';
  return [
    `architecture: ${arch.variant}, input '${arch.input}'${match}`,
    `  ${describeArchitecture(arch)}`,
    '',
    table(['stage', 'stride', 'channels', 'tensor'], arch.stages.map((s) => [s.name, `/${s.stride}`, s.channels, s.tensor])),
  ];
}

/** The `taps: auto` section: stride, channels and tensor of the last main-path tensor at each stride. */
export function formatAutoTaps(taps: readonly AutoTap[]): string[] {
  if (!taps.length) return ["taps: auto finds no convolutional feature map on the main path"];
  return ['taps: auto', table(['stride', 'channels', 'tensor'], taps.map((t) => [`/${t.stride}`, t.channels, t.tensor]))];
}

/** `weights: 11,689,512 elements in 102 constants (initializer 62, DequantizeLinear 40)`: where the weights live. */
export function describeWeights(w: WeightSummary): string {
  const parts = Object.entries(w.bySource).sort((a, b) => b[1].elements - a[1].elements).map(([k, v]) => `${k} ${v.tensors}`);
  return `weights: ${w.elements.toLocaleString('en')} elements in ${w.tensors} constants${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export const inspectCommand: CommandModule<GlobalArgs, InspectArgs> = {
  command: 'inspect <model>',
  describe:
    'Summarize an ONNX model: inputs/outputs, opset, parameter and node counts by op, metadata, ' +
    'detected stages (tap names) and the taps: auto choice; --tensors lists every tensor',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'an .onnx file' })
      .option('tensors', { type: 'boolean', default: false, describe: 'list every tensor a node computes (names to use as encoder.taps)' })
      .example('$0 inspect pretrained/mnist-conv-ae/encoder.onnx --tensors', 'find tap names') as Argv<InspectArgs>,
  handler: (args) => {
    const model = loadModel(args.model);
    const info = modelInfo(model);
    const weights = summarizeWeights(model);
    const lines = [
      `${args.model}`,
      `  ir_version ${info.irVersion}, opsets ${info.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}, producer ${info.producer || '-'}`,
      `  ${info.parameterCount.toLocaleString('en')} parameters, ${info.nodeCount} nodes`,
      `  ${describeWeights(weights)}`,
      '',
      table(['input', 'shape'], info.inputs.map((i) => [i.name, dims(i.dims)])),
      '',
      table(['output', 'shape'], info.outputs.map((o) => [o.name, dims(o.dims)])),
      '',
      table(['op', 'count'], Object.entries(info.opCounts).sort((a, b) => b[1] - a[1])),
    ];
    const meta = Object.entries(info.metadata);
    if (meta.length) lines.push('', table(['metadata', 'value'], meta));
    const architecture = detectArchitecture(model);
    lines.push('', ...formatArchitecture(architecture));
    const auto = autoTaps(model);
    lines.push('', ...formatAutoTaps(auto));
    const tensors = args.tensors ? producedTensors(model) : undefined;
    if (tensors) lines.push('', 'tensors:', ...tensors.map((t) => `  ${t}`));
    printResult(lines.join('\n'), { ...info, weights, architecture: architecture ?? null, autoTaps: auto, tensors });
  },
};
