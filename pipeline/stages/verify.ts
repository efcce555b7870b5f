/**
 * Stage `verify`: loads the exported model in a fresh onnxruntime session, checks its graph
 * structurally, and compares it with the two-part pipeline (onnxruntime encoder + tfjs decoder,
 * with the same reflect padding, crop and clip done outside the graph) on test images.
 * Fails with ParityError when the max abs difference exceeds verify.tolerance.
 */
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { createSession, type OrtSession } from '../../src/backends/ort';
import { initTf, type Tf } from '../../src/backends/tf';
import { loadLayersModel } from '../../src/backends/tf-io';
import { InputError, ParityError } from '../../src/errors';
import { writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { checkModel } from '../../src/onnx/check';
import { loadModel } from '../../src/onnx/model-io';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import { cropNhwc } from '../../src/tensor/pad';
import {
  activeEncoderFile, dataFiles, decoderDir, exportedModelFile, readArray, readEncoderIo, readManifest, type EncoderIo,
} from '../artifacts';
import { defineStage } from '../define-stage';
import { predictRows } from '../train/predict';
import { encodeImages, padForEncoder } from './featurize';
import { EXPORT_INPUT, EXPORT_OUTPUT } from './export';

/**
 * The two-part pipeline the exported model must reproduce: reflect-pad NHWC images to the stride
 * multiple, run the encoder (onnxruntime), the tfjs decoder, clip, and crop back to H×W.
 */
export async function denoiseTwoPart(
  tf: Tf, encoder: OrtSession, decoder: TfModule.LayersModel, io: EncoderIo, noisy: Float32Array, n: number, H: number, W: number, C: number,
): Promise<Float32Array> {
  const padded = padForEncoder(io, noisy, n, H, W, C);
  const taps = await encodeImages(encoder, io, padded);
  const inputs = [...taps, { data: padded.data, shape: [padded.height, padded.width, C] as [number, number, number] }];
  return cropNhwc(predictRows(tf, decoder, inputs, n, true), n, padded.height, padded.width, C, H, W);
}

export const verifyStage = defineStage({
  name: 'verify',
  version: 2,
  description: 'parity of the exported model (onnxruntime) with onnxruntime encoder + tfjs decoder',
  inputs: ['data', 'encoder', 'train', 'export'],
  configSlice: (job) => ({ verify: job.verify, file: job.export.file }),
  async run(ctx) {
    const { job } = ctx;
    const { tf } = await initTf({ device: job.device });
    const dataDir = ctx.inputs.data as string;
    const encDir = ctx.inputs.encoder as string;
    const manifest = readManifest(dataDir);
    const io = readEncoderIo(encDir);
    const file = exportedModelFile(ctx.inputs.export as string, job.export.file);
    const problems = checkModel(loadModel(file));
    if (problems.length) throw new InputError(file, `exported graph fails the structural check: ${problems.join('; ')}`);

    const combined = await createSession(file, { device: job.device });
    // The two-part reference runs the fine-tuned encoder when stages were fine-tuned (its taps match the TF.js layers: train checks it).
    const encoder = await createSession(activeEncoderFile(encDir, ctx.inputs.train), { device: job.device });
    const decoder = await loadLayersModel(tf, decoderDir(ctx.inputs.train as string));
    const C = manifest.channels;
    let compared = 0;
    let maxAbs = 0;
    const sizes = new Set<string>();
    try {
      for (const group of manifest.splits.test) {
        if (compared >= job.verify.samples) break;
        const { height: H, width: W } = group;
        const n = Math.min(group.count, job.verify.samples - compared);
        const noisy = readArray(dataFiles(dataDir, 'test', group.id).noisy).data.slice(0, n * H * W * C);

        const single = await combined.run({ [EXPORT_INPUT]: { data: nhwcToNchw(noisy, n, H, W, C), dims: [n, C, H, W] } });
        const fromCombined = nchwToNhwc(single[EXPORT_OUTPUT].data, n, C, H, W);

        const fromParts = await denoiseTwoPart(tf, encoder, decoder, io, noisy, n, H, W, C);
        for (let i = 0; i < fromParts.length; i++) maxAbs = Math.max(maxAbs, Math.abs(fromParts[i] - fromCombined[i]));
        compared += n;
        sizes.add(`${W}×${H}`);
      }
    } finally {
      decoder.dispose();
      await combined.release();
      await encoder.release();
    }
    const report = {
      samples: compared, sizes: [...sizes], maxAbsDiff: maxAbs, tolerance: job.verify.tolerance, ep: combined.ep,
      passed: maxAbs <= job.verify.tolerance,
    };
    writeJsonAtomic(path.join(ctx.outDir, 'parity.json'), report);
    if (!report.passed) throw new ParityError('max abs difference (combined ONNX vs encoder + tfjs decoder)', maxAbs, job.verify.tolerance);
    log.info(
      `Parity: combined ONNX vs ORT encoder + tfjs decoder on ${compared} test images (${[...sizes].join(', ')}): ` +
        `max abs diff ${maxAbs.toExponential(2)} (tolerance ${job.verify.tolerance})`,
    );
    return report;
  },
});
