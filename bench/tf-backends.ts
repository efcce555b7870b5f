/**
 * Decoder-training throughput (samples/s) on each TF.js backend that loads here. src/backends/tf.ts
 * loads one runtime per process, so every backend runs in its own child process (this file with
 * --worker and ONNXTUNE_TF_BACKEND=tensorflow|wasm|cpu). `tensorflow-onednn-off` is native TF with
 * TF_ENABLE_ONEDNN_OPTS=0, what src/backends/onednn-guard.ts sets on CPUs whose cache description
 * crashes oneDNN: the table gives its cost. Prints a table and writes bench/results/tf-backends.json.
 * Usage: node dist/bench/tf-backends.js [--seconds 8] [--batch 64]
 * [--backends tensorflow,tensorflow-onednn-off,wasm,cpu] [--timeout 300].
 */
import { buildDecoder } from '../pipeline/train/decoder';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTf, type Tf, type TfBackendName } from '../src/backends/tf';
import { PROJECT_ROOT } from '../src/version';
import { emitResult, peakRss, runWorker } from './child-process';
import { ArgCursor } from './cli';
import { setLogLevel } from '../src/log';

/** A backend, or native TF with oneDNN's custom ops off. */
export type TfBenchVariant = TfBackendName | 'tensorflow-onednn-off';

/** How each variant's child process is started. */
const VARIANTS: Readonly<Record<TfBenchVariant, { backend: TfBackendName; env: Record<string, string> }>> = Object.freeze({
  'tensorflow-gpu': { backend: 'tensorflow-gpu', env: {} },
  // As users get it: oneDNN on, unless the guard turned it off on this CPU.
  tensorflow: { backend: 'tensorflow', env: {} },
  'tensorflow-onednn-off': { backend: 'tensorflow', env: { TF_ENABLE_ONEDNN_OPTS: '0' } },
  wasm: { backend: 'wasm', env: {} },
  cpu: { backend: 'cpu', env: {} },
});

export interface TfBenchOptions {
  /** Timed training seconds per backend (after warm-up); at least one step always runs. */
  seconds: number;
  batch: number;
  backends: TfBenchVariant[];
  /** Wall-clock limit per child process, seconds. */
  timeout: number;
}

export interface TfBenchResult {
  /** The bench variant (a backend, or tensorflow-onednn-off). */
  variant: TfBenchVariant;
  backend: TfBackendName;
  available: boolean;
  /** Why the backend did not run (not installed, timed out, …). */
  reason?: string;
  description?: string;
  samplesPerSec?: number;
  msPerStep?: number;
  steps?: number;
  warmupSteps?: number;
  firstLoss?: number;
  lastLoss?: number;
  /** Peak resident set size of the backend's process, MB. */
  peakRssMb?: number;
}

export interface TfBenchReport {
  bench: 'tf-backends';
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  model: {
    name: string;
    params: number;
    inputs: number[][];
    output: number[];
    batch: number;
    loss: string;
    optimizer: string;
  };
  seconds: number;
  results: TfBenchResult[];
  /** samples/s with oneDNN's custom ops off ÷ on, when both ran. */
  oneDnnOffRatio?: number;
}

export const DEFAULT_TF_BENCH: TfBenchOptions = Object.freeze({
  seconds: 8,
  batch: 64,
  backends: ['tensorflow', 'tensorflow-onednn-off', 'wasm', 'cpu'] as TfBenchVariant[],
  timeout: 300,
});

const INPUTS: number[][] = [
  [7, 7, 64],
  [14, 14, 32],
  [28, 28, 1],
];
const OUTPUT = [28, 28, 1];
const MARKER = 'TF_BENCH_RESULT ';

/** The demo's decoder head (pipeline/train/decoder.ts with configs/mnist-dae.yaml's widths), 74k parameters. */
export function benchDecoder(tf: Tf): ReturnType<Tf['model']> {
  return buildDecoder(tf, [{ channels: 64, stride: 4 }, { channels: 32, stride: 2 }], 1,
    { type: 'unet', widths: [64, 32, 32], output: 'direct', activation: 'relu', dropout: 0 }, 1);
}

/** Child side: trains on the backend chosen by ONNXTUNE_TF_BACKEND and prints one result line. */
async function worker(seconds: number, batch: number): Promise<void> {
  setLogLevel('warn');
  const rt = await initTf();
  const { tf } = rt;
  const model = benchDecoder(tf);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  const xs = INPUTS.map((shape, i) => tf.randomUniform([batch, ...shape], 0, 1, 'float32', 11 + i));
  const ys = tf.randomUniform([batch, ...OUTPUT], 0, 1, 'float32', 21);
  const step = async (): Promise<number> => {
    const loss = await model.trainOnBatch(xs, ys);
    return Array.isArray(loss) ? loss[0] : loss;
  };
  // Warm-up: the first steps compile kernels / set up XNNPACK operators.
  const warmupSteps = 2;
  let firstLoss = NaN;
  const warmStart = Date.now();
  for (let i = 0; i < warmupSteps; i++) {
    const l = await step();
    if (i === 0) firstLoss = l;
    // A slow backend (pure-JS cpu) gets a single warm-up step.
    if (Date.now() - warmStart > seconds * 1000) break;
  }
  let steps = 0;
  let lastLoss = NaN;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  do {
    lastLoss = await step();
    steps += 1;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < seconds);
  const result: Omit<TfBenchResult, 'variant'> = {
    backend: rt.backend,
    available: true,
    description: rt.description,
    samplesPerSec: (steps * batch) / elapsed,
    msPerStep: (elapsed * 1000) / steps,
    steps,
    warmupSteps,
    firstLoss,
    lastLoss,
    peakRssMb: peakRss().mb,
  };
  emitResult(MARKER, { ...result, params: model.countParams() });
}

/** Parent side: one child per backend; returns the report and writes bench/results/tf-backends.json. */
export function runTfBackendsBench(opts: Partial<TfBenchOptions> = {}): TfBenchReport {
  const o: TfBenchOptions = { ...DEFAULT_TF_BENCH, ...opts };
  const results: TfBenchResult[] = [];
  let params = 0;
  for (const variant of o.backends) {
    const v = VARIANTS[variant];
    if (!v) throw new Error(`unknown backend '${variant}'; expected one of ${Object.keys(VARIANTS).join(', ')}`);
    process.stderr.write(`tf-backends: ${variant} ...\n`);
    const r = runWorker<TfBenchResult & { params: number }>(__filename, ['--worker', '--seconds', String(o.seconds), '--batch', String(o.batch)], MARKER, {
      timeoutS: o.timeout,
      env: { ...process.env, ONNXTUNE_TF_BACKEND: v.backend, ...v.env },
    });
    if (r.ok) {
      const { params: p, ...rest } = r.value;
      params = p;
      results.push({ ...rest, variant });
    } else {
      results.push({ variant, backend: v.backend, available: false, reason: r.reason });
    }
  }
  const speed = (name: TfBenchVariant) => results.find((r) => r.variant === name)?.samplesPerSec;
  const [on, off] = [speed('tensorflow'), speed('tensorflow-onednn-off')];
  const report: TfBenchReport = {
    bench: 'tf-backends',
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
    },
    model: {
      name: 'unet_head (7×7×64, 14×14×32, 28×28×1 → 28×28×1)',
      params,
      inputs: INPUTS,
      output: OUTPUT,
      batch: o.batch,
      loss: 'mse',
      optimizer: 'adam 1e-3',
    },
    seconds: o.seconds,
    results,
    oneDnnOffRatio: on && off ? off / on : undefined,
  };
  const out = path.join(PROJECT_ROOT, 'bench', 'results', 'tf-backends.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** The table printed by the CLI entry. */
export function formatTfBenchTable(report: TfBenchReport): string {
  const fastest = Math.max(...report.results.map((r) => r.samplesPerSec ?? 0));
  const rows = report.results.map((r) =>
    r.available
      ? [
          r.variant,
          (r.samplesPerSec ?? 0).toFixed(1),
          (r.msPerStep ?? 0).toFixed(0),
          String(r.steps),
          fastest ? `${((r.samplesPerSec ?? 0) / fastest).toFixed(2)}×` : '-',
          r.peakRssMb === undefined ? '-' : `${r.peakRssMb.toFixed(0)} MB`,
          r.description ?? '',
        ]
      : [r.variant, '-', '-', '-', '-', '-', `unavailable: ${r.reason ?? '?'}`],
  );
  const head = ['backend', 'samples/s', 'ms/step', 'steps', 'vs best', 'peak RSS', 'runtime'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [
    `decoder training, ${report.model.params} params, batch ${report.model.batch}, ` +
      `${report.machine.cpus} CPU(s) ${report.machine.cpuModel}`,
    fmt(head),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map(fmt),
    ...(report.oneDnnOffRatio === undefined
      ? []
      : [`oneDNN custom ops off (TF_ENABLE_ONEDNN_OPTS=0) trains at ${report.oneDnnOffRatio.toFixed(2)}× the speed of on`]),
  ].join('\n');
}

function parseArgs(argv: string[]): { worker: boolean; opts: Partial<TfBenchOptions> } {
  const opts: Partial<TfBenchOptions> = {};
  let isWorker = false;
  const args = new ArgCursor(argv);
  for (let a = args.next(); a !== undefined; a = args.next()) {
    if (a === '--worker') isWorker = true;
    else if (a === '--seconds') opts.seconds = args.number(a);
    else if (a === '--batch') opts.batch = args.number(a);
    else if (a === '--timeout') opts.timeout = args.number(a);
    else if (a === '--backends') opts.backends = args.value(a).split(',') as TfBenchVariant[];
    else throw new Error(`unknown argument ${a}; expected --seconds, --batch, --backends, --timeout`);
  }
  return { worker: isWorker, opts };
}

if (require.main === module) {
  const { worker: isWorker, opts } = parseArgs(process.argv.slice(2));
  if (isWorker) {
    const seconds = opts.seconds ?? DEFAULT_TF_BENCH.seconds;
    worker(seconds, opts.batch ?? DEFAULT_TF_BENCH.batch).catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
  } else {
    const report = runTfBackendsBench(opts);
    process.stdout.write(formatTfBenchTable(report) + '\n');
    process.stdout.write(`wrote ${path.join(PROJECT_ROOT, 'bench', 'results', 'tf-backends.json')}\n`);
  }
}
