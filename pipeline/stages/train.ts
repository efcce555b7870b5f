/**
 * Stage `train`: builds the decoder head in TensorFlow.js and trains it on cached features
 * (noisy → clean). Resumable: checkpoints (epoch ends and every `train.checkpoint_every`
 * steps), the JSONL log and the per-epoch grids live in the stage's work folder until it
 * finishes; TensorBoard events go to `<run>/tensorboard/train/`. Writes the decoder as a tfjs
 * LayersModel (`decoder/model.json` + `weights.bin`), `history.json`, `metrics.jsonl`, `grids/`
 * and `tap-stats.json` (per-channel mean/std of the cached training features; with
 * `decoder.normalize_taps` the head standardizes its tap inputs with them). The stats belong to
 * this stage, not featurize, so turning normalization on or off never re-runs the encoder.
 * With `encoder.trainable` the fine-tuned stages train with the head as TF.js layers fed by the
 * cached cut, and `encoder.onnx` + `finetune.json` (the written-back encoder) are written too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initTf } from '../../src/backends/tf';
import { saveLayersModel } from '../../src/backends/tf-io';
import { writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { loadModel } from '../../src/onnx/model-io';
import { decoderDir, onlyGroup, readEncoderIo, readManifest, trainableModelFile } from '../artifacts';
import { defineStage } from '../define-stage';
import type { Callback } from '../train/callbacks';
import { DirCheckpointStore } from '../train/checkpoint';
import { buildDecoder, type TapShape } from '../train/decoder';
import { initHeadFrom } from '../train/init-head';
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { sha256File } from '../../src/io/hash';
import { resolveModel } from '../../pretrained/shipped';
import { ImageGrid } from '../train/image-grid';
import { JsonlLogger } from '../train/jsonl-logger';
import { LearningCheck, learningWarning, noisyInputPsnr } from '../train/learning-check';
import { fit, realizationBlocks, type ArrayInput } from '../train/loop';
import { predictRows } from '../train/predict';
import { ChannelStatsAccumulator, deadChannels, describeTapStats, tapNorm, type ChannelStats } from '../train/tap-stats';
import { TensorBoardWriter } from '../train/tensorboard';
import { terminalProgress } from '../train/terminal-progress';
import { buildEncoderLayers, composeTrainingModel, encoderParamGroup, finetuneTapStats } from '../train/encoder-layers';
import { writeFinetunedEncoder } from './export-finetuned';
import { loadGroup } from './split-inputs';

/**
 * `decoder.init_from`: the head's weights (tap standardization included) from a shipped denoiser or
 * an onnxtune export, before training (a resumed run's checkpoint then overrides them).
 */
function warmStart(tf: Tf, decoder: TfModule.LayersModel, taps: readonly TapShape[], initFrom: string): { model: string; layers: number } {
  const file = resolveModel(initFrom, 'decoder.init_from');
  const init = initHeadFrom(tf, decoder, loadModel(file), taps, initFrom);
  log.info(`Decoder starts from ${file === initFrom ? file : `${initFrom} (${path.basename(file)})`}: ${init.layers} layers, ${init.values} weights, its tap standardization included`);
  if (init.finetunedStages.length) {
    log.warn(
      `decoder.init_from ${initFrom} was trained on features of its fine-tuned encoder stages ${init.finetunedStages.join(', ')}; ` +
        'this job starts from encoder.onnx as given, so its head first sees other features',
    );
  }
  return { model: initFrom, layers: init.layers };
}

/** Per-channel statistics of each tap over every block of training rows (realization by realization). */
function tapStats(io: { taps: ReadonlyArray<{ channels: number }> }, blocks: Iterable<ArrayInput[]>): ChannelStats[] {
  const acc = io.taps.map((t) => new ChannelStatsAccumulator(t.channels));
  for (const inputs of blocks) acc.forEach((a, k) => a.add(inputs[k]));
  return acc.map((a) => a.result());
}

/** Output std below this on validation images means the head predicts a constant. */
const COLLAPSE_STD = 1e-3;

/** Where the train stage's logs go (relative to its folder, and to the run folder for TensorBoard). */
export const TRAIN_LOGS = Object.freeze({ metrics: 'metrics.jsonl', grids: 'grids', tensorboard: path.join('tensorboard', 'train') });
/** Per-channel statistics of the training features (`train/tap-stats.json`). */
export const TAP_STATS_FILE = 'tap-stats.json';

export const trainStage = defineStage({
  name: 'train',
  version: 2,
  description: 'train the TensorFlow.js decoder head on the cached features',
  inputs: ['data', 'encoder', 'featurize'],
  configSlice: (job) => {
    // A warm start is keyed by the starting model's bytes, not by its path or name.
    const { init_from: initFrom, ...decoder } = job.decoder;
    const init = initFrom ? resolveModel(initFrom, 'decoder.init_from') : undefined;
    return {
      decoder,
      train: job.train,
      seed: job.seed,
      ...(job.encoder.trainable ? { finetune: job.encoder.trainable } : {}),
      ...(init ? { initFrom: { file: path.basename(init), sha256: sha256File(init) } } : {}),
    };
  },
  resumable: true,
  async run(ctx) {
    const { job } = ctx;
    const rt = await initTf({ device: job.device });
    const { tf } = rt;
    const dataDir = ctx.inputs.data as string;
    const featDir = ctx.inputs.featurize as string;
    const manifest = readManifest(dataDir);
    const encDir = ctx.inputs.encoder as string;
    const io = readEncoderIo(encDir);
    // Fine-tuning: the trainable stages as TF.js layers, fed by the cached cut (encoder-layers.ts).
    const enc = io.finetune ? buildEncoderLayers(tf, loadModel(trainableModelFile(encDir)), io.finetune) : undefined;
    const trainGroup = onlyGroup(manifest, 'train');
    if (!trainGroup) throw new Error('the data stage produced no training images');
    const valGroup = onlyGroup(manifest, 'val');
    const t0 = performance.now();
    const train = loadGroup(dataDir, featDir, manifest, io, 'train', trainGroup);
    const val = valGroup ? loadGroup(dataDir, featDir, manifest, io, 'val', valGroup) : null;
    // The frozen encoder never runs during training: its features come from the featurize cache.
    const featureLoadSeconds = (performance.now() - t0) / 1000;
    log.info(`Loaded cached encoder features in ${featureLoadSeconds.toFixed(1)} s; the encoder does not run during training`);

    // Every training row (all noise realizations) in one streaming float64 pass over the cache.
    const t1 = performance.now();
    const stats = enc ? finetuneTapStats(tf, enc, io, realizationBlocks(train)) : tapStats(io, realizationBlocks(train));
    const tapNames = io.taps.map((t, k) => t.stage ?? `tap${k}`);
    const tapSummary = describeTapStats(stats, tapNames);
    const totalChannels = stats.reduce((a, s) => a + s.std.length, 0);
    const deadFraction = stats.reduce((a, s) => a + deadChannels(s), 0) / Math.max(totalChannels, 1);
    const normalized = job.decoder.normalize_taps;
    writeJsonAtomic(path.join(ctx.outDir, TAP_STATS_FILE), {
      normalized,
      taps: io.taps.map((t, k) => ({ name: t.name, stage: t.stage ?? null, ...stats[k], norm: tapNorm(stats[k]) })),
    });
    log.info(
      `Tap feature statistics (${((performance.now() - t1) / 1000).toFixed(1)} s): ${tapSummary}; ` +
        (normalized ? 'standardized per channel at the head\'s inputs (decoder.normalize_taps)' : 'used raw (decoder.normalize_taps: false)'),
    );

    tf.engine().startScope();
    try {
      const { init_from: initFrom, ...design } = job.decoder;
      const decoder = buildDecoder(tf, io.taps, manifest.channels, design, job.seed, normalized ? { tapNorms: stats.map(tapNorm) } : {});
      log.info(
        `Decoder: ${job.decoder.type} head, ${decoder.countParams()} parameters, ${job.decoder.output} output, ` +
          `inputs ${decoder.inputLayers.map((l) => l.name).join(', ')}`,
      );
      const init = initFrom ? warmStart(tf, decoder, io.taps, initFrom) : undefined;
      const ft = job.encoder.trainable;
      const model = enc ? composeTrainingModel(tf, enc, decoder, io) : decoder;
      const paramGroups = enc && ft ? [encoderParamGroup(enc, ft.lr_multiplier, ft.at_epoch)] : undefined;
      if (enc && ft) {
        if (ft.at_epoch >= job.train.epochs) {
          log.warn(`encoder.trainable.at_epoch ${ft.at_epoch} ≥ train.epochs ${job.train.epochs}: the encoder stages never train (only the head does)`);
        }
        log.info(
          `Fine-tuning ${io.finetune?.stages.join(', ')}: ${enc.model.countParams()} encoder parameters in TF.js, lr × ${ft.lr_multiplier}` +
            (ft.at_epoch > 0 ? ` from epoch ${ft.at_epoch + 1} (earlier epochs train the head alone)` : ''),
        );
      }
      const tb = job.train.tensorboard ? new TensorBoardWriter(path.join(ctx.runDir, TRAIN_LOGS.tensorboard), job.train.log_every) : undefined;
      const callbacks: Callback[] = [new JsonlLogger(path.join(ctx.workDir, TRAIN_LOGS.metrics), job.train.log_every)];
      if (val && job.train.grid_samples > 0) callbacks.push(new ImageGrid(path.join(ctx.workDir, TRAIN_LOGS.grids), val, job.train.grid_samples, tb));
      if (tb) callbacks.push(tb);
      const noisyPsnr = val && val.count ? noisyInputPsnr(val) : null;
      const diagnosis = { taps: tapSummary, deadFraction, normalized, lr: job.train.lr };
      if (noisyPsnr !== null) callbacks.push(new LearningCheck(noisyPsnr, diagnosis));
      // The Node edge of the runtime-free loop: checkpoints as files in the work folder, bars on the terminal.
      const checkpoints = new DirCheckpointStore(ctx.workDir);
      const result = await fit(tf, model, train, val, job.train, { seed: job.seed, checkpoints, progress: terminalProgress, callbacks, paramGroups });
      // Recorded from the history (not the callback) so a run resumed after epoch 1 keeps it too.
      const first = result.history[0];
      const warning = first && noisyPsnr !== null ? learningWarning(first.valPsnr, noisyPsnr, first.epoch, diagnosis) : null;
      if (warning) first.warning = warning;

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
      await saveLayersModel(tf, decoder, decoderDir(ctx.outDir));
      const finetune = enc ? await writeFinetunedEncoder(tf, ctx, io, enc, val ?? train) : undefined;
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
        parameters: decoder.countParams(),
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
        valNoisyPsnr: noisyPsnr,
        normalizedTaps: normalized,
        deadTapChannels: deadFraction,
        warnings: warning ? [warning] : [],
        metricsLog: TRAIN_LOGS.metrics,
        tensorboard: tb ? TRAIN_LOGS.tensorboard : null,
        ...(finetune ? { finetune } : {}),
        ...(init ? { initFrom: init } : {}),
      };
    } finally {
      tf.engine().endScope();
    }
  },
});
