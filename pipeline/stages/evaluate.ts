/**
 * Stage `evaluate`: denoises the held-out test split with the trained head (on the cached
 * encoder features) and reports MSE, PSNR and SSIM of the noisy input and of the denoised
 * output against the clean images (output clipped to [0,1], peak 1, means over images),
 * plus a before/after grid (rows clean | noisy | denoised).
 */
import * as path from 'node:path';
import { initTf } from '../../src/backends/tf';
import { loadLayersModel } from '../../src/backends/tf-io';
import { writeJsonAtomic } from '../../src/io/atomic';
import { writeGrid } from '../../src/images/grid';
import { log } from '../../src/log';
import { mse } from '../../src/metrics/mse';
import { psnr } from '../../src/metrics/psnr';
import { ssim } from '../../src/metrics/ssim';
import { decoderDir, readEncoderIo, readManifest } from '../artifacts';
import { defineStage } from '../define-stage';
import { predictRows } from '../train/predict';
import { loadSplit } from './split-inputs';

export interface QualityMetrics {
  mse: number;
  psnr: number;
  ssim: number;
}

/** Mean MSE/PSNR/SSIM of `images` against `clean` ([n,H,W,C] each). */
export function meanQuality(images: Float32Array, clean: Float32Array, n: number, h: number, w: number, c: number): QualityMetrics {
  const pix = h * w * c;
  let m = 0;
  let p = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = images.subarray(i * pix, (i + 1) * pix);
    const b = clean.subarray(i * pix, (i + 1) * pix);
    m += mse(a, b);
    p += psnr(a, b);
    s += ssim(a, b, { width: w, height: h, channels: c });
  }
  return { mse: m / n, psnr: p / n, ssim: s / n };
}

export const evaluateStage = defineStage({
  name: 'evaluate',
  version: 1,
  description: 'MSE/PSNR/SSIM of noisy vs denoised on the test split, before/after grid',
  inputs: ['data', 'encoder', 'featurize', 'train'],
  configSlice: (job) => ({ evaluate: job.evaluate }),
  async run(ctx) {
    const { job } = ctx;
    const { tf } = await initTf({ device: job.device });
    const dataDir = ctx.inputs.data as string;
    const manifest = readManifest(dataDir);
    const io = readEncoderIo(ctx.inputs.encoder as string);
    const test = loadSplit(dataDir, ctx.inputs.featurize as string, manifest, io, 'test');
    const model = await loadLayersModel(tf, decoderDir(ctx.inputs.train as string));
    const { height: H, width: W, channels: C } = manifest;
    const n = test.count;
    const denoised = predictRows(tf, model, test.inputs, n, true);
    model.dispose();
    const noisy = test.inputs[test.inputs.length - 1].data;
    const clean = test.target.data;
    const metrics = {
      samples: n,
      noisy: meanQuality(noisy, clean, n, H, W, C),
      denoised: meanQuality(denoised, clean, n, H, W, C),
    };
    writeJsonAtomic(path.join(ctx.outDir, 'metrics.json'), metrics);

    const k = Math.min(job.evaluate.grid_samples, n);
    const pix = H * W * C;
    const pick = (a: Float32Array) => Array.from({ length: k }, (_, i) => a.slice(i * pix, (i + 1) * pix));
    await writeGrid(
      path.join(ctx.outDir, 'grid.png'),
      [
        { label: 'clean', images: pick(clean) },
        { label: 'noisy', images: pick(noisy) },
        { label: 'denoised', images: pick(denoised) },
      ],
      { width: W, height: H, channels: C as 1 | 3, scale: W < 64 ? 3 : 1 },
    );
    log.info(
      `Test (${n} images): noisy MSE ${metrics.noisy.mse.toFixed(4)}, PSNR ${metrics.noisy.psnr.toFixed(2)} dB, SSIM ${metrics.noisy.ssim.toFixed(3)} → ` +
        `denoised MSE ${metrics.denoised.mse.toFixed(4)}, PSNR ${metrics.denoised.psnr.toFixed(2)} dB, SSIM ${metrics.denoised.ssim.toFixed(3)}`,
    );
    return { ...metrics, grid: 'grid.png' };
  },
});
