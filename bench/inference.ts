/**
 * Benchmark: onnxruntime-node inference time of exported denoisers next to the DnCNN reference
 * (../shared/models/dncnn_25.onnx, skipped when absent) at 256×256 and 512×512: best-of-N ms per
 * image, MPix/s, speed relative to DnCNN at the same size, and the peak RSS of each model, measured
 * in its own child process. Writes bench/results/inference.json.
 *   node dist/bench/inference.js [model.onnx ...] [--repeats 5] [--threads 2] [--sizes 256,512] [--timeout 600]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDenoiser } from '../src/inference/onnx-denoiser';
import { writeJsonAtomic } from '../src/io/atomic';
import { forkRng } from '../src/random';
import { PROJECT_ROOT } from '../src/version';
import { ArgCursor, sharedDir } from './cli';
import { emitResult, peakRss, runWorker } from './child-process';

export interface InferenceResult {
  model: string;
  size: string;
  msBest: number;
  msMedian: number;
  megapixelsPerSecond: number;
  /** Peak RSS of the process that ran this model (one child process per model), MB. */
  peakRssMb?: number;
  /** DnCNN's best ms / this model's best ms at the same size (> 1: faster than DnCNN). */
  speedVsDncnn?: number;
}

/** One model's child process. */
export interface InferenceModelRun {
  model: string;
  file: string;
  ok: boolean;
  reason?: string;
  peakRssMb?: number;
  rssSource?: string;
  wallSeconds?: number;
}

export interface InferenceReport {
  date: string;
  machine: { cpus: number; model?: string; load: { start: number[]; end: number[] } };
  repeats: number;
  threads: number;
  /** The DnCNN reference file when it was benchmarked. */
  reference?: string;
  models: InferenceModelRun[];
  rows: InferenceResult[];
  /** The largest per-model peak RSS (the earlier single-process field). */
  peakRssMb: number;
}

export interface InferenceBenchOptions {
  sizes: number[];
  repeats: number;
  /** Intra-op threads; 0 lets ORT decide. */
  threads: number;
  /** Wall-clock limit per model's child process, seconds. */
  timeout: number;
}

export const DEFAULT_INFERENCE_BENCH: Readonly<InferenceBenchOptions> = Object.freeze({ sizes: [256, 512], repeats: 5, threads: 0, timeout: 600 });

const MARKER = 'INFERENCE_BENCH_RESULT ';

/** The DnCNN reference under the shared folder ($ONNXTUNE_SHARED_DIR, else ../shared). */
export function dncnnReference(): string {
  return path.join(sharedDir(), 'models', 'dncnn_25.onnx');
}

/**
 * Exported denoisers under `runsRoot` (`<run>/export/*.onnx`); of files with the same name the
 * newest is kept, so repeated runs of one job count once.
 */
export function findExportedModels(runsRoot = path.join(PROJECT_ROOT, 'runs')): string[] {
  if (!fs.existsSync(runsRoot)) return [];
  const newest = new Map<string, { file: string; mtime: number }>();
  for (const run of fs.readdirSync(runsRoot).sort()) {
    const dir = path.join(runsRoot, run, 'export');
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!name.endsWith('.onnx')) continue;
      const file = path.join(dir, name);
      const mtime = fs.statSync(file).mtimeMs;
      const seen = newest.get(name);
      if (!seen || mtime > seen.mtime) newest.set(name, { file, mtime });
    }
  }
  return [...newest.values()].map((v) => v.file).sort();
}

/** Times every model in this process (the worker side; the bench runs it once per model in a child). */
export async function benchInference(models: string[], sizes = [256, 512], repeats = 5, threads = 0): Promise<InferenceResult[]> {
  const results: InferenceResult[] = [];
  for (const file of models) {
    const d = await openDenoiser(file, { device: 'cpu', threads: threads || undefined });
    try {
      for (const s of sizes) {
        const rng = forkRng(1, 'bench', s);
        const img = Float32Array.from({ length: s * s * d.channels }, () => rng.uniform());
        await d.run(img, s, s, { tile: s }); // warm-up
        const times: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          await d.run(img, s, s, { tile: s });
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        results.push({
          model: path.basename(file), size: `${s}×${s}`, msBest: times[0], msMedian: times[Math.floor(times.length / 2)],
          megapixelsPerSecond: (s * s) / 1e6 / (times[0] / 1000),
        });
      }
    } finally {
      await d.release();
    }
  }
  return results;
}

/** Adds each row's speed relative to the reference model's row of the same size. */
export function withDncnnRatios(rows: InferenceResult[], referenceName: string | undefined): InferenceResult[] {
  if (!referenceName) return rows;
  return rows.map((r) => {
    const ref = rows.find((x) => x.model === referenceName && x.size === r.size);
    return ref && r.model !== referenceName ? { ...r, speedVsDncnn: ref.msBest / r.msBest } : r;
  });
}

/**
 * Benchmarks each model in its own child process (so each peak RSS is that model's alone) and
 * writes bench/results/inference.json. `reference` (DnCNN) is benchmarked last when given.
 */
export function runInferenceBench(models: string[], reference: string | undefined, opts: Partial<InferenceBenchOptions> = {}): InferenceReport {
  const o: InferenceBenchOptions = { ...DEFAULT_INFERENCE_BENCH, ...opts };
  const all = reference ? [...models, reference] : [...models];
  const loadStart = os.loadavg();
  const runs: InferenceModelRun[] = [];
  let rows: InferenceResult[] = [];
  for (const file of all) {
    process.stderr.write(`inference: ${path.basename(file)} ...\n`);
    const args = ['--worker', file, '--repeats', String(o.repeats), '--threads', String(o.threads), '--sizes', o.sizes.join(',')];
    const r = runWorker<{ rows: InferenceResult[]; peakRssMb: number; rssSource: string }>(__filename, args, MARKER, { timeoutS: o.timeout });
    if (r.ok) {
      runs.push({ model: path.basename(file), file, ok: true, peakRssMb: r.value.peakRssMb, rssSource: r.value.rssSource, wallSeconds: r.wallSeconds });
      rows.push(...r.value.rows.map((row) => ({ ...row, peakRssMb: r.value.peakRssMb })));
    } else {
      runs.push({ model: path.basename(file), file, ok: false, reason: r.reason, wallSeconds: r.wallSeconds });
    }
  }
  rows = withDncnnRatios(rows, reference ? path.basename(reference) : undefined);
  const report: InferenceReport = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: { start: loadStart, end: os.loadavg() } },
    repeats: o.repeats,
    threads: o.threads,
    reference,
    models: runs,
    rows,
    peakRssMb: Math.max(0, ...runs.map((m) => m.peakRssMb ?? 0)),
  };
  writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'inference.json'), report);
  return report;
}

export function formatInference(report: InferenceReport): string {
  const ref = report.reference ? path.basename(report.reference) : undefined;
  const lines = ['| model | size | best ms | median ms | MPix/s | vs DnCNN | peak RSS |', '|---|---|---|---|---|---|---|'];
  for (const r of report.rows) {
    const vs = r.speedVsDncnn !== undefined ? `${r.speedVsDncnn.toFixed(2)}× faster` : r.model === ref ? 'reference' : '-';
    lines.push(
      `| ${r.model} | ${r.size} | ${r.msBest.toFixed(1)} | ${r.msMedian.toFixed(1)} | ${r.megapixelsPerSecond.toFixed(2)} | ${vs} | ` +
        `${r.peakRssMb === undefined ? '-' : `${r.peakRssMb.toFixed(0)} MB`} |`,
    );
  }
  for (const m of report.models.filter((x) => !x.ok)) lines.push(`| ${m.model} | failed: ${m.reason ?? '?'} | | | | | |`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  lines.push('', `peak RSS per model (own process each); load avg ${load(report.machine.load.start)} → ${load(report.machine.load.end)}`);
  return lines.join('\n');
}

function parseArgs(argv: string[]) {
  const models: string[] = [];
  const opts: Partial<InferenceBenchOptions> = {};
  let worker: string | undefined;
  const args = new ArgCursor(argv);
  for (let a = args.next(); a !== undefined; a = args.next()) {
    const num = () => args.number(a);
    if (a === '--repeats') opts.repeats = num();
    else if (a === '--threads') opts.threads = num();
    else if (a === '--timeout') opts.timeout = num();
    else if (a === '--sizes') opts.sizes = args.value(a).split(',').map(Number).filter((n) => n > 0);
    else if (a === '--worker') worker = args.value(a);
    else models.push(a);
  }
  return { models, opts, worker };
}

if (require.main === module) {
  const { models, opts, worker } = parseArgs(process.argv.slice(2));
  const fail = (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  if (worker) {
    const o = { ...DEFAULT_INFERENCE_BENCH, ...opts };
    benchInference([worker], o.sizes, o.repeats, o.threads).then((rows) => {
      const rss = peakRss();
      emitResult(MARKER, { rows, peakRssMb: rss.mb, rssSource: rss.source });
    }, fail);
  } else {
    const dncnn = dncnnReference();
    const reference = fs.existsSync(dncnn) ? dncnn : undefined;
    if (!reference) process.stderr.write(`DnCNN reference not found at ${dncnn}; benchmarking only the given models\n`);
    if (!models.length && !reference) {
      process.stderr.write('usage: node dist/bench/inference.js <exported.onnx ...> (e.g. runs/<job>/export/*.onnx)\n');
      process.exit(2);
    }
    const report = runInferenceBench(models, reference, opts);
    process.stdout.write(formatInference(report) + '\nwrote bench/results/inference.json\n');
  }
}
