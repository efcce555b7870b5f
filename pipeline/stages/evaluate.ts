/**
 * Stage `evaluate`: denoises the held-out test images with the trained head (on the cached
 * encoder features; with fine-tuned stages, on the taps of the train stage's fine-tuned encoder) and reports MSE, PSNR and SSIM of the noisy input and of the denoised
 * output against the clean images (output clipped to [0,1], peak 1, whole image, means over
 * images), per image and on average, plus a before/after grid (rows clean | noisy | denoised,
 * PSNR under each tile), the test scalars and grid in TensorBoard (`<run>/tensorboard/evaluate/`)
 * and `report.html` (curves, metrics, grids). A run whose output is (nearly) its input is marked
 * `learnedNothing` in metrics.json, the log and the report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createSession } from '../../src/backends/ort';
import { initTf } from '../../src/backends/tf';
import { loadLayersModel } from '../../src/backends/tf-io';
import { writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { learnedNothing, LEARNED_MARGIN_DB } from '../../src/metrics/learned-nothing';
import { quality, type QualityMetrics } from '../../src/metrics/quality';
import { cropNhwc } from '../../src/tensor/pad';
import { activeEncoderFile, decoderDir, readEncoderIo, readManifest } from '../artifacts';
import { defineStage } from '../define-stage';
import { reportFromFolders } from '../report';
import type { EpochLog } from '../train/callbacks';
import { writeAnnotatedGrid } from '../train/image-grid';
import { predictRows } from '../train/predict';
import { EventFileWriter } from '../train/tensorboard';
import { loadGroup, withEncoderTaps } from './split-inputs';

export function meanOf(list: QualityMetrics[]): QualityMetrics {
  const n = Math.max(list.length, 1);
  return {
    mse: list.reduce((a, q) => a + q.mse, 0) / n,
    psnr: list.reduce((a, q) => a + q.psnr, 0) / n,
    ssim: list.reduce((a, q) => a + q.ssim, 0) / n,
  };
}

/** Center crop of an HWC image to h×w (grids need equal tile sizes). */
function centerCrop(img: Float32Array, H: number, W: number, c: number, h: number, w: number): Float32Array {
  const y0 = Math.floor((H - h) / 2);
  const x0 = Math.floor((W - w) / 2);
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) out.set(img.subarray(((y0 + y) * W + x0) * c, ((y0 + y) * W + x0 + w) * c), y * w * c);
  return out;
}

export const evaluateStage = defineStage({
  name: 'evaluate',
  version: 3,
  description: 'MSE/PSNR/SSIM of noisy vs denoised on the test split, before/after grid, report.html',
  inputs: ['data', 'encoder', 'featurize', 'train'],
  configSlice: (job) => ({ evaluate: job.evaluate }),
  async run(ctx) {
    const { job } = ctx;
    const { tf } = await initTf({ device: job.device });
    const dataDir = ctx.inputs.data as string;
    const manifest = readManifest(dataDir);
    const io = readEncoderIo(ctx.inputs.encoder as string);
    const model = await loadLayersModel(tf, decoderDir(ctx.inputs.train as string));
    // Fine-tuned stages change the taps: they come from the fine-tuned encoder, not the featurize cache.
    const tuned = io.finetune ? await createSession(activeEncoderFile(ctx.inputs.encoder as string, ctx.inputs.train), { device: job.device }) : undefined;
    const C = manifest.channels;
    const perImage: Array<{ name: string; noisy: QualityMetrics; denoised: QualityMetrics }> = [];
    const tiles: Array<{ clean: Float32Array; noisy: Float32Array; denoised: Float32Array; h: number; w: number }> = [];
    let seconds = 0;
    // MSE between the output and the input it was given (clipped like the output): ≈ 0 when the head does nothing.
    let changeSum = 0;
    for (const group of manifest.splits.test) {
      const cachedGroup = loadGroup(dataDir, ctx.inputs.featurize as string, manifest, io, 'test', group);
      const g = tuned ? await withEncoderTaps(tuned, io, cachedGroup) : cachedGroup;
      const { height: H, width: W } = group;
      const t0 = performance.now();
      const out = predictRows(tf, model, g.inputs, g.count, true);
      seconds += (performance.now() - t0) / 1000;
      const denoised = cropNhwc(out, g.count, g.padded.height, g.padded.width, C, H, W);
      const noisy = cropNhwc(g.inputs[g.inputs.length - 1].data, g.count, g.padded.height, g.padded.width, C, H, W);
      const pix = H * W * C;
      for (let i = 0; i < g.count; i++) {
        const at = (a: Float32Array) => a.subarray(i * pix, (i + 1) * pix);
        const clean = at(g.target.data);
        const input = at(noisy);
        const output = at(denoised);
        let change = 0;
        for (let k = 0; k < pix; k++) {
          const v = input[k] < 0 ? 0 : input[k] > 1 ? 1 : input[k];
          change += (output[k] - v) ** 2;
        }
        changeSum += change / pix;
        perImage.push({
          name: group.names?.[i] ?? `${group.id}#${i}`,
          noisy: quality(at(noisy), clean, H, W, C),
          denoised: quality(at(denoised), clean, H, W, C),
        });
        if (tiles.length < job.evaluate.grid_samples) tiles.push({ clean, noisy: at(noisy), denoised: at(denoised), h: H, w: W });
      }
    }
    model.dispose();
    await tuned?.release();
    const noisyMean = meanOf(perImage.map((p) => p.noisy));
    const denoisedMean = meanOf(perImage.map((p) => p.denoised));
    const outputVsInputMse = changeSum / Math.max(perImage.length, 1);
    const metrics = {
      samples: perImage.length,
      noisy: noisyMean,
      denoised: denoisedMean,
      outputVsInputMse,
      learnedNothing: learnedNothing(noisyMean.psnr, denoisedMean.psnr, outputVsInputMse, noisyMean.mse),
      decoderSecondsPerImage: seconds / Math.max(perImage.length, 1),
      perImage: manifest.splits.test.some((g) => g.names) ? perImage : undefined,
    };
    writeJsonAtomic(path.join(ctx.outDir, 'metrics.json'), metrics);

    const th = Math.min(...tiles.map((t) => t.h), 160);
    const tw = Math.min(...tiles.map((t) => t.w), 160);
    const crop = (k: 'clean' | 'noisy' | 'denoised') => tiles.map((t) => centerCrop(t[k], t.h, t.w, C, th, tw));
    const { png, grid } = await writeAnnotatedGrid(path.join(ctx.outDir, 'grid.png'), {
      clean: crop('clean'), noisy: crop('noisy'), denoised: crop('denoised'), width: tw, height: th, channels: C as 1 | 3,
    });

    // Test results in TensorBoard at the training's last step, beside the training curves.
    const trainDir = ctx.inputs.train as string;
    const historyFile = path.join(trainDir, 'history.json');
    const history: EpochLog[] = fs.existsSync(historyFile) ? JSON.parse(fs.readFileSync(historyFile, 'utf8')) : [];
    const step = history[history.length - 1]?.step ?? 0;
    const tbDir = path.join(ctx.runDir, 'tensorboard', 'evaluate');
    if (fs.existsSync(tbDir)) for (const f of fs.readdirSync(tbDir)) if (f.includes('tfevents')) fs.rmSync(path.join(tbDir, f));
    const tb = new EventFileWriter(tbDir);
    for (const kind of ['noisy', 'denoised'] as const) {
      for (const m of ['mse', 'psnr', 'ssim'] as const) tb.scalar(`test/${kind}_${m}`, metrics[kind][m], step);
    }
    tb.image('test/grid', png, grid.width, grid.height, grid.channels, step);
    tb.close();
    writeFileAtomic(
      path.join(ctx.outDir, 'report.html'),
      reportFromFolders({ title: `onnxtune ${job.name}: train + evaluate`, train: trainDir, evaluate: ctx.outDir }),
    );
    log.info(
      `Test (${metrics.samples} images): noisy MSE ${metrics.noisy.mse.toFixed(4)}, PSNR ${metrics.noisy.psnr.toFixed(2)} dB, SSIM ${metrics.noisy.ssim.toFixed(3)} → ` +
        `denoised MSE ${metrics.denoised.mse.toFixed(4)}, PSNR ${metrics.denoised.psnr.toFixed(2)} dB, SSIM ${metrics.denoised.ssim.toFixed(3)}`,
    );
    if (metrics.learnedNothing) {
      log.warn(
        `Learned nothing: the denoised output is within ${LEARNED_MARGIN_DB} dB of the noisy input (or equal to it; output-vs-input MSE ` +
          `${outputVsInputMse.toExponential(2)}). See the train stage's warning (tap scale, dead ReLUs, learning rate).`,
      );
    }
    const { perImage: _omit, ...summary } = metrics;
    return { ...summary, grid: 'grid.png', report: 'report.html' };
  },
});
