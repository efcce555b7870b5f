/**
 * Stage `verify`: loads the exported model in a fresh onnxruntime session and compares it with
 * the two-part pipeline (onnxruntime encoder + tfjs decoder, clipped) on the same test batch.
 * Fails with ParityError when the max abs difference exceeds verify.tolerance.
 */
import * as path from 'node:path';
import { createSession } from '../../src/backends/ort';
import { initTf } from '../../src/backends/tf';
import { loadLayersModel } from '../../src/backends/tf-io';
import { InputError, ParityError } from '../../src/errors';
import { writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { checkModel } from '../../src/onnx/check';
import { loadModel } from '../../src/onnx/model-io';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import {
  dataFiles, decoderDir, encoderModelFile, exportedModelFile, readArray, readEncoderIo, readManifest,
} from '../artifacts';
import { defineStage } from '../define-stage';
import { predictRows } from '../train/predict';
import { encodeImages } from './featurize';
import { EXPORT_INPUT, EXPORT_OUTPUT } from './export';

export const verifyStage = defineStage({
  name: 'verify',
  version: 1,
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

    const { height: H, width: W, channels: C } = manifest;
    const noisyAll = readArray(dataFiles(dataDir, 'test').noisy);
    const n = Math.min(job.verify.samples, noisyAll.dims[0]);
    const noisy = noisyAll.data.slice(0, n * H * W * C);

    const combined = await createSession(file, { device: job.device });
    const single = await combined.run({ [EXPORT_INPUT]: { data: nhwcToNchw(noisy, n, H, W, C), dims: [n, C, H, W] } });
    await combined.release();
    const fromCombined = nchwToNhwc(single[EXPORT_OUTPUT].data, n, C, H, W);

    const encoder = await createSession(encoderModelFile(encDir), { device: job.device });
    const taps = await encodeImages(encoder, io, noisy, n, manifest);
    await encoder.release();
    const decoder = await loadLayersModel(tf, decoderDir(ctx.inputs.train as string));
    const inputs = [
      ...io.taps.map((t, k) => ({ data: taps[k], shape: [t.height, t.width, t.channels] as [number, number, number] })),
      { data: noisy, shape: [H, W, C] as [number, number, number] },
    ];
    const fromParts = predictRows(tf, decoder, inputs, n, true);
    decoder.dispose();

    let maxAbs = 0;
    for (let i = 0; i < fromParts.length; i++) maxAbs = Math.max(maxAbs, Math.abs(fromParts[i] - fromCombined[i]));
    const report = { samples: n, maxAbsDiff: maxAbs, tolerance: job.verify.tolerance, ep: combined.ep, passed: maxAbs <= job.verify.tolerance };
    writeJsonAtomic(path.join(ctx.outDir, 'parity.json'), report);
    if (!report.passed) throw new ParityError('max abs difference (combined ONNX vs encoder + tfjs decoder)', maxAbs, job.verify.tolerance);
    log.info(`Parity: combined ONNX vs ORT encoder + tfjs decoder on ${n} test images: max abs diff ${maxAbs.toExponential(2)} (tolerance ${job.verify.tolerance})`);
    return report;
  },
});
