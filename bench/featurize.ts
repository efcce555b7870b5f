/**
 * Benchmark: what the feature cache buys. In one run on the same seeded patches it measures
 *   featurize        frozen-encoder throughput in onnxruntime-node (MPix/s), the encoder cut at
 *                    its taps by the pipeline's own `encoder` stage and run by featurize's
 *                    `encodeImages`, batch 32;
 *   train-cached     decoder training steps on features computed once beforehand (read back
 *                    from .npy, as the train stage reads the featurize stage's cache);
 *   train-uncached   the same steps, each running the ORT encoder on its batch first;
 * each in its own child process (peak RSS per mode), and reports cache-on / cache-off and the
 * encoder's share of an uncached step. Writes bench/results/featurize.json.
 *   node dist/bench/featurize.js [--seconds 8] [--batch 32] [--images 256] [--encoder FILE --taps a,b
 *     [--size 40] [--channels 1] [--registry NAME]] [--decoder JSON] [--device cpu] [--timeout 300]
 */
import type * as TfModule from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encoderModelFile, readEncoderIo, type DatasetManifest, type EncoderIo } from '../pipeline/artifacts';
import { encoderStage } from '../pipeline/stages/encoder';
import { encodeImages, padForEncoder } from '../pipeline/stages/featurize';
import { buildDecoder } from '../pipeline/train/decoder';
import { makeLoss } from '../pipeline/train/losses';
import { batchOrder } from '../pipeline/train/loop';
import { TrainOptimizer } from '../pipeline/train/optimizers';
import { createSession } from '../src/backends/ort';
import type { Device } from '../src/backends/device';
import { initTf } from '../src/backends/tf';
import { NODE_PATHS } from '../src/config/node-paths';
import { decoderSchema, jobSchema, trainSchema } from '../src/config/schema';
import { writeJsonAtomic } from '../src/io/atomic';
import { readNpy, writeNpy } from '../src/io/npy';
import { setLogLevel } from '../src/log';
import { forkRng } from '../src/random';
import { gatherRows } from '../src/tensor/layout';
import { PROJECT_ROOT } from '../src/version';
import { emitResult, peakRss, runWorker } from './child-process';
import { ArgCursor, sharedDir } from './cli';
import type { z } from 'zod';

export type FeaturizeMode = 'featurize' | 'train-cached' | 'train-uncached';
export const FEATURIZE_MODES: readonly FeaturizeMode[] = Object.freeze(['featurize', 'train-cached', 'train-uncached']);

export interface FeaturizeBenchOptions {
  /** Timed seconds per mode (after warm-up); at least one step always runs. */
  seconds: number;
  batch: number;
  /** Patches in the seeded pool the steps cycle through (the cache holds their features). */
  images: number;
  /** Encoder ONNX file; omitted: the default (resnet20 from the shared folder, else the committed MNIST encoder). */
  encoder?: string;
  /** Taps to cut the encoder at (stage names or tensor names); needed with `encoder`. */
  taps?: string[];
  /** Patch side; default 40 for resnet20 and custom encoders, 28 for the MNIST encoder. */
  size?: number;
  /** Image channels of the patches (1: gray; the encoder stage repeats it to RGB when the encoder wants 3). */
  channels: 1 | 3;
  /** pretrained/registry.ts entry whose input normalization the encoder stage puts in front. */
  registry?: string;
  /** The `decoder:` block of the head trained in both training modes. */
  decoder: z.input<typeof decoderSchema>;
  device: Device;
  /** Wall-clock limit per child process, seconds. */
  timeout: number;
  seed: number;
}

export const DEFAULT_FEATURIZE_BENCH: Readonly<FeaturizeBenchOptions> = Object.freeze({
  seconds: 8,
  batch: 32,
  images: 256,
  channels: 1,
  decoder: { type: 'unet', widths: [64, 48, 32] } as z.input<typeof decoderSchema>,
  device: 'cpu',
  timeout: 300,
  seed: 1,
});

/** The encoder a run uses and why it was chosen. */
export interface EncoderChoice {
  file: string;
  taps: string[];
  size: number;
  registry?: string;
  why: string;
}

/**
 * The default encoder: the CIFAR ResNet-20 of the shared folder (taps layer1-3, 40×40 patches as in
 * configs/bsd68-resnet20-s25.yaml) when it is there, else the committed MNIST encoder (stage1, stage2, 28×28).
 */
export function defaultEncoder(shared = sharedDir()): EncoderChoice {
  const resnet = path.join(shared, 'models', 'resnet20_cifar10.onnx');
  const mnist = path.join(PROJECT_ROOT, 'pretrained', 'mnist-conv-ae', 'encoder.onnx');
  const fallback = (why: string): EncoderChoice => ({ file: mnist, taps: ['stage1', 'stage2'], size: 28, why });
  if (!fs.existsSync(shared)) return fallback(`no shared folder at ${shared} (set ONNXTUNE_SHARED_DIR); using the committed MNIST encoder`);
  if (!fs.existsSync(resnet)) return fallback(`${resnet} not found; using the committed MNIST encoder`);
  return {
    file: resnet, taps: ['layer1', 'layer2', 'layer3'], size: 40, registry: 'resnet20_cifar10',
    why: `shared folder ${shared} has models/resnet20_cifar10.onnx (the encoder of configs/bsd68-resnet20-s25.yaml)`,
  };
}

function chooseEncoder(o: FeaturizeBenchOptions): EncoderChoice {
  if (!o.encoder) {
    const d = defaultEncoder();
    return { ...d, size: o.size ?? d.size };
  }
  if (!o.taps?.length) throw new Error('--encoder needs --taps a,b (stage names or tensor names)');
  return { file: path.resolve(o.encoder), taps: o.taps, size: o.size ?? 40, registry: o.registry, why: 'given with --encoder' };
}

/** Result of one mode, measured in its own process. */
export interface FeaturizeModeResult {
  mode: FeaturizeMode;
  ok: boolean;
  /** Why the mode has no numbers (crashed, timed out). */
  reason?: string;
  /** Child process wall time including start-up and setup, seconds. */
  wallSeconds?: number;
  peakRssMb?: number;
  rssSource?: string;
  /** The ORT execution provider and/or TF.js runtime that ran it. */
  runtime?: string;
  /** Timed steps (batches) and their seconds. */
  steps?: number;
  seconds?: number;
  msPerStep?: number;
  // featurize
  megapixelsPerSecond?: number;
  imagesPerSecond?: number;
  /** The one pass over the whole pool that fills the cache (the stage's own batching), seconds. */
  cachePassSeconds?: number;
  cacheMb?: number;
  // training
  samplesPerSec?: number;
  /** Uncached: the encoder's part of a step (gather, pad, ORT run, NCHW↔NHWC). */
  encoderMsPerStep?: number;
  /** The decoder train step (tensors, forward, backward, Adam update, loss read back). */
  decoderMsPerStep?: number;
  params?: number;
  firstLoss?: number;
  lastLoss?: number;
}

export interface FeaturizeBenchReport {
  bench: 'featurize';
  date: string;
  machine: { cpus: number; cpuModel: string; totalMemMb: number; node: string; platform: string };
  /** os.loadavg() (1, 5, 15 min) before the first and after the last mode. */
  load: { start: number[]; end: number[] };
  encoder: {
    file: string;
    why: string;
    requestedTaps: string[];
    taps: EncoderIo['taps'];
    registry?: string;
    patch: [number, number, number];
  };
  decoder: z.output<typeof decoderSchema>;
  batch: number;
  images: number;
  seconds: number;
  device: Device;
  modes: FeaturizeModeResult[];
  ratios: {
    /** Training samples/s with the cache over without it. */
    cachedOverUncached?: number;
    /** The encoder's share of an uncached training step's time. */
    encoderShareOfUncachedStep?: number;
  };
  /** |first loss cached − first loss uncached|: the same weights on the same features give ~0 (1e-6 or so). */
  firstLossAbsDiff?: number;
}

const MARKER = 'FEATURIZE_BENCH_RESULT ';

/** The seeded patch pool: clean uniform [0,1] pixels and noisy = clean + (25/255)·N(0,1), NHWC. */
export function benchPatches(seed: number, n: number, size: number, channels: number): { clean: Float32Array; noisy: Float32Array } {
  const len = n * size * size * channels;
  const rc = forkRng(seed, 'featurize-bench', 'clean');
  const rn = forkRng(seed, 'featurize-bench', 'noise');
  const clean = new Float32Array(len);
  const noisy = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    clean[i] = rc.uniform();
    noisy[i] = clean[i] + (25 / 255) * rn.normal();
  }
  return { clean, noisy };
}

interface WorkerArgs {
  mode: FeaturizeMode;
  dir: string;
  cache: string;
  seconds: number;
  batch: number;
  images: number;
  size: number;
  channels: number;
  decoder: string;
  device: Device;
  seed: number;
}

const cacheFile = (cache: string, k: number) => path.join(cache, `tap${k}.npy`);

/** `featurize` mode: the encoder in ORT, batch by batch, then one pass over the pool written as the cache. */
async function featurizeWorker(a: WorkerArgs): Promise<FeaturizeModeResult> {
  const io = readEncoderIo(a.dir);
  const session = await createSession(encoderModelFile(a.dir), { device: a.device });
  try {
    const { noisy } = benchPatches(a.seed, a.images, a.size, a.channels);
    const padded = padForEncoder(io, noisy, a.images, a.size, a.size, a.channels);
    const rowPix = padded.height * padded.width * padded.channels;
    const batches = Math.floor(a.images / a.batch);
    const batchAt = (i: number) => {
      const start = (i % batches) * a.batch;
      return { ...padded, n: a.batch, data: padded.data.subarray(start * rowPix, (start + a.batch) * rowPix) };
    };
    for (let i = 0; i < 2; i++) await encodeImages(session, io, batchAt(i)); // warm-up
    let steps = 0;
    let elapsed = 0;
    const t0 = performance.now();
    do {
      await encodeImages(session, io, batchAt(steps));
      steps += 1;
      elapsed = (performance.now() - t0) / 1000;
    } while (elapsed < a.seconds);
    // The cache: one pass over the whole pool, written as the featurize stage writes it.
    const c0 = performance.now();
    const feats = await encodeImages(session, io, padded);
    const cachePassSeconds = (performance.now() - c0) / 1000;
    fs.mkdirSync(a.cache, { recursive: true });
    feats.forEach((f, k) => writeNpy(cacheFile(a.cache, k), [a.images, ...f.shape], f.data));
    const images = steps * a.batch;
    const rss = peakRss();
    return {
      mode: 'featurize', ok: true, runtime: `onnxruntime-node ${session.ep.toUpperCase()} EP`, steps, seconds: elapsed,
      msPerStep: (elapsed * 1000) / steps, imagesPerSecond: images / elapsed,
      megapixelsPerSecond: (images * padded.height * padded.width) / 1e6 / elapsed,
      cachePassSeconds, cacheMb: feats.reduce((s, f) => s + f.data.byteLength, 0) / 2 ** 20,
      peakRssMb: rss.mb, rssSource: rss.source,
    };
  } finally {
    await session.release();
  }
}

/** `train-cached` / `train-uncached`: the same decoder steps, with the features from the cache or from ORT per batch. */
async function trainWorker(a: WorkerArgs): Promise<FeaturizeModeResult> {
  const cached = a.mode === 'train-cached';
  const io = readEncoderIo(a.dir);
  const rt = await initTf({ device: a.device });
  const { tf } = rt;
  const { clean, noisy } = benchPatches(a.seed, a.images, a.size, a.channels);
  const rowPix = a.size * a.size * a.channels;
  const session = cached ? undefined : await createSession(encoderModelFile(a.dir), { device: a.device });
  try {
    const cache = cached
      ? io.taps.map((_, k) => {
          const arr = readNpy(cacheFile(a.cache, k));
          if (arr.dims[0] !== a.images) throw new Error(`${cacheFile(a.cache, k)} holds ${arr.dims[0]} rows, expected ${a.images}`);
          return { data: arr.data, shape: arr.dims.slice(1) as [number, number, number] };
        })
      : undefined;
    const model = buildDecoder(tf, io.taps, a.channels, JSON.parse(a.decoder) as z.input<typeof decoderSchema>, a.seed);
    const cfg = trainSchema.parse({ loss: 'mse', optimizer: 'adam', lr: 1e-3, batch_size: a.batch });
    const optimizer = new TrainOptimizer(tf, model, cfg);
    const loss = makeLoss(tf, cfg.loss, cfg);
    const batches = Math.floor(a.images / a.batch);
    let encoderMs = 0;
    let decoderMs = 0;
    const step = async (i: number): Promise<number> => {
      const order = batchOrder(a.seed, Math.floor(i / batches), a.images);
      const rows = order.slice((i % batches) * a.batch, (i % batches + 1) * a.batch);
      const e0 = performance.now();
      let taps: Array<{ data: Float32Array; shape: [number, number, number] }>;
      if (cache) {
        taps = cache; // gathered inside the train step below, as the train loop does
      } else if (session) {
        const imgs = gatherRows(noisy, rowPix, rows);
        taps = await encodeImages(session, io, padForEncoder(io, imgs, rows.length, a.size, a.size, a.channels));
      } else {
        throw new Error('train-uncached needs an onnxruntime session');
      }
      const d0 = performance.now();
      const cost = tf.tidy(() => {
        const xs = taps.map((t) => {
          const size = t.shape[0] * t.shape[1] * t.shape[2];
          return tf.tensor4d(cache ? gatherRows(t.data, size, rows) : t.data, [rows.length, ...t.shape]);
        });
        const image = tf.tensor4d(gatherRows(noisy, rowPix, rows), [rows.length, a.size, a.size, a.channels]);
        const y = tf.tensor4d(gatherRows(clean, rowPix, rows), [rows.length, a.size, a.size, a.channels]);
        return optimizer.step(() => loss(y, model.apply([...xs, image], { training: true }) as TfModule.Tensor));
      });
      const value = (await cost.data())[0];
      cost.dispose();
      const d1 = performance.now();
      encoderMs += d0 - e0;
      decoderMs += d1 - d0;
      return value;
    };
    const warmup = 2;
    let firstLoss = NaN;
    for (let i = 0; i < warmup; i++) {
      const l = await step(i);
      if (i === 0) firstLoss = l;
    }
    encoderMs = 0;
    decoderMs = 0;
    let steps = 0;
    let lastLoss = NaN;
    let elapsed = 0;
    const t0 = performance.now();
    do {
      lastLoss = await step(warmup + steps);
      steps += 1;
      elapsed = (performance.now() - t0) / 1000;
    } while (elapsed < a.seconds);
    optimizer.dispose();
    const rss = peakRss();
    return {
      mode: a.mode, ok: true,
      runtime: cached ? rt.description : `${rt.description} + onnxruntime-node ${session?.ep.toUpperCase()} EP`,
      steps, seconds: elapsed, msPerStep: (elapsed * 1000) / steps, samplesPerSec: (steps * a.batch) / elapsed,
      ...(cached ? {} : { encoderMsPerStep: encoderMs / steps }), decoderMsPerStep: decoderMs / steps,
      params: model.countParams(), firstLoss, lastLoss, peakRssMb: rss.mb, rssSource: rss.source,
    };
  } finally {
    await session?.release();
  }
}

/** Cuts the encoder at its taps with the pipeline's own `encoder` stage, into `dir` (encoder.onnx, io.json). */
async function prepareEncoder(choice: EncoderChoice, o: FeaturizeBenchOptions, work: string): Promise<EncoderIo> {
  const dataDir = path.join(work, 'data');
  const encDir = path.join(work, 'encoder');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(encDir, { recursive: true });
  // The encoder stage reads only the channel count and the training size from the manifest.
  const manifest: DatasetManifest = {
    source: 'featurize-bench', channels: o.channels, noise: null, seed: o.seed,
    splits: { train: [{ id: 'patches', count: o.images, height: choice.size, width: choice.size, realizations: 1 }], val: [], test: [] },
  };
  writeJsonAtomic(path.join(dataDir, 'dataset.json'), manifest);
  const job = jobSchema(PROJECT_ROOT, NODE_PATHS).parse({
    name: 'featurize-bench', seed: o.seed, device: o.device,
    data: { source: 'mnist', noise: { type: 'gaussian', sigma: 25 } },
    encoder: { onnx: choice.file, taps: choice.taps, ...(choice.registry ? { registry: choice.registry } : {}) },
    decoder: o.decoder,
  });
  await encoderStage.run({ job, runDir: work, outDir: encDir, workDir: path.join(work, 'work'), inputs: { data: dataDir } });
  return readEncoderIo(encDir);
}

/** Runs the three modes, each in its own child process; writes bench/results/featurize.json. */
export async function runFeaturizeBench(opts: Partial<FeaturizeBenchOptions> = {}): Promise<FeaturizeBenchReport> {
  const o: FeaturizeBenchOptions = { ...DEFAULT_FEATURIZE_BENCH, ...opts };
  if (!(o.batch >= 1) || !(o.seconds > 0)) throw new Error('--batch must be ≥ 1 and --seconds > 0');
  o.images = Math.max(o.images, o.batch);
  const decoder = decoderSchema.parse(o.decoder);
  const choice = chooseEncoder(o);
  process.stderr.write(`featurize: encoder ${choice.file} (taps ${choice.taps.join(', ')}): ${choice.why}\n`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-bench-featurize-'));
  const loadStart = os.loadavg();
  const modes: FeaturizeModeResult[] = [];
  let io: EncoderIo;
  try {
    io = await prepareEncoder(choice, o, work);
    for (const mode of FEATURIZE_MODES) {
      process.stderr.write(`featurize: ${mode} ...\n`);
      if (mode === 'train-cached' && !modes[0]?.ok) {
        modes.push({ mode, ok: false, reason: 'no feature cache: the featurize mode failed' });
        continue;
      }
      const args: WorkerArgs = {
        mode, dir: path.join(work, 'encoder'), cache: path.join(work, 'cache'), seconds: o.seconds, batch: o.batch,
        images: o.images, size: choice.size, channels: o.channels, decoder: JSON.stringify(decoder), device: o.device, seed: o.seed,
      };
      const r = runWorker<FeaturizeModeResult>(__filename, ['--worker', JSON.stringify(args)], MARKER, { timeoutS: o.timeout });
      modes.push(r.ok ? { ...r.value, wallSeconds: r.wallSeconds } : { mode, ok: false, reason: r.reason, wallSeconds: r.wallSeconds });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const get = (m: FeaturizeMode) => modes.find((r) => r.mode === m && r.ok);
  const cached = get('train-cached');
  const uncached = get('train-uncached');
  const report: FeaturizeBenchReport = {
    bench: 'featurize',
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', totalMemMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version, platform: `${process.platform}/${process.arch}`,
    },
    load: { start: loadStart, end: os.loadavg() },
    encoder: {
      file: choice.file, why: choice.why, requestedTaps: choice.taps, taps: io.taps, registry: choice.registry,
      patch: [choice.size, choice.size, o.channels],
    },
    decoder,
    batch: o.batch,
    images: o.images,
    seconds: o.seconds,
    device: o.device,
    modes,
    ratios: {
      cachedOverUncached: cached?.samplesPerSec && uncached?.samplesPerSec ? cached.samplesPerSec / uncached.samplesPerSec : undefined,
      encoderShareOfUncachedStep:
        uncached?.encoderMsPerStep !== undefined && uncached.decoderMsPerStep !== undefined
          ? uncached.encoderMsPerStep / (uncached.encoderMsPerStep + uncached.decoderMsPerStep)
          : undefined,
    },
    firstLossAbsDiff:
      cached?.firstLoss !== undefined && uncached?.firstLoss !== undefined ? Math.abs(cached.firstLoss - uncached.firstLoss) : undefined,
  };
  writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'featurize.json'), report);
  return report;
}

/** The table printed by the CLI entry. */
export function formatFeaturizeBench(r: FeaturizeBenchReport): string {
  const f = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
  const rows = r.modes.map((m) => {
    if (!m.ok) return [m.mode, '-', '-', '-', '-', `failed: ${m.reason ?? '?'}`];
    const thr = m.mode === 'featurize'
      ? `${f(m.megapixelsPerSecond, 3)} MPix/s (${f(m.imagesPerSecond, 0)} img/s)`
      : `${f(m.samplesPerSec, 1)} samples/s`;
    const note = m.mode === 'featurize'
      ? `cache ${f(m.cacheMb)} MB for ${r.images} patches (pass ${f(m.cachePassSeconds, 2)} s); ${m.runtime ?? ''}`
      : m.mode === 'train-uncached'
        ? `encoder ${f(m.encoderMsPerStep, 0)} + decoder ${f(m.decoderMsPerStep, 0)} ms; ${m.runtime ?? ''}`
        : `decoder ${f(m.decoderMsPerStep, 0)} ms; ${m.runtime ?? ''}`;
    return [m.mode, thr, f(m.msPerStep, 0), String(m.steps), `${f(m.peakRssMb, 0)} MB`, note];
  });
  const head = ['mode', 'throughput', 'ms/step', 'steps', 'peak RSS', 'notes'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const taps = r.encoder.taps.map((t) => `${t.stage ?? t.name} ${t.channels}ch/${t.stride}`).join(', ');
  const params = r.modes.find((m) => m.params)?.params;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const { cachedOverUncached: ratio, encoderShareOfUncachedStep: share } = r.ratios;
  return [
    `encoder ${path.basename(r.encoder.file)} (${taps}) — ${r.encoder.why}`,
    `patches ${r.encoder.patch.join('×')}, batch ${r.batch}, pool ${r.images}; decoder ${r.decoder.type} [${r.decoder.widths.join(',')}]` +
      `${params ? ` ${params} params` : ''}; ${r.machine.cpus} CPU(s) ${r.machine.cpuModel}; load avg ${load(r.load.start)} → ${load(r.load.end)}`,
    fmt(head),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map(fmt),
    `cache on / cache off: ${ratio === undefined ? '-' : `${ratio.toFixed(2)}×`} training samples/s; ` +
      `encoder share of an uncached step: ${share === undefined ? '-' : `${(share * 100).toFixed(0)}%`}` +
      (r.firstLossAbsDiff === undefined ? '' : `; first-step loss differs by ${r.firstLossAbsDiff.toExponential(1)} between the two (same weights, same features)`),
  ].join('\n');
}

function parseArgs(argv: string[]): { worker?: WorkerArgs; opts: Partial<FeaturizeBenchOptions> } {
  const opts: Partial<FeaturizeBenchOptions> = {};
  const args = new ArgCursor(argv);
  for (let a = args.next(); a !== undefined; a = args.next()) {
    const next = () => args.value(a);
    const num = () => args.number(a);
    if (a === '--worker') return { worker: JSON.parse(next()) as WorkerArgs, opts };
    else if (a === '--seconds') opts.seconds = num();
    else if (a === '--batch') opts.batch = num();
    else if (a === '--images') opts.images = num();
    else if (a === '--size') opts.size = num();
    else if (a === '--channels') opts.channels = num() === 3 ? 3 : 1;
    else if (a === '--timeout') opts.timeout = num();
    else if (a === '--seed') opts.seed = num();
    else if (a === '--encoder') opts.encoder = next();
    else if (a === '--taps') opts.taps = next().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--registry') opts.registry = next();
    else if (a === '--decoder') opts.decoder = JSON.parse(next()) as z.input<typeof decoderSchema>;
    else if (a === '--device') opts.device = next() as Device;
    else {
      throw new Error(
        `unknown argument ${a}; expected --seconds, --batch, --images, --encoder, --taps, --size, --channels, --registry, --decoder, --device, --timeout, --seed`,
      );
    }
  }
  return { opts };
}

if (require.main === module) {
  const fail = (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  try {
    const { worker, opts } = parseArgs(process.argv.slice(2));
    if (worker) {
      setLogLevel('warn');
      (worker.mode === 'featurize' ? featurizeWorker(worker) : trainWorker(worker)).then((r) => emitResult(MARKER, r), fail);
    } else {
      runFeaturizeBench(opts).then((report) => {
        process.stdout.write(formatFeaturizeBench(report) + '\nwrote bench/results/featurize.json\n');
      }, fail);
    }
  } catch (err) {
    fail(err);
  }
}
