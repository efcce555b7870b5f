/**
 * Stage `featurize`: runs the frozen encoder once over every noisy input of every split in
 * onnxruntime (CUDA when available), batched, and caches the tap features as NHWC .npy files
 * (float16 for large training sets), so training epochs never re-run the encoder.
 */
import { createSession, type OrtSession } from '../../src/backends/ort';
import { writeNpy } from '../../src/io/npy';
import { log } from '../../src/log';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import {
  dataFiles, encoderModelFile, featureFile, readArray, readEncoderIo, readManifest, SPLITS, type EncoderIo,
} from '../artifacts';
import { defineStage } from '../define-stage';

const BATCH = 128;
/** Above this many bytes (float32), training features are cached as float16. */
const FLOAT16_ABOVE_BYTES = 256 * 1024 * 1024;

/** Runs the encoder over `noisy` ([n,H,W,C] NHWC) and returns one NHWC array per tap. */
export async function encodeImages(
  session: OrtSession,
  io: EncoderIo,
  noisy: Float32Array,
  n: number,
  shape: { height: number; width: number; channels: number },
): Promise<Float32Array[]> {
  const { height: H, width: W, channels: C } = shape;
  const pix = H * W * C;
  const outs = io.taps.map((t) => new Float32Array(n * t.height * t.width * t.channels));
  for (let start = 0; start < n; start += BATCH) {
    const b = Math.min(BATCH, n - start);
    const x = nhwcToNchw(noisy.subarray(start * pix, (start + b) * pix), b, H, W, C);
    const res = await session.run({ [io.input]: { data: x, dims: [b, C, H, W] } }, io.taps.map((t) => t.name));
    io.taps.forEach((t, k) => {
      const size = t.height * t.width * t.channels;
      outs[k].set(nchwToNhwc(res[t.name].data, b, t.channels, t.height, t.width), start * size);
    });
  }
  return outs;
}

export const featurizeStage = defineStage({
  name: 'featurize',
  version: 1,
  description: 'run the frozen encoder once per noisy input (onnxruntime) and cache the tap features',
  inputs: ['data', 'encoder'],
  configSlice: () => ({}),
  async run(ctx) {
    const { job } = ctx;
    const dataDir = ctx.inputs.data as string;
    const encDir = ctx.inputs.encoder as string;
    const manifest = readManifest(dataDir);
    const io = readEncoderIo(encDir);
    const session = await createSession(encoderModelFile(encDir), { device: job.device });
    log.info(`Featurizing with onnxruntime (${session.ep.toUpperCase()} execution provider)`);
    const perSplit: Record<string, { images: number; seconds: number; dtype: string }> = {};
    let totalSeconds = 0;
    let totalImages = 0;
    try {
      for (const split of SPLITS) {
        const noisy = readArray(dataFiles(dataDir, split).noisy);
        const n = noisy.dims[0];
        const t0 = performance.now();
        const feats = await encodeImages(session, io, noisy.data, n, manifest);
        const seconds = (performance.now() - t0) / 1000;
        const bytes = feats.reduce((a, f) => a + f.byteLength, 0);
        const dtype = split === 'train' && bytes > FLOAT16_ABOVE_BYTES ? 'float16' : 'float32';
        io.taps.forEach((t, k) => writeNpy(featureFile(ctx.outDir, split, k), [n, t.height, t.width, t.channels], feats[k], dtype));
        perSplit[split] = { images: n, seconds, dtype };
        totalSeconds += seconds;
        totalImages += n;
      }
    } finally {
      await session.release();
    }
    const rate = totalImages / Math.max(totalSeconds, 1e-9);
    log.info(`Encoder ran on ${totalImages} images in ${totalSeconds.toFixed(1)} s (${rate.toFixed(0)} images/s); epochs reuse these features`);
    return { ep: session.ep, encoderSeconds: totalSeconds, imagesPerSecond: rate, splits: perSplit };
  },
});
