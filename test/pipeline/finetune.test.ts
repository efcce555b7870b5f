/**
 * Fine-tuning an exported model's head (pipeline/finetune), the runtime-free core the page's
 * worker and the CLI share, checked against onnxruntime-node: the split head reproduces the
 * combined model, seeded steps lower the loss, and the re-exported ONE model equals the trained
 * head and beats the starting model on the fine-tuning patches.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runJob } from '../../pipeline/runner';
import { splitDenoiser } from '../../pipeline/finetune/split';
import {
  buildHeadData, cutPatches, exportFinetuned, headToTfjs, HeadTrainer, type EncoderCall, type HeadData,
} from '../../pipeline/finetune/finetune';
import type { Tf } from '../../src/backends/tf';
import { createSession, type OrtSession } from '../../src/backends/ort';
import { registerCpuTrainingKernels } from '../../src/backends/wasm-kernels';
import { InputError } from '../../src/errors';
import { getMetadata } from '../../src/onnx/metadata';
import { decodeModel, encodeModel, loadModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { addGaussianNoise } from '../../src/noise/gaussian';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { quietCpu } from '../helpers/tf-cpu';
import { tinyDenoiser } from '../helpers/web';

const tfm = tf as unknown as Tf;

/** Smooth test images with structure (not MNIST digits: the model has to adapt). */
function images(n: number, size: number) {
  return Array.from({ length: n }, (_, k) => {
    const data = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = 0.5 + 0.4 * Math.sin((x + 3 * k) / 3) * Math.cos(y / 4);
    return { data, channels: 1, height: size, width: size };
  });
}

/** Mean squared error of the clipped model output against the clean patches, in onnxruntime-node. */
async function ortMse(session: OrtSession, noisy: Float32Array, clean: Float32Array, n: number, size: number): Promise<number> {
  const out = (await session.run({ noisy: { data: noisy, dims: [n, 1, size, size] } })).denoised.data;
  let s = 0;
  for (let i = 0; i < out.length; i++) s += (out[i] - clean[i]) ** 2;
  return s / out.length;
}

/** The head's clipped prediction on the first `n` rows of `data`. */
function headPredict(head: tf.LayersModel, data: HeadData, n: number): Float32Array {
  return tf.tidy(() => {
    const xs = data.inputs.map((a) => tf.tensor4d(a.data.subarray(0, n * a.shape[0] * a.shape[1] * a.shape[2]), [n, ...a.shape]));
    return (head.predict(xs) as tf.Tensor).clipByValue(0, 1).dataSync() as Float32Array;
  });
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('fine-tuning an exported model (pipeline/finetune)', () => {
  let base: ModelProto;
  const sessions: OrtSession[] = [];
  const session = async (m: ModelProto) => {
    const s = await createSession(encodeModel(m), { device: 'cpu' });
    sessions.push(s);
    return s;
  };

  beforeAll(async () => {
    await quietCpu();
    registerCpuTrainingKernels(tfm);
    const dir = tmpDir('onnxtune-finetune-');
    const run = await runJob({ jobFile: writeJob(dir, quickJob({ name: 'ft-base' })), outDir: path.join(dir, 'run'), until: 'export' });
    base = loadModel(path.join(run.runDir, 'export', run.job.export.file));
  }, 120_000);

  afterAll(async () => {
    for (const s of sessions) await s.release();
  });

  it('refuses a model without onnxtune export structure, saying why', () => {
    expect(() => splitDenoiser(loadModelBytes(tinyDenoiser()), 'tiny.onnx')).toThrow(InputError);
  });

  it('head + encoder reproduce the model; seeded steps lower the loss; the ONE exported model equals the trained head', async () => {
    const split = splitDenoiser(base);
    expect(split.io.taps.map((t) => t.name)).toEqual(['stage1', 'stage2']);
    const { model: head, inputNames: names } = headToTfjs(tfm, split);
    expect(names).toEqual(expect.arrayContaining(['tap0', 'tap1', 'image']));
    const enc = await session(split.encoder);
    const encode: EncoderCall = async (image, dims) => {
      const out = await enc.run({ image: { data: image, dims } });
      return split.io.taps.map((t) => out[t.name]);
    };
    const imgs = images(3, 32);
    const patches = cutPatches(imgs, imgs.map((im, k) => addGaussianNoise(im.data, 50, k, false)), 16);
    expect(patches.count).toBe(12);
    const data = await buildHeadData(patches, names, encode);
    const px = 16 * 16;

    // The split head (tfjs) gives the combined model's output (onnxruntime) before any training.
    const full = await session(base);
    const ref = (await full.run({ noisy: { data: patches.noisy.subarray(0, 2 * px), dims: [2, 1, 16, 16] } })).denoised.data;
    expect(maxAbs(headPredict(head, data, 2), ref)).toBeLessThan(1e-4);

    const trainer = new HeadTrainer(tfm, head, data, { seed: 3, batchSize: 4, lr: 1e-3 });
    const before = await trainer.evaluate();
    const losses: number[] = [];
    for (let s = 0; s < 24; s++) losses.push(await trainer.step());
    const after = await trainer.evaluate();
    trainer.dispose();
    expect(after).toBeLessThan(before * 0.8);

    const tuned = exportFinetuned(split, { model: head, inputNames: names }, {
      base: 'ft-base.onnx', steps: 24, images: 3, patches: patches.count, noise: 'gaussian σ=50', seed: 3, lr: 1e-3, batchSize: 4, runtime: 'test/cpu',
    });
    const meta = getMetadata(tuned);
    expect(JSON.parse(meta['onnxtune.finetune'])).toMatchObject({ steps: 24, images: 3, base: 'ft-base.onnx' });
    expect(meta['onnxtune.encoder.taps']).toBe(split.metadata['onnxtune.encoder.taps']);
    const tunedSession = await session(loadModelBytes(encodeModel(tuned)));
    // (a) the exported model runs the trained head: same output as tfjs within 1e-4.
    const out = (await tunedSession.run({ noisy: { data: patches.noisy.subarray(0, 2 * px), dims: [2, 1, 16, 16] } })).denoised.data;
    expect(maxAbs(headPredict(head, data, 2), out)).toBeLessThan(1e-4);
    // (b) lower loss than the starting model on the fine-tuning patches, in onnxruntime.
    const n = patches.count;
    expect(await ortMse(tunedSession, patches.noisy, patches.clean, n, 16)).toBeLessThan(await ortMse(full, patches.noisy, patches.clean, n, 16));
    // Any input size still runs (the export's padding and crop are back in place).
    const odd = (await tunedSession.run({ noisy: { data: new Float32Array(1 * 1 * 18 * 21).fill(0.5), dims: [1, 1, 18, 21] } })).denoised;
    expect(odd.dims).toEqual([1, 1, 18, 21]);

    // Seeded: the same seed replays the same losses.
    const again = new HeadTrainer(tfm, headToTfjs(tfm, split).model, data, { seed: 3, batchSize: 4, lr: 1e-3 });
    const replay: number[] = [];
    for (let s = 0; s < 3; s++) replay.push(await again.step());
    again.dispose();
    expect(replay).toEqual(losses.slice(0, 3));
  }, 120_000);
});

const loadModelBytes = (bytes: Uint8Array): ModelProto => decodeModel(bytes, 'model');
