/** `onnxtune inspect <model.onnx>`: inputs/outputs, opsets, parameters, ops, metadata and tensor names. */
import type { Argv, CommandModule } from 'yargs';
import { modelInfo } from '../../onnx/info';
import { loadModel } from '../../onnx/model-io';
import { producedTensors } from '../../../pipeline/preflight';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';

interface InspectArgs extends GlobalArgs {
  model: string;
  tensors?: boolean;
}

const dims = (d: Array<number | string>) => `[${d.join(', ')}]`;

export const inspectCommand: CommandModule<GlobalArgs, InspectArgs> = {
  command: 'inspect <model>',
  describe: 'Summarize an ONNX model: inputs/outputs, opset, parameter and node counts by op, metadata; --tensors lists tap candidates',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'an .onnx file' })
      .option('tensors', { type: 'boolean', default: false, describe: 'list every tensor a node computes (names to use as encoder.taps)' })
      .example('$0 inspect pretrained/mnist-conv-ae/encoder.onnx --tensors', 'find tap names') as Argv<InspectArgs>,
  handler: (args) => {
    const model = loadModel(args.model);
    const info = modelInfo(model);
    const lines = [
      `${args.model}`,
      `  ir_version ${info.irVersion}, opsets ${info.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}, producer ${info.producer || '-'}`,
      `  ${info.parameterCount.toLocaleString('en')} parameters, ${info.nodeCount} nodes`,
      '',
      table(['input', 'shape'], info.inputs.map((i) => [i.name, dims(i.dims)])),
      '',
      table(['output', 'shape'], info.outputs.map((o) => [o.name, dims(o.dims)])),
      '',
      table(['op', 'count'], Object.entries(info.opCounts).sort((a, b) => b[1] - a[1])),
    ];
    const meta = Object.entries(info.metadata);
    if (meta.length) lines.push('', table(['metadata', 'value'], meta));
    const tensors = args.tensors ? producedTensors(model) : undefined;
    if (tensors) lines.push('', 'tensors:', ...tensors.map((t) => `  ${t}`));
    printResult(lines.join('\n'), { ...info, tensors });
  },
};
