/**
 * Stage `train`: builds the decoder head in TensorFlow.js and trains it on cached features
 * (noisy → clean). Resumable: epoch checkpoints live in the stage's work folder. Writes the
 * decoder as a tfjs LayersModel (`decoder/model.json` + `weights.bin`) and `history.json`.
 */
import * as path from 'node:path';
import { initTf } from '../../src/backends/tf';
import { saveLayersModel } from '../../src/backends/tf-io';
import { writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { decoderDir, onlyGroup, readEncoderIo, readManifest } from '../artifacts';
import { defineStage } from '../define-stage';
import { buildDecoder } from '../train/decoder';
import { trainDecoder } from '../train/loop';
import { predictRows } from '../train/predict';
import { loadGroup } from './split-inputs';

/** Output std below this on validation images means the head predicts a constant. */
const COLLAPSE_STD = 1e-3;

export const trainStage = defineStage({
  name: 'train',
  version: 1,
  description: 'train the TensorFlow.js decoder head on the cached features',
  inputs: ['data', 'encoder', 'featurize'],
  configSlice: (job) => ({ decoder: job.decoder, train: job.train, seed: job.seed }),
  resumable: true,
  async run(ctx) {
    const { job } = ctx;
    const rt = await initTf({ device: job.device });
    const { tf } = rt;
    const dataDir = ctx.inputs.data as string;
    const featDir = ctx.inputs.featurize as string;
    const manifest = readManifest(dataDir);
    const io = readEncoderIo(ctx.inputs.encoder as string);
    const trainGroup = onlyGroup(manifest, 'train');
    if (!trainGroup) throw new Error('the data stage produced no training images');
    const valGroup = onlyGroup(manifest, 'val');
    const t0 = performance.now();
    const train = loadGroup(dataDir, featDir, manifest, io, 'train', trainGroup);
    const val = valGroup ? loadGroup(dataDir, featDir, manifest, io, 'val', valGroup) : null;
    // The frozen encoder never runs during training: its features come from the featurize cache.
    const featureLoadSeconds = (performance.now() - t0) / 1000;
    log.info(`Loaded cached encoder features in ${featureLoadSeconds.toFixed(1)} s; the encoder does not run during training`);

    tf.engine().startScope();
    try {
      const model = buildDecoder(tf, io.taps, manifest.channels, job.decoder, job.seed);
      log.info(`Decoder: ${model.countParams()} parameters, ${job.decoder.output} output, inputs ${model.inputs.map((i) => i.name).join(', ')}`);
      const result = await trainDecoder(tf, model, train, val, job.train, job.seed, ctx.workDir);

      // A head that outputs the same image whatever the input has collapsed: say so plainly.
      const check = val ?? train;
      const n = Math.min(check.count, 256);
      const out = predictRows(tf, model, check.inputs, n, false);
      let mean = 0;
      for (const v of out) mean += v;
      mean /= out.length;
      let variance = 0;
      for (const v of out) variance += (v - mean) ** 2;
      const outputStd = Math.sqrt(variance / out.length);
      const collapsed = outputStd < COLLAPSE_STD;
      if (collapsed) {
        log.warn(`The decoder collapsed: its output is nearly constant (std ${outputStd.toExponential(2)}). Try a lower train.lr or decoder.output: residual.`);
      }
      await saveLayersModel(tf, model, decoderDir(ctx.outDir));
      writeJsonAtomic(path.join(ctx.outDir, 'history.json'), result.history);
      const last = result.history[result.history.length - 1];
      return {
        backend: rt.description,
        featureLoadSeconds,
        encoderSecondsPerEpoch: 0,
        parameters: model.countParams(),
        epochs: result.history.length,
        bestEpoch: result.bestEpoch,
        stoppedEarly: result.stoppedEarly,
        resumedFromEpoch: result.resumedFromEpoch,
        finalLoss: last?.loss ?? null,
        finalValLoss: last?.valLoss ?? null,
        samplesPerSecond: last?.samplesPerSecond ?? null,
        outputStd,
        collapsed,
      };
    } finally {
      tf.engine().endScope();
    }
  },
});
