/**
 * Benchmark: the tutorial's two denoising autoencoders trained from scratch with the project's
 * training loop (pipeline/train/loop.ts `fit`, not model.fit), next to the PyTorch reference in
 * ../shared/notes/reference-numbers.md. Data: the official MNIST t10k idx file (first 9,000
 * digits train, last 1,000 test), noise x + 0.5·N(0,1) drawn once and clipped; Adam 1e-3,
 * batch 128, 20 epochs; the tutorial's (Keras) initialization unless --init torch. Prints a table
 * and writes bench/results/tutorial-autoencoders.json.
 *   node dist/bench/tutorial-autoencoders.js [--models dense,conv-bce[,conv-mse]] [--seeds 1] [--epochs 20] [--idx FILE]
 *     [--init keras|torch] [--noise-per-epoch]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { fit, type TrainSplit } from '../pipeline/train/loop';
import { predictRows } from '../pipeline/train/predict';
import { terminalProgress } from '../pipeline/train/terminal-progress';
import { initTf, type Tf } from '../src/backends/tf';
import { loadIdxImages } from '../src/data/mnist';
import { writeJsonAtomic } from '../src/io/atomic';
import { mse } from '../src/metrics/mse';
import { psnr } from '../src/metrics/psnr';
import { applyNoise } from '../src/noise';
import { forkRng } from '../src/random';
import { sharedDir } from './cli';
import { PROJECT_ROOT } from '../src/version';

/** The PyTorch reference (reference-numbers.md): mean ± std over 3 seeds, 2 threads. */
export const REFERENCE = Object.freeze({
  noisy: { mse: 0.1153, psnr: 9.39 },
  dense: { mse: 0.022, mseStd: 0.0008, psnr: 16.95, samplesPerSecond: 42000 },
  'conv-bce': { mse: 0.0142, mseStd: 0.0004, psnr: 18.82, samplesPerSecond: 2100 },
  'conv-mse': { mse: 0.1171, mseStd: 0, psnr: 9.56, samplesPerSecond: 2100, collapses: true },
});

export type TutorialModel = 'dense' | 'conv-bce' | 'conv-mse';
export const TUTORIAL_MODELS: readonly TutorialModel[] = Object.freeze(['dense', 'conv-bce', 'conv-mse']);

const DESCRIPTIONS: Record<TutorialModel, string> = {
  dense: 'dense 784-256-64-256-784 (sigmoid), MSE',
  'conv-bce': 'conv AE (32-pool-32-pool-32-up-32-up-1 sigmoid), BCE',
  'conv-mse': 'same conv AE, MSE (collapses in the reference)',
};

export interface TutorialOptions {
  models: TutorialModel[];
  seeds: number;
  epochs: number;
  idxFile: string;
  /** Draw new training noise every epoch (one realization per epoch) instead of once, as the Keras tutorial does. */
  noisePerEpoch?: boolean;
  /** Weight initialization: Keras defaults (the tutorial's; Glorot-uniform kernels, zero biases) or PyTorch defaults. */
  init?: TutorialInit;
}

export type TutorialInit = 'keras' | 'torch';

export function defaultIdxFile(): string {
  return path.join(sharedDir(), 'data', 'mnist', 't10k-images-idx3-ubyte.gz');
}

/** Seeded initializers: Keras' defaults (Glorot-uniform kernels, zero biases) or PyTorch's (U(±1/√fan_in) for both). */
function initializers(tf: Tf, init: TutorialInit, fanIn: number, seed: number) {
  if (init === 'keras') return { kernelInitializer: tf.initializers.glorotUniform({ seed }) };
  const b = 1 / Math.sqrt(fanIn);
  return { kernelInitializer: tf.initializers.randomUniform({ minval: -b, maxval: b, seed }), biasInitializer: tf.initializers.randomUniform({ minval: -b, maxval: b, seed: seed + 1 }) };
}

/** The tutorial's models with [28, 28, 1] input and output. */
export function buildTutorialModel(tf: Tf, kind: TutorialModel, seed: number, init: TutorialInit = 'keras'): TfModule.LayersModel {
  let s = seed * 100;
  const model = tf.sequential({ name: kind.replace('-', '_') });
  if (kind === 'dense') {
    model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
    let fanIn = 784;
    for (const [units, activation] of [[256, 'relu'], [64, 'relu'], [256, 'relu'], [784, 'sigmoid']] as const) {
      model.add(tf.layers.dense({ units, activation, ...initializers(tf, init, fanIn, (s += 2)) }));
      fanIn = units;
    }
    model.add(tf.layers.reshape({ targetShape: [28, 28, 1] }));
    return model;
  }
  const conv = (filters: number, inCh: number, activation: 'relu' | 'sigmoid', first = false) =>
    tf.layers.conv2d({
      filters, kernelSize: 3, padding: 'same', activation, ...initializers(tf, init, inCh * 9, (s += 2)), ...(first ? { inputShape: [28, 28, 1] } : {}),
    });
  model.add(conv(32, 1, 'relu', true));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  model.add(conv(32, 32, 'relu'));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  model.add(conv(32, 32, 'relu'));
  model.add(tf.layers.upSampling2d({ size: [2, 2] }));
  model.add(conv(32, 32, 'relu'));
  model.add(tf.layers.upSampling2d({ size: [2, 2] }));
  model.add(conv(1, 32, 'sigmoid'));
  return model;
}

/**
 * The tutorial's data: first 9,000 digits train, last 1,000 test, noise drawn once per digit
 * (or, with `trainRealizations` > 1, that many training draws: epoch e uses draw e mod n).
 */
export function tutorialData(idxFile: string, seed = 0, trainRealizations = 1): { train: TrainSplit; test: TrainSplit } {
  const set = loadIdxImages(idxFile);
  if (set.count < 10000) throw new Error(`${idxFile} has ${set.count} images; the tutorial split needs 10,000`);
  const pix = 784;
  const noise = { type: 'gaussian' as const, sigma: 127.5, clip: true, realizations: 1 };
  const part = (from: number, n: number, realizations: number): TrainSplit => {
    const clean = set.images.slice(from * pix, (from + n) * pix);
    const noisy = new Float32Array(realizations * n * pix);
    for (let r = 0; r < realizations; r++) {
      for (let i = 0; i < n; i++) {
        // Realization 0 is the same draw whatever the count, so the test split never changes.
        const rng = r === 0 ? forkRng(seed, 'tutorial-noise', from + i) : forkRng(seed, 'tutorial-noise', from + i, r);
        noisy.set(applyNoise(noise, clean.subarray(i * pix, (i + 1) * pix), rng), (r * n + i) * pix);
      }
    }
    return { inputs: [{ data: noisy, shape: [28, 28, 1] }], target: { data: clean, shape: [28, 28, 1] }, count: n, realizations };
  };
  return { train: part(0, 9000, trainRealizations), test: part(9000, 1000, 1) };
}

export interface TutorialRun {
  model: TutorialModel;
  seed: number;
  testMse: number;
  testPsnr: number;
  outputStd: number;
  collapsed: boolean;
  samplesPerSecond: number;
  trainSeconds: number;
  lossCurve: number[];
}

function quality(out: Float32Array, split: TrainSplit): { mse: number; psnr: number; std: number } {
  const pix = 784;
  let p = 0;
  for (let i = 0; i < split.count; i++) p += psnr(out.subarray(i * pix, (i + 1) * pix), split.target.data.subarray(i * pix, (i + 1) * pix));
  const mean = out.reduce((a, v) => a + v, 0) / out.length;
  const std = Math.sqrt(out.reduce((a, v) => a + (v - mean) ** 2, 0) / out.length);
  return { mse: mse(out, split.target.data), psnr: p / split.count, std };
}

/** Trains every model × seed and measures test MSE/PSNR and training throughput. */
export async function runTutorialBench(opts: TutorialOptions): Promise<Record<string, unknown>> {
  const rt = await initTf();
  const { tf } = rt;
  const { train, test } = tutorialData(opts.idxFile, 0, opts.noisePerEpoch ? opts.epochs : 1);
  const noisyQ = quality(test.inputs[0].data, test);
  const runs: TutorialRun[] = [];
  for (const kind of opts.models) {
    for (let seed = 0; seed < opts.seeds; seed++) {
      const model = buildTutorialModel(tf, kind, seed + 1, opts.init ?? 'keras');
      const cfg = { loss: kind === 'conv-bce' ? 'bce' : 'mse', optimizer: 'adam', lr: 1e-3, batch_size: 128, epochs: opts.epochs } as const;
      const r = await fit(tf, model, train, null, cfg, { seed: seed + 1, label: `${kind} seed ${seed + 1} epoch`, progress: terminalProgress });
      const out = predictRows(tf, model, test.inputs, test.count, false);
      const q = quality(out, test);
      const trainSeconds = r.history.reduce((a, e) => a + e.seconds, 0);
      runs.push({
        model: kind, seed: seed + 1, testMse: q.mse, testPsnr: q.psnr, outputStd: q.std, collapsed: q.std < 1e-3,
        samplesPerSecond: (train.count * r.history.length) / trainSeconds, trainSeconds, lossCurve: r.history.map((e) => e.loss),
      });
      model.dispose();
    }
  }
  const summary = opts.models.map((kind) => {
    const rs = runs.filter((r) => r.model === kind);
    const mean = (f: (r: TutorialRun) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    const m = mean((r) => r.testMse);
    const sd = Math.sqrt(rs.reduce((a, r) => a + (r.testMse - m) ** 2, 0) / Math.max(rs.length - 1, 1));
    const ref = REFERENCE[kind];
    return {
      model: kind, description: DESCRIPTIONS[kind], seeds: rs.length, testMse: m, testMseStd: rs.length > 1 ? sd : null,
      testPsnr: mean((r) => r.testPsnr), samplesPerSecond: mean((r) => r.samplesPerSecond), collapsed: rs.filter((r) => r.collapsed).length,
      reference: ref, mseVsReference: m / ref.mse - 1, withinTenPercent: Math.abs(m / ref.mse - 1) <= 0.1,
    };
  });
  const report = {
    bench: 'tutorial-autoencoders',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', load: os.loadavg(), node: process.version },
    backend: rt.description,
    data: {
      idx: opts.idxFile, train: train.count, test: test.count,
      noise: `x + 0.5·N(0,1), clipped to [0,1], ${opts.noisePerEpoch ? 'drawn anew every epoch' : 'drawn once'}`,
    },
    training: {
      optimizer: 'adam', lr: 1e-3, batch: 128, epochs: opts.epochs,
      init: (opts.init ?? 'keras') === 'keras' ? 'Keras defaults (Glorot-uniform kernels, zero biases)' : 'PyTorch defaults (U(±1/√fan_in))',
    },
    noisy: { testMse: noisyQ.mse, testPsnr: noisyQ.psnr, reference: REFERENCE.noisy },
    summary,
    runs,
  };
  writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'tutorial-autoencoders.json'), report);
  return report;
}

export function formatTutorialBench(r: Record<string, unknown>): string {
  const s = r.summary as Array<Record<string, unknown> & { reference: { mse: number; mseStd: number; psnr: number; samplesPerSecond: number } }>;
  const noisy = r.noisy as { testMse: number; testPsnr: number };
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
  const rows = [
    ['model', 'test MSE (onnxtune)', 'test MSE (PyTorch ref)', 'Δ MSE', 'PSNR dB ours / ref', 'train samples/s ours / ref', 'note'],
    ['noisy input', noisy.testMse.toFixed(4), REFERENCE.noisy.mse.toFixed(4), '', `${noisy.testPsnr.toFixed(2)} / ${REFERENCE.noisy.psnr}`, '', ''],
    ...s.map((x) => [
      x.description as string,
      `${(x.testMse as number).toFixed(4)}${x.testMseStd !== null ? ` ± ${(x.testMseStd as number).toFixed(4)}` : ''} (${x.seeds} seed${x.seeds === 1 ? '' : 's'})`,
      `${x.reference.mse.toFixed(4)} ± ${x.reference.mseStd.toFixed(4)}`,
      pct(x.mseVsReference as number),
      `${(x.testPsnr as number).toFixed(2)} / ${x.reference.psnr}`,
      `${Math.round(x.samplesPerSecond as number)} / ${x.reference.samplesPerSecond}`,
      (x.collapsed as number) > 0 ? `collapsed in ${x.collapsed as number} run(s)` : x.withinTenPercent ? 'within 10%' : 'NOT within 10%',
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => v.padEnd(widths[c])).join(' | ');
  const t = r.training as { epochs: number };
  const d = r.data as { noise: string };
  return [
    `tutorial autoencoders: MNIST t10k (9,000 train / 1,000 test), noise ${d.noise}, Adam 1e-3, batch 128, ${t.epochs} epochs, ` +
      `${(r.training as { init: string }).init} init; TF.js ${String(r.backend)}`,
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.slice(1).map(line),
  ].join('\n');
}

function parseArgs(argv: string[]): TutorialOptions {
  const opts: TutorialOptions = { models: ['dense', 'conv-bce'], seeds: 1, epochs: 20, idxFile: defaultIdxFile() };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--models' && v) {
      opts.models = v.split(',') as TutorialModel[];
      const bad = opts.models.filter((m) => !TUTORIAL_MODELS.includes(m));
      if (bad.length) throw new Error(`unknown model(s) ${bad.join(', ')}; models: ${TUTORIAL_MODELS.join(', ')}`);
    } else if (k === '--seeds' && v) opts.seeds = Number(v);
    else if (k === '--epochs' && v) opts.epochs = Number(v);
    else if (k === '--idx' && v) opts.idxFile = v;
    else if (k === '--init' && (v === 'keras' || v === 'torch')) opts.init = v;
    else if (k === '--noise-per-epoch') {
      opts.noisePerEpoch = true;
      continue;
    } else throw new Error(`unknown argument ${k}; expected --models, --seeds, --epochs, --idx, --init keras|torch or --noise-per-epoch`);
    i += 1;
  }
  return opts;
}

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.idxFile)) {
    process.stdout.write(`skipped: ${opts.idxFile} not found (the MNIST t10k idx file; set ONNXTUNE_SHARED_DIR or pass --idx)\n`);
  } else {
    runTutorialBench(opts).then(
      (r) => process.stdout.write(formatTutorialBench(r) + '\n'),
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  }
}
