/**
 * Stage `export`: converts the trained tfjs decoder to ONNX nodes (NCHW weights, no transposes),
 * wires it to the cut encoder — taps to decoder inputs, the raw noisy image to both — adds the
 * inference-only Clip(0,1), and writes ONE self-describing `.onnx` file: metadata_props carry
 * the layout, value range, channels, noise, encoder source/taps, job and onnxtune version.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initTf } from '../../src/backends/tf';
import { loadLayersModel } from '../../src/backends/tf-io';
import type { JobConfig } from '../../src/config/schema';
import { canonicalJson, sha256 } from '../../src/io/hash';
import { log } from '../../src/log';
import { assertModelValid } from '../../src/onnx/check';
import { mergeModels } from '../../src/onnx/compose';
import { modelInfo } from '../../src/onnx/info';
import { setMetadata } from '../../src/onnx/metadata';
import { loadModel, saveModel } from '../../src/onnx/model-io';
import { AttributeType, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import { floatTensor, int64Tensor } from '../../src/onnx/tensor';
import { ONNXTUNE_VERSION } from '../../src/version';
import { tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { decoderDir, encoderModelFile, exportedModelFile, readEncoderIo, readManifest, type EncoderIo } from '../artifacts';
import { defineStage } from '../define-stage';
import { exportInt8 } from './export-quantize';
import { IMAGE_INPUT, tapInputName } from '../train/decoder';

export const EXPORT_INPUT = 'noisy';
export const EXPORT_OUTPUT = 'denoised';

/** The metadata_props written into every exported model (read back by denoise/eval/web). */
export function exportMetadata(job: JobConfig, io: EncoderIo, channels: number): Record<string, string> {
  return {
    'onnxtune.version': ONNXTUNE_VERSION,
    'onnxtune.task': 'denoise',
    'onnxtune.input': EXPORT_INPUT,
    'onnxtune.output': EXPORT_OUTPUT,
    'onnxtune.layout': 'NCHW',
    'onnxtune.channels': String(channels),
    'onnxtune.value_range': '[0,1]',
    'onnxtune.noise': JSON.stringify(job.data.source === 'pairs' ? { type: 'real', pairs: path.basename(job.data.dir) } : job.data.noise),
    'onnxtune.decoder_output': job.decoder.output,
    'onnxtune.encoder.source': path.basename(io.source.file),
    'onnxtune.encoder.sha256': io.source.sha256,
    'onnxtune.encoder.taps': JSON.stringify(io.taps.map((t) => ({ name: t.name, channels: t.channels, stride: t.stride }))),
    'onnxtune.stride_multiple': String(io.strideMultiple),
    'onnxtune.job': job.name,
    'onnxtune.job_sha256': sha256(canonicalJson(job)).slice(0, 16),
  };
}

/**
 * Combines encoder and decoder ONNX graphs into one denoiser taking `noisy` [N,C,H,W] and
 * returning `denoised` [N,C,H,W] for any H, W: the input is reflect-padded to a multiple of the
 * deepest stride (so skip connections align) and the output cropped back, then clipped to [0,1].
 */
export function combine(encoder: ModelProto, decoder: ModelProto, io: EncoderIo, opset: number): ModelProto {
  const decoderOut = decoder.graph?.output?.[0]?.name as string;
  // A head may read only some taps (and not the image): wire the inputs it has.
  const decoderInputs = new Set((decoder.graph?.input ?? []).map((i) => i.name));
  const merged = mergeModels(encoder, decoder, {
    connect: io.taps.map((t, i) => [t.name, tapInputName(i)] as [string, string]).filter(([, d]) => decoderInputs.has(d)),
    shareInputs: decoderInputs.has(IMAGE_INPUT) ? [[io.input, IMAGE_INPUT]] : [],
    outputs: [`decoder/${decoderOut}`],
    prefixA: 'encoder/',
    prefixB: 'decoder/',
    opset,
  });
  const g = merged.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const oldIn = g.input!.find((i) => !inits.has(i.name))!.name as string;
  g.input!.find((i) => i.name === oldIn)!.name = EXPORT_INPUT;
  const S = io.strideMultiple;
  const padded = S > 1 ? 'export/padded' : EXPORT_INPUT;
  for (const node of g.node ?? []) node.input = (node.input ?? []).map((x) => (x === oldIn ? padded : x));

  const pre: NodeProto[] = [];
  let last = `decoder/${decoderOut}`;
  const post: NodeProto[] = [];
  if (S > 1) {
    g.initializer!.push(
      int64Tensor('export/hw_start', [1], [2]),
      int64Tensor('export/hw_end', [1], [4]),
      int64Tensor('export/stride', [2], [S, S]),
      int64Tensor('export/zero_pads', [6], [0, 0, 0, 0, 0, 0]),
      int64Tensor('export/crop_start', [2], [0, 0]),
      int64Tensor('export/crop_axes', [2], [2, 3]),
    );
    const node = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []): NodeProto =>
      ({ opType, input, output: [output], name: output, attribute });
    pre.push(
      node('Shape', [EXPORT_INPUT], 'export/shape'),
      node('Slice', ['export/shape', 'export/hw_start', 'export/hw_end'], 'export/hw'),
      node('Mod', ['export/hw', 'export/stride'], 'export/rem'),
      node('Sub', ['export/stride', 'export/rem'], 'export/gap'),
      node('Mod', ['export/gap', 'export/stride'], 'export/pad_hw'),
      node('Concat', ['export/zero_pads', 'export/pad_hw'], 'export/pads', [{ name: 'axis', type: AttributeType.INT, i: 0 }]),
      node('Pad', [EXPORT_INPUT, 'export/pads'], 'export/padded', [{ name: 'mode', type: AttributeType.STRING, s: Buffer.from('reflect') }]),
    );
    post.push(node('Slice', [last, 'export/crop_start', 'export/hw', 'export/crop_axes'], 'export/cropped'));
    last = 'export/cropped';
  }
  // Clip at inference only: during training a clip would kill gradients at the bounds.
  g.initializer!.push(floatTensor('export/clip_min', [], new Float32Array([0])), floatTensor('export/clip_max', [], new Float32Array([1])));
  post.push({ opType: 'Clip', input: [last, 'export/clip_min', 'export/clip_max'], output: [EXPORT_OUTPUT], name: 'export/clip' });
  g.node = [...pre, ...(g.node ?? []), ...post];
  g.output![0].name = EXPORT_OUTPUT;
  return merged;
}

export const exportStage = defineStage({
  name: 'export',
  version: 1,
  description: 'convert the decoder to ONNX and combine it with the encoder into one model',
  inputs: ['data', 'encoder', 'train'],
  configSlice: (job) => ({ export: job.export }),
  async run(ctx) {
    const { job } = ctx;
    const { tf } = await initTf({ device: job.device });
    const manifest = readManifest(ctx.inputs.data as string);
    const encDir = ctx.inputs.encoder as string;
    const io = readEncoderIo(encDir);
    const encoder = loadModel(encoderModelFile(encDir));
    const tfDecoder = await loadLayersModel(tf, decoderDir(ctx.inputs.train as string));
    const decoder = tfjsToOnnx(tfDecoder, { opset: job.export.opset });
    tfDecoder.dispose();
    const model = combine(encoder, decoder, io, job.export.opset);
    setMetadata(model, exportMetadata(job, io, manifest.channels));
    assertModelValid(model, job.export.file);
    const file = exportedModelFile(ctx.outDir, job.export.file);
    saveModel(model, file);
    const info = modelInfo(model);
    const bytes = fs.statSync(file).size;
    log.info(`Exported ${job.export.file}: ${info.nodeCount} nodes, ${info.parameterCount} parameters, ${(bytes / 1024).toFixed(0)} KiB, opset ${job.export.opset}`);
    const int8 = job.export.quantize === 'int8' ? await exportInt8(model, job, ctx.inputs.data as string, manifest, EXPORT_INPUT, ctx.outDir) : undefined;
    return { file: job.export.file, bytes, nodes: info.nodeCount, parameters: info.parameterCount, opCounts: info.opCounts, ...(int8 ? { int8 } : {}) };
  },
});
