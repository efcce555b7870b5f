/**
 * Decoder heads: the U-Net head (every tap + the image) and the plain upsampling head (deepest
 * tap only) with configurable widths and depth (per level), the image at every level, direct or
 * residual output; and whole jobs with other heads that export and verify like the default one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { runJob } from '../../pipeline/runner';
import { buildDecoder, DECODERS } from '../../pipeline/train/decoder';
import { initTf, type Tf } from '../../src/backends/tf';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});

const taps = [{ channels: 8, stride: 2 }, { channels: 16, stride: 4 }];
const convs = (m: TfModule.LayersModel) => m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
const ups = (m: TfModule.LayersModel) => m.layers.filter((l) => l.getClassName() === 'UpSampling2D').length;

function run(m: TfModule.LayersModel, h: number, w: number): TfModule.Tensor {
  const xs = [tf.randomUniform([2, h / 2, w / 2, 8], 0, 1, 'float32', 1), tf.randomUniform([2, h / 4, w / 4, 16], 0, 1, 'float32', 2), tf.randomUniform([2, h, w, 1], 0, 1, 'float32', 3)];
  return m.predict(xs) as TfModule.Tensor;
}

describe('decoder heads', () => {
  it('lists every head type', () => {
    expect(Object.keys(DECODERS)).toEqual(['unet', 'plain']);
  });

  it('unet: one level per tap stride plus full resolution, convs_per_level convs each', () => {
    const m = buildDecoder(tf, taps, 1, { type: 'unet', widths: [12, 6, 4], convs_per_level: 2 }, 1);
    expect(convs(m)).toEqual(['conv0', 'conv0_1', 'conv1', 'conv1_1', 'conv2', 'conv2_1', 'head']);
    expect(ups(m)).toBe(2);
    expect(m.inputLayers.map((l) => l.name)).toEqual(['tap0', 'tap1', 'image']);
    expect(run(m, 16, 12).shape).toEqual([2, 16, 12, 1]);
    expect(m.getLayer('conv0').getWeights()[0].shape).toEqual([3, 3, 16, 12]); // the stride-4 tap starts
    expect(m.getLayer('conv1').getWeights()[0].shape).toEqual([3, 3, 12 + 8, 6]); // + the stride-2 tap
    expect(m.getLayer('conv2').getWeights()[0].shape).toEqual([3, 3, 6 + 1, 4]); // + the image
  });

  it('unet: per-level conv counts and the image at every level through a stride-s patch embedding', () => {
    const m = buildDecoder(tf, taps, 1, { type: 'unet', widths: [12, 6, 4], convs_per_level: [3, 1, 2], image_skip: 'every_level' }, 1);
    expect(convs(m)).toEqual(['image0', 'conv0', 'conv0_1', 'conv0_2', 'image1', 'conv1', 'conv2', 'conv2_1', 'head']);
    expect(m.getLayer('image0').getWeights()[0].shape).toEqual([4, 4, 1, 16]); // a 4×4 cell → 16 channels
    expect(m.getLayer('image1').getWeights()[0].shape).toEqual([2, 2, 1, 4]);
    expect(m.getLayer('conv0').getWeights()[0].shape).toEqual([3, 3, 16 + 16, 12]);
    expect(m.getLayer('conv1').getWeights()[0].shape).toEqual([3, 3, 12 + 8 + 4, 6]);
    expect(m.getLayer('conv2').getWeights()[0].shape).toEqual([3, 3, 6 + 1, 4]);
    expect(run(m, 16, 12).shape).toEqual([2, 16, 12, 1]);
  });

  it('the image embedding can carry every pixel of its cell (a space-to-depth is one of its weights)', () => {
    const m = buildDecoder(tf, taps, 1, { type: 'unet', widths: [4], image_skip: 'every_level' }, 1);
    const embed = m.getLayer('image1');
    const [, bias] = embed.getWeights();
    const kernel = tf.buffer([2, 2, 1, 4]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) kernel.set(1, i, j, 0, i * 2 + j);
    embed.setWeights([kernel.toTensor(), tf.zerosLike(bias)]);
    const image = tf.randomUniform([1, 4, 6, 1], 0, 1, 'float32', 5);
    const out = embed.apply(image) as TfModule.Tensor;
    const expected = tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(image, [1, 2, 2, 3, 2, 1]), [0, 1, 3, 2, 4, 5]), [1, 2, 3, 4]));
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected.dataSync()));
  });

  it('plain: upsamples the deepest tap ×2 per level with no skips', () => {
    const m = buildDecoder(tf, taps, 1, { type: 'plain', widths: [10, 5] }, 1);
    expect(convs(m)).toEqual(['conv0', 'conv1', 'conv2', 'head']);
    expect(ups(m)).toBe(2);
    expect(m.getLayer('conv0').getWeights()[0].shape).toEqual([3, 3, 16, 10]);
    expect(m.getLayer('conv1').getWeights()[0].shape).toEqual([3, 3, 10, 5]);
    expect(m.getLayer('conv2').getWeights()[0].shape).toEqual([3, 3, 5, 5]); // widths repeat their last value
    expect(m.inputLayers.map((l) => l.name)).toEqual(['tap0', 'tap1', 'image']); // same inputs as every head
    expect(run(m, 8, 8).shape).toEqual([2, 8, 8, 1]);
  });

  it('the same seed gives the same weights, seed 0 included (tfjs reads a seed of 0 as none)', () => {
    const weights = (seed: number) => buildDecoder(tf, taps, 1, { image_skip: 'every_level' }, seed).getWeights().map((w) => Array.from(w.dataSync()));
    expect(weights(0)).toEqual(weights(0));
    expect(weights(3)).toEqual(weights(3));
    expect(weights(0)).not.toEqual(weights(3));
  });

  it('residual output starts as the identity (the head predicts zero noise)', async () => {
    for (const type of ['unet', 'plain'] as const) {
      const m = buildDecoder(tf, taps, 1, { type, output: 'residual' }, 2);
      const image = tf.randomUniform([1, 8, 8, 1], 0, 1, 'float32', 9);
      const y = m.predict([tf.zeros([1, 4, 4, 8]), tf.zeros([1, 2, 2, 16]), image]) as TfModule.Tensor;
      expect(Array.from(y.dataSync())).toEqual(Array.from(image.dataSync()));
    }
  });
});

describe('a job with another head', () => {
  it.each([
    ['a plain residual head', { type: 'plain', widths: [8, 8], convs_per_level: 2, output: 'residual' }],
    ['a unet head with the image at every level', { type: 'unet', widths: [8, 8, 4], convs_per_level: [2, 1], image_skip: 'every_level', output: 'residual' }],
  ])('%s trains, exports one ONNX model and verifies it', async (_name, decoder) => {
    const dir = tmpDir();
    const jobFile = writeJob(dir, quickJob({ decoder }));
    const r = await runJob({ jobFile, outDir: path.join(dir, 'run') });
    const parity = JSON.parse(fs.readFileSync(path.join(r.runDir, 'verify', 'parity.json'), 'utf8'));
    expect(parity.passed).toBe(true);
    const metrics = JSON.parse(fs.readFileSync(path.join(r.runDir, 'evaluate', 'metrics.json'), 'utf8'));
    expect(metrics.denoised.mse).toBeLessThan(metrics.noisy.mse);
  });
});
