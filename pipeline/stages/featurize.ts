/**
 * Stage `featurize`: runs the frozen encoder once over every noisy input of every split in
 * onnxruntime (CUDA when available), batched, and caches the tap features as NHWC .npy files
 * (float16 for large training sets), so training epochs never re-run the encoder. Images
 * whose sides are not multiples of the deepest stride are reflect-padded first, exactly as the
 * exported model does inside its graph.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createSession, type OrtSession } from '../../src/backends/ort';
import { RUN_JOB_FILE } from '../../src/io/run-dir-report';
import { NpyRowWriter, readNpyDims, readNpyRows } from '../../src/io/npy';
import { log } from '../../src/log';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import { padAmount, reflectPadNhwc } from '../../src/tensor/pad';
import {
  cachedTensors, dataFiles, encoderModelFile, featureFile, prefixModelFile, readEncoderIo, readManifest, SPLITS, type EncoderIo,
} from '../artifacts';
import { defineStage } from '../define-stage';
import { availableMemoryBytes, cacheDtype, cachedRow, checkFeatureDisk, checkFeatureMemory, featureCacheDiskBytes, trainingFeatureMemory } from './feature-memory';

const BATCH = 64;

export interface PaddedImages {
  data: Float32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
}

/** Reflect-pads NHWC images to multiples of the encoder's deepest stride. */
export function padForEncoder(io: EncoderIo, data: Float32Array, n: number, h: number, w: number, c: number): PaddedImages {
  const ph = padAmount(h, io.strideMultiple);
  const pw = padAmount(w, io.strideMultiple);
  return { data: reflectPadNhwc(data, n, h, w, c, ph, pw), n, height: h + ph, width: w + pw, channels: c };
}

/** Runs the encoder over padded NHWC images; returns one NHWC array per tap with its [h, w, c]. */
export async function encodeImages(session: OrtSession, io: EncoderIo, images: PaddedImages): Promise<Array<{ data: Float32Array; shape: [number, number, number] }>> {
  const { n, height: H, width: W, channels: C } = images;
  const pix = H * W * C;
  const shapes = io.taps.map((t) => [H / t.stride, W / t.stride, t.channels] as [number, number, number]);
  const outs = shapes.map(([h, w, c]) => new Float32Array(n * h * w * c));
  for (let start = 0; start < n; start += BATCH) {
    const b = Math.min(BATCH, n - start);
    const x = nhwcToNchw(images.data.subarray(start * pix, (start + b) * pix), b, H, W, C);
    const res = await session.run({ [io.input]: { data: x, dims: [b, C, H, W] } }, io.taps.map((t) => t.name));
    io.taps.forEach((t, k) => {
      const [h, w, c] = shapes[k];
      const dims = res[t.name].dims;
      if (dims[2] !== h || dims[3] !== w) {
        throw new Error(`tap ${t.name}: expected ${h}×${w} for a ${H}×${W} input (stride ${t.stride}), got ${dims[2]}×${dims[3]}`);
      }
      outs[k].set(nchwToNhwc(res[t.name].data, b, c, h, w), start * h * w * c);
    });
  }
  return outs.map((data, k) => ({ data, shape: shapes[k] }));
}

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
function freeBytes(dir: string): number {
  fs.mkdirSync(dir, { recursive: true });
  const st = fs.statfsSync(dir);
  return Number(st.bavail) * Number(st.bsize);
}

export const featurizeStage = defineStage({
  name: 'featurize',
  version: 2,
  description: 'run the frozen encoder once per noisy input (onnxruntime) and cache the tap features',
  inputs: ['data', 'encoder'],
  // Fine-tuning caches at the cut (the frozen taps + the cut tensor): the key names where.
  configSlice: (job) => (job.encoder.trainable ? { cache_at: { stages: job.encoder.trainable.stages, last: job.encoder.trainable.last } } : {}),
  async run(ctx) {
    const { job } = ctx;
    const dataDir = ctx.inputs.data as string;
    const encDir = ctx.inputs.encoder as string;
    const manifest = readManifest(dataDir);
    const full = readEncoderIo(encDir);
    // With fine-tuning only the frozen prefix runs here: its taps and the cut are cached (cachedTensors).
    const io = { ...full, taps: cachedTensors(full) };
    // Before the encoder runs: a cache the train stage cannot hold fails now, with the fields to lower.
    const memory = trainingFeatureMemory(manifest, full, io.taps);
    const jobFile = path.join(ctx.runDir, RUN_JOB_FILE);
    const memoryWarning = checkFeatureMemory(memory, availableMemoryBytes(), jobFile);
    checkFeatureDisk(featureCacheDiskBytes(manifest, full, io.taps), freeBytes(ctx.outDir), jobFile);
    if (memoryWarning) log.warn(`${memoryWarning}; lower data.noise.realizations or data.patches_per_image if training is killed`);
    const session = await createSession(full.finetune ? prefixModelFile(encDir) : encoderModelFile(encDir), { device: job.device });
    log.info(`Featurizing with onnxruntime (${session.ep.toUpperCase()} execution provider)`);
    const perSplit: Record<string, { images: number; seconds: number; megapixels: number }> = {};
    let totalSeconds = 0;
    let totalImages = 0;
    let totalPixels = 0;
    try {
      for (const split of SPLITS) {
        const stats = { images: 0, seconds: 0, megapixels: 0 };
        for (const group of manifest.splits[split]) {
          // One noise realization at a time (rows r·count … of the noisy array), appended to the cache
          // files: memory holds one realization's features whatever data.noise.realizations is.
          const noisyFile = dataFiles(dataDir, split, group.id).noisy;
          const n = readNpyDims(noisyFile)[0];
          const block = n / group.realizations;
          const row = cachedRow(group, io, io.taps);
          const dtype = cacheDtype(n * row.values * 4);
          const writers = row.shapes.map((shape, k) => new NpyRowWriter(featureFile(ctx.outDir, split, group.id, k), [n, ...shape], dtype));
          try {
            for (let r = 0; r < group.realizations; r++) {
              const noisy = readNpyRows(noisyFile, r * block, block);
              const padded = padForEncoder(io, noisy.data, block, group.height, group.width, manifest.channels);
              const t0 = performance.now();
              const feats = await encodeImages(session, io, padded);
              stats.seconds += (performance.now() - t0) / 1000;
              stats.images += block;
              stats.megapixels += (block * padded.height * padded.width) / 1e6;
              feats.forEach((f, k) => writers[k].append(f.data));
              if (group.realizations > 1) {
                log.info(`Featurize ${split}: noise realization ${r + 1}/${group.realizations} (${block} images) encoded and appended to the cache`);
              }
            }
            for (const w of writers) w.close();
          } catch (err) {
            for (const w of writers) w.abort();
            throw err;
          }
        }
        perSplit[split] = stats;
        totalSeconds += stats.seconds;
        totalImages += stats.images;
        totalPixels += stats.megapixels;
      }
    } finally {
      await session.release();
    }
    const epochs = job.train.epochs;
    log.info(
      `Encoder ran once on ${totalImages} images (${totalPixels.toFixed(1)} MPix) in ${totalSeconds.toFixed(1)} s ` +
        `(${(totalPixels / Math.max(totalSeconds, 1e-9)).toFixed(2)} MPix/s); the feature cache saves ≈ ${(((epochs - 1) * perSplit.train.seconds) + (epochs - 1) * (perSplit.val?.seconds ?? 0)).toFixed(1)} s of encoder time over ${epochs} epochs`,
    );
    return { ep: session.ep, cachedAt: full.finetune ? full.finetune.cut.name : 'taps', encoderSeconds: totalSeconds, imagesPerSecond: totalImages / Math.max(totalSeconds, 1e-9), megapixelsPerSecond: totalPixels / Math.max(totalSeconds, 1e-9), splits: perSplit };
  },
});
