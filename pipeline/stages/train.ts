/**
 * Stage `train`: builds the decoder head in TensorFlow.js and trains it on cached features
 * (noisy → clean). Resumable: checkpoints (epoch ends and every `train.checkpoint_every`
 * steps), the JSONL log and the per-epoch grids live in the stage's work folder until it
 * finishes; TensorBoard events go to `<run>/tensorboard/train/`. Writes the decoder as a tfjs
 * LayersModel (`decoder/model.json` + `weights.bin`), `history.json`, `metrics.jsonl` and `grids/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initTf } from '../../src/backends/tf';
import { saveLayersModel } from '../../src/backends/tf-io';
import { writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { decoderDir, onlyGroup, readEncoderIo, readManifest } from '../artifacts';
import { defineStage } from '../define-stage';
import { JsonlLogger, type Callback } from '../train/callbacks';
import { buildDecoder } from '../train/decoder';
import { ImageGrid } from '../train/image-grid';
import { fit } from '../train/loop';
import { predictRows } from '../train/predict';
import { TensorBoardWriter } from '../train/tensorboard';
import { loadGroup } from './split-inputs';

/** Output std below this on validation images means the head predicts a constant. */
const COLLAPSE_STD = 1e-3;

/** Where the train stage's logs go (relative to its folder, and to the run folder for TensorBoard). */
export const TRAIN_LOGS = Object.freeze({ metrics: 'metrics.jsonl', grids: 'grids', tensorboard: path.join('tensorboard', 'train') });

export const trainStage = defineStage({
  name: 'train',
  version: 2,
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
      log.info(
        `Decoder: ${job.decoder.type} head, ${model.countParams()} parameters, ${job.decoder.output} output, ` +
          `inputs ${model.inputLayers.map((l) => l.name).join(', ')}`,
      );
      const tb = job.train.tensorboard ? new TensorBoardWriter(path.join(ctx.runDir, TRAIN_LOGS.tensorboard), job.train.log_every) : undefined;
      const callbacks: Callback[] = [new JsonlLogger(path.join(ctx.workDir, TRAIN_LOGS.metrics), job.train.log_every)];
      if (val && job.train.grid_samples > 0) callbacks.push(new ImageGrid(path.join(ctx.workDir, TRAIN_LOGS.grids), val, job.train.grid_samples, tb));
      if (tb) callbacks.push(tb);
      const result = await fit(tf, model, train, val, job.train, { seed: job.seed, workDir: ctx.workDir, callbacks });

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
      // The logs were kept in the work folder so a crash does not lose them; they ship with the stage.
      fs.copyFileSync(path.join(ctx.workDir, TRAIN_LOGS.metrics), path.join(ctx.outDir, TRAIN_LOGS.metrics));
      const gridDir = path.join(ctx.workDir, TRAIN_LOGS.grids);
      if (fs.existsSync(gridDir)) fs.cpSync(gridDir, path.join(ctx.outDir, TRAIN_LOGS.grids), { recursive: true });
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
        resumedFromStep: result.resumedFromStep,
        steps: result.globalSteps,
        finalLoss: last?.loss ?? null,
        finalValLoss: last?.valLoss ?? null,
        finalValPsnr: last?.valPsnr ?? null,
        samplesPerSecond: last?.samplesPerSecond ?? null,
        outputStd,
        collapsed,
        metricsLog: TRAIN_LOGS.metrics,
        tensorboard: tb ? TRAIN_LOGS.tensorboard : null,
      };
    } finally {
      tf.engine().endScope();
    }
  },
});
