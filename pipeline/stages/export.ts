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
import { modelInfo } from '../../src/onnx/info';
import { setMetadata } from '../../src/onnx/metadata';
import { loadModel, saveModel } from '../../src/onnx/model-io';
import { ONNXTUNE_VERSION } from '../../src/version-number';
import { tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { activeEncoderFile, decoderDir, exportedModelFile, readEncoderIo, readManifest, type EncoderIo } from '../artifacts';
import { defineStage } from '../define-stage';
import { combine, EXPORT_INPUT, EXPORT_OUTPUT } from '../export-model';
import { exportInt8 } from './export-quantize';

export { combine, EXPORT_INPUT, EXPORT_OUTPUT } from '../export-model';

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
    ...(io.finetune ? { 'onnxtune.encoder.finetuned_stages': JSON.stringify(io.finetune.stages) } : {}),
    'onnxtune.job': job.name,
    'onnxtune.job_sha256': sha256(canonicalJson(job)).slice(0, 16),
  };
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
    // With encoder.trainable, the train stage wrote the encoder with the fine-tuned weights.
    const encoder = loadModel(activeEncoderFile(encDir, ctx.inputs.train));
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
