/**
 * Benchmark: fp32 vs fp16 vs static int8 (QDQ) of the same model in onnxruntime-node (1 and 2
 * threads) and onnxruntime-web wasm in headless Chromium, at 256² and 512². The three variants run
 * interleaved (fp32, fp16, int8, fp32, …) in one process so machine load hits them alike (with a pause before each
 * multi-threaded run, see {@link SPIN_PAUSE_MS}); medians
 * of `--repeats` runs, ratios fp32/x, model bytes, and the int8 output difference: web vs node
 * (same model) and int8 vs fp32 (node). Writes bench/results/quantize.json.
 *   node dist/bench/quantize.js [model.onnx ...] [--calibrate DIR] [--sigma 25] [--sizes 256,512] [--threads 1,2]
 *     [--repeats 7] [--method percentile|minmax|entropy] [--keep-float none|output-convs|image-convs] [--no-int8-add] [--[no-]fold-upsample] [--no-web] [--out FILE]
 * Without models: ../shared/models/dncnn_25.onnx and the newest runs/*\/export/*.onnx.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertToFloat16 } from '../converters/fp16';
import { loadCalibrationFeeds, quantizeStatic, type CalibrationMethod, type KeepFloatPolicy } from '../converters/quantize-static';
import { createSession, type OrtSession } from '../src/backends/ort';
import { writeJsonAtomic } from '../src/io/atomic';
import { encodeModel, loadModel } from '../src/onnx/model-io';
import { forkRng } from '../src/random';
import { PROJECT_ROOT } from '../src/version';
import { ArgCursor, sharedDir } from './cli';
import { WEB_THREADS, webTimings, type WebTiming } from './quantize-web';

export const VARIANTS = ['fp32', 'fp16', 'int8'] as const;
export type Variant = (typeof VARIANTS)[number];

/**
 * Pause before each timed run with more than one intra-op thread. onnxruntime's worker threads spin for a while after
 * a run (intra_op.allow_spinning, on by default); interleaved, the previous session's spinning workers then compete
 * with the next session for the cores. Measured on 2 cores (gray-s25 fp32 / int8 at 256², 2 threads, three sessions
 * interleaved): no pause 100.9 / 51.4 ms, 20 ms 79.4 / 34.2, 100 ms 74.8 / 33.1, spinning off 74.9 / 31.6 — a
 * session running alone, as a user runs it, is what the pause measures.
 */
export const SPIN_PAUSE_MS = 100;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface QuantizeBenchRow {
  model: string;
  runtime: 'node' | 'web-wasm';
  threads: number;
  size: number;
  ms: Record<Variant, number>;
  /** fp32 ms / variant ms (> 1: faster than fp32). */
  speedup: { fp16: number; int8: number };
}

export interface QuantizeBenchReport {
  date: string;
  machine: { cpus: number; model?: string; load: { start: number[]; end: number[] }; note: string };
  repeats: number;
  calibration: { dir: string; sigma: number; method: CalibrationMethod; keepFloat: KeepFloatPolicy; quantizeAdd: boolean; foldUpsample?: boolean };
  models: Array<{
    model: string;
    bytes: Record<Variant, number>;
    int8VsFp32MaxAbs: number;
    webVsNodeInt8MaxAbs?: number;
    /** int8 in the page vs int8 in onnxruntime-node with the page's thread count, per size. */
    webVsNode?: Array<{ size: number; maxAbs: number; meanAbs: number; over1e3: number }>;
    int8Convs: number;
  }>;
  rows: QuantizeBenchRow[];
  web?: { ok: boolean; reason?: string };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** A noisy-looking test image: smooth gradient + seeded Gaussian noise σ 25/255, not clipped. */
export function benchImage(size: number, channels: number): Float32Array {
  const rng = forkRng(0, 'bench-quantize', size);
  const x = new Float32Array(channels * size * size);
  for (let i = 0; i < x.length; i++) {
    const p = i % (size * size);
    x[i] = 0.25 + 0.5 * (((p % size) + Math.floor(p / size)) / (2 * size)) + (25 / 255) * rng.normal();
  }
  return x;
}

async function nodeTimings(files: Record<Variant, string>, input: string, channels: number, sizes: number[], threads: number[], repeats: number) {
  const rows: Array<{ threads: number; size: number; ms: Record<Variant, number> }> = [];
  // Keyed `${threads}/${size}`: the int8 output of each thread count (a float op before a Q can round differently).
  const outputs = new Map<string, Record<Variant, Float32Array>>();
  for (const t of threads) {
    const sessions = {} as Record<Variant, OrtSession>;
    for (const v of VARIANTS) sessions[v] = await createSession(files[v], { device: 'cpu', threads: t, label: v });
    try {
      for (const size of sizes) {
        const feed = { [input]: { data: benchImage(size, channels), dims: [1, channels, size, size] } };
        const samples: Record<Variant, number[]> = { fp32: [], fp16: [], int8: [] };
        const last = {} as Record<Variant, Float32Array>;
        for (const v of VARIANTS) last[v] = Object.values(await sessions[v].run(feed))[0].data; // warm-up
        for (let r = 0; r < repeats; r++) {
          for (const v of VARIANTS) {
            if (t > 1) await pause(SPIN_PAUSE_MS);
            const t0 = performance.now();
            await sessions[v].run(feed);
            samples[v].push(performance.now() - t0);
          }
        }
        outputs.set(`${t}/${size}`, last);
        rows.push({ threads: t, size, ms: { fp32: median(samples.fp32), fp16: median(samples.fp16), int8: median(samples.int8) } });
        process.stdout.write(`  node ${t} thread(s) ${size}²: fp32 ${rows.at(-1)?.ms.fp32.toFixed(0)} ms, fp16 ${rows.at(-1)?.ms.fp16.toFixed(0)}, int8 ${rows.at(-1)?.ms.int8.toFixed(0)}\n`);
      }
    } finally {
      for (const v of VARIANTS) await sessions[v].release();
    }
  }
  return { rows, outputs };
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

function webVsNode(web: Float32Array, node: Float32Array, size: number) {
  let sum = 0;
  let over = 0;
  for (let i = 0; i < web.length; i++) {
    const d = Math.abs(web[i] - node[i]);
    sum += d;
    if (d > 1e-3) over++;
  }
  return { size, maxAbs: maxAbs(web, node), meanAbs: sum / web.length, over1e3: over };
}

function defaultModels(): string[] {
  const out: string[] = [];
  const dncnn = path.join(sharedDir(), 'models', 'dncnn_25.onnx');
  if (fs.existsSync(dncnn)) out.push(dncnn);
  const runs = path.join(PROJECT_ROOT, 'runs');
  const exports = fs.existsSync(runs)
    ? fs.readdirSync(runs).flatMap((j) => {
        const d = path.join(runs, j, 'export');
        return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.onnx')).map((f) => path.join(d, f)) : [];
      })
    : [];
  exports.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (exports.length) out.push(exports[0]);
  return out;
}

async function main(argv: string[]): Promise<void> {
  const args = new ArgCursor(argv);
  const models: string[] = [];
  let calibrate = path.join(sharedDir(), 'data', 'train400');
  let sigma = 25;
  let sizes = [256, 512];
  let threads = [1, 2];
  let repeats = 7;
  let method: CalibrationMethod = 'percentile';
  let keepFloat: KeepFloatPolicy = 'none';
  let web = true;
  let quantizeAdd = true;
  let foldUpsample: boolean | undefined;
  let out = path.join(PROJECT_ROOT, 'bench', 'results', 'quantize.json');
  for (let a = args.next(); a !== undefined; a = args.next()) {
    if (a === '--calibrate') calibrate = args.value(a);
    else if (a === '--sigma') sigma = args.number(a);
    else if (a === '--sizes') sizes = args.value(a).split(',').map(Number);
    else if (a === '--threads') threads = args.value(a).split(',').map(Number);
    else if (a === '--repeats') repeats = args.number(a);
    else if (a === '--method') method = args.value(a) as CalibrationMethod;
    else if (a === '--keep-float') keepFloat = args.value(a) as KeepFloatPolicy;
    else if (a === '--no-web') web = false;
    else if (a === '--int8-add') quantizeAdd = true;
    else if (a === '--no-int8-add') quantizeAdd = false;
    else if (a === '--fold-upsample') foldUpsample = true;
    else if (a === '--no-fold-upsample') foldUpsample = false;
    else if (a === '--out') out = args.value(a);
    else if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
    else models.push(a);
  }
  if (!models.length) models.push(...defaultModels());
  if (!models.length) throw new Error('no model: pass model.onnx files (../shared/models/dncnn_25.onnx is used when present)');
  const loadStart = os.loadavg();
  const report: QuantizeBenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: { start: loadStart, end: [] }, note: 'shared machine: other jobs ran alongside; compare ratios measured in one run, not absolute ms' },
    repeats,
    calibration: { dir: calibrate, sigma, method, keepFloat, quantizeAdd, foldUpsample },
    models: [],
    rows: [],
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-bench-q-'));
  try {
    for (const file of models) {
      const name = path.basename(file);
      const fp32 = loadModel(file);
      const input = fp32.graph?.input?.[0]?.name ?? 'input';
      const cdim = Number(fp32.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[1]?.dimValue ?? 1);
      const channels = cdim === 3 ? 3 : 1;
      const { feeds } = await loadCalibrationFeeds({ paths: [calibrate], inputName: input, channels, sigma, limit: 16 });
      const { model: int8, report: q } = await quantizeStatic(fp32, feeds, { method, keepFloat, quantizeAdd, foldUpsample });
      const files: Record<Variant, string> = { fp32: file, fp16: path.join(tmp, `${name}.fp16.onnx`), int8: path.join(tmp, `${name}.int8.onnx`) };
      fs.writeFileSync(files.fp16, encodeModel(convertToFloat16(fp32).model));
      fs.writeFileSync(files.int8, encodeModel(int8));
      const bytes = { fp32: fs.statSync(files.fp32).size, fp16: fs.statSync(files.fp16).size, int8: fs.statSync(files.int8).size };
      process.stdout.write(`${name}: ${q.quantized.length} int8 convs, ${bytes.fp32} → fp16 ${bytes.fp16} → int8 ${bytes.int8} bytes\n`);
      const node = await nodeTimings(files, input, channels, sizes, threads, repeats);
      const entry: QuantizeBenchReport['models'][number] = {
        model: name,
        bytes,
        int8Convs: q.quantized.length,
        int8VsFp32MaxAbs: Math.max(...[...node.outputs.values()].map((o) => maxAbs(o.fp32, o.int8))),
      };
      const nodeInt8 = (size: number) => (node.outputs.get(`${WEB_THREADS}/${size}`) ?? node.outputs.get(`${threads[0]}/${size}`) as Record<Variant, Float32Array>).int8;
      const speedup = (ms: Record<Variant, number>) => ({ fp16: ms.fp32 / ms.fp16, int8: ms.fp32 / ms.int8 });
      report.rows.push(...node.rows.map((r) => ({ model: name, runtime: 'node' as const, ...r, speedup: speedup(r.ms) })));
      if (web) {
        try {
          const w: WebTiming = await webTimings(files, input, channels, sizes, repeats, benchImage);
          report.rows.push(...w.rows.map((r) => ({ model: name, runtime: 'web-wasm' as const, ...r, speedup: speedup(r.ms) })));
          entry.webVsNode = sizes.map((size) => webVsNode(w.int8Outputs.get(size) as Float32Array, nodeInt8(size), size));
          entry.webVsNodeInt8MaxAbs = Math.max(...entry.webVsNode.map((d) => d.maxAbs));
          report.web = { ok: true };
        } catch (err) {
          report.web = { ok: false, reason: (err as Error).message.split('\n')[0] };
          process.stdout.write(`  web: skipped (${report.web.reason})\n`);
        }
      }
      report.models.push(entry);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  report.machine.load.end = os.loadavg();
  const lines = [
    `| model | runtime | threads | size | fp32 ms | fp16 ms | int8 ms | fp32/fp16 | fp32/int8 |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...report.rows.map((r) => `| ${r.model} | ${r.runtime} | ${r.threads} | ${r.size}² | ${r.ms.fp32.toFixed(0)} | ${r.ms.fp16.toFixed(0)} | ${r.ms.int8.toFixed(0)} | ${r.speedup.fp16.toFixed(2)}× | ${r.speedup.int8.toFixed(2)}× |`),
    '',
    ...report.models.map((m) => `${m.model}: bytes fp32 ${m.bytes.fp32}, fp16 ${m.bytes.fp16}, int8 ${m.bytes.int8}; int8 vs fp32 max abs ${m.int8VsFp32MaxAbs.toExponential(2)}` +
      (m.webVsNode ? `; int8 web vs node (${WEB_THREADS} thread): ${m.webVsNode.map((d) => `${d.size}² max abs ${d.maxAbs.toExponential(2)}, ${d.over1e3} values > 1e-3`).join('; ')}` : '')),
    `medians of ${repeats} interleaved runs; ${report.machine.note}; load ${loadStart.map((l) => l.toFixed(1)).join('/')} → ${report.machine.load.end.map((l) => l.toFixed(1)).join('/')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeJsonAtomic(out, report);
  process.stdout.write(`wrote ${out}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`bench quantize: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
