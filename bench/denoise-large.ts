/**
 * Benchmark: `onnxtune denoise` on one large photo — a seeded 4000×3000 RGB JPEG made with sharp —
 * run as the real CLI (`node bin/onnxtune.js denoise MODEL img.jpg --out DIR`) in a child process:
 * its peak RSS (`/usr/bin/time -v`, else VmHWM read by a worker that runs the same `main` in-process)
 * against the 1.5 GB target, wall time, MPix/s, and a check that the output is there at the same
 * size. A second, small child process measures how far tiling moves the result: a seeded 512×512
 * image through the same model, whole vs tiled (default tiles 256/64/16, 128/32/15, and 256/32 without a margin for contrast), max abs against 1e-3.
 * Writes bench/results/denoise-large.json.
 *   node dist/bench/denoise-large.js [model.onnx] [--width 4000] [--height 3000] [--tile 256] [--overlap 64]
 *     [--color per-channel|luma] [--device cpu] [--limit-gb 1.5] [--quality 90] [--seed 1] [--timeout 3600]
 *     [--no-tiling-check] [--keep] [--rss auto|time|worker]
 * Model: the argument, else the newest runs/<run>/export/*.onnx, else a quick demo export (configs/mnist-dae.yaml,
 * one epoch) in a temporary folder.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { main as cliMain } from '../src/cli/main';
import { openDenoiser } from '../src/inference/onnx-denoiser';
import { writeJsonAtomic } from '../src/io/atomic';
import { forkRng } from '../src/random';
import { PROJECT_ROOT } from '../src/version';
import { DEFAULT_TILING } from '../src/denoise/tiling';
import { emitResult, lastMeaningfulLine, parseMarkedLine, peakRss, runWorker } from './child-process';
import { ArgCursor } from './cli';
import { findExportedModels } from './inference';

export interface DenoiseLargeOptions {
  /** The denoiser; omitted: the newest runs/<run>/export/*.onnx, else a quick demo export. */
  model?: string;
  width: number;
  height: number;
  /** Passed to the CLI as --tile / --overlap / --color; --device only when given. */
  tile: number;
  overlap: number;
  color: 'per-channel' | 'luma';
  device?: string;
  /** The peak-RSS target in GB (10^9 bytes). */
  limitGb: number;
  /** JPEG quality of the generated photo. */
  quality: number;
  seed: number;
  /** Wall-clock limit of the CLI child, seconds. */
  timeout: number;
  /** Also measure tiled vs untiled at 512×512 (its own child process). */
  tilingCheck: boolean;
  /** Keep the temporary folder (input, output, demo run). */
  keep: boolean;
  /** How peak RSS is read: `time` (`/usr/bin/time -v` around `node bin/onnxtune.js`), `worker` (VmHWM in a worker running the CLI's `main`), `auto`: time when present. */
  rss: 'auto' | 'time' | 'worker';
}

export const DEFAULT_DENOISE_LARGE: Readonly<DenoiseLargeOptions> = Object.freeze({
  width: 4000, height: 3000, tile: DEFAULT_TILING.tile, overlap: DEFAULT_TILING.overlap, color: 'per-channel' as const, limitGb: 1.5, quality: 90, seed: 1,
  timeout: 3600, tilingCheck: true, keep: false, rss: 'auto' as const,
});

/** The 512×512 tiled-vs-untiled measurement of one tiling. */
export interface TilingCheckRow {
  tile: number;
  overlap: number;
  margin: number;
  tiles: number;
  maxAbs: number;
  meanAbs: number;
}

export interface TilingCheck {
  size: number;
  channels: number;
  /** Max abs target. */
  limit: number;
  untiledSeconds: number;
  rows: TilingCheckRow[];
  pass: boolean;
}

export interface DenoiseLargeReport {
  date: string;
  machine: { cpus: number; model?: string; node: string; load: { start: number[]; end: number[] } };
  model: string;
  /** Where the model came from: the argument, runs/, or a demo export made for this run. */
  modelSource: 'argument' | 'runs' | 'demo-export';
  image: { width: number; height: number; channels: 3; megapixels: number; jpegBytes: number; quality: number; seed: number };
  command: string[];
  options: { tile: number; overlap: number; color: string; device?: string };
  ok: boolean;
  reason?: string;
  exitCode: number | null;
  /** Peak RSS of the CLI process, MiB, and where it was read. */
  peakRssMb?: number;
  rssSource?: 'time -v' | 'VmHWM' | 'maxRSS';
  limitGb: number;
  /** Peak RSS ≤ limit. */
  pass?: boolean;
  /** Wall time of the whole CLI process (start, model load, read, denoise, write), s. */
  wallSeconds: number;
  /** The CLI's own time for the image (read, denoise, write), s. */
  imageSeconds?: number;
  tiles?: number;
  megapixelsPerSecond?: number;
  output?: { file: string; width?: number; height?: number; channels?: number; bytes?: number; sameSize: boolean };
  tiling?: TilingCheck | { failed: string };
}

const WORKER_MARKER = 'DENOISE_LARGE_RESULT ';
const TILING_MARKER = 'DENOISE_TILING_RESULT ';

/** The newest exported model under `runsRoot` (`<run>/export/*.onnx`, by modification time), or undefined. */
export function newestExportedModel(runsRoot = path.join(PROJECT_ROOT, 'runs')): string | undefined {
  const all = findExportedModels(runsRoot).map((file) => ({ file, mtime: fs.statSync(file).mtimeMs }));
  all.sort((a, b) => b.mtime - a.mtime || a.file.localeCompare(b.file));
  return all[0]?.file;
}

/** What `/usr/bin/time -v` printed: peak RSS (kB), exit status and wall time, where present. */
export function parseTimeVerbose(stderr: string): { maxRssKb?: number; exitStatus?: number; wallSeconds?: number } {
  const num = (re: RegExp) => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : undefined;
  };
  const wall = /Elapsed \(wall clock\) time(?: \([^)]*\))?:\s*(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)\s*$/m.exec(stderr);
  return {
    maxRssKb: num(/Maximum resident set size \(kbytes\):\s*(\d+)/),
    exitStatus: num(/Exit status:\s*(\d+)/),
    wallSeconds: wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : undefined,
  };
}

/**
 * A seeded test picture in [0, 1], HWC with `channels` channels: smooth gradients that differ per
 * channel, a diagonal sinusoid, hard-edged rectangles and discs, and Gaussian noise σ = 15/255.
 */
export function structuredImage(width: number, height: number, channels: number, seed: number): Float32Array {
  const rng = forkRng(seed, 'bench', 'denoise-large', width, height, channels);
  const out = new Float32Array(width * height * channels);
  const shapes = Array.from({ length: 12 }, () => ({
    x: rng.uniform() * width, y: rng.uniform() * height, r: (0.03 + 0.1 * rng.uniform()) * Math.min(width, height),
    disc: rng.uniform() < 0.5, v: rng.uniform() - 0.5,
  }));
  const period = Math.max(16, Math.min(width, height) / 5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let base = 0.08 * Math.sin((2 * Math.PI * (x + 2 * y)) / period);
      for (const s of shapes) {
        const inside = s.disc ? (x - s.x) ** 2 + (y - s.y) ** 2 < s.r * s.r : Math.abs(x - s.x) < s.r && Math.abs(y - s.y) < 0.6 * s.r;
        if (inside) base += 0.3 * s.v;
      }
      for (let c = 0; c < channels; c++) {
        const g = 0.15 + 0.45 * ((c % 2 ? width - x : x) / width) + 0.2 * (((c + 1) % 3 ? y : height - y) / height);
        const v = g + base + rng.normal(0, 15 / 255);
        out[(y * width + x) * channels + c] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}

/** Writes the seeded RGB test photo as a JPEG; returns its size in bytes. */
export async function writeTestJpeg(file: string, width: number, height: number, seed: number, quality: number): Promise<number> {
  const img = structuredImage(width, height, 3, seed);
  const bytes = Buffer.alloc(img.length);
  for (let i = 0; i < img.length; i++) bytes[i] = Math.round(img[i] * 255);
  await sharp(bytes, { raw: { width, height, channels: 3 }, limitInputPixels: false }).jpeg({ quality }).toFile(file);
  return fs.statSync(file).size;
}

/** Tiled vs untiled at `size`×`size` in this process (the worker side of the tiling check). */
export async function measureTiling(model: string, size = 512, limit = 1e-3): Promise<TilingCheck> {
  const d = await openDenoiser(model, { device: 'cpu' });
  try {
    const image = structuredImage(size, size, d.channels, 1);
    const t0 = performance.now();
    const whole = await d.run(image, size, size, { tile: size });
    const untiledSeconds = (performance.now() - t0) / 1000;
    const rows: TilingCheckRow[] = [];
    // The defaults, a small tile, and the blend without a context margin (what tiling did before) for contrast.
    for (const [tile, overlap, margin] of [[DEFAULT_TILING.tile, DEFAULT_TILING.overlap, DEFAULT_TILING.margin], [128, 32, 15], [256, 32, 0]]) {
      const out = await d.run(image, size, size, { tile, overlap, margin });
      let maxAbs = 0;
      let sum = 0;
      for (let i = 0; i < out.length; i++) {
        const a = Math.abs(out[i] - whole[i]);
        sum += a;
        if (a > maxAbs) maxAbs = a;
      }
      rows.push({ tile, overlap, margin, tiles: d.lastTiles(), maxAbs, meanAbs: sum / out.length });
    }
    return { size, channels: d.channels, limit, untiledSeconds, rows, pass: rows[0].maxAbs <= limit }; // the default tiling is held to the limit; the others are for contrast
  } finally {
    await d.release();
  }
}

/** A quick demo export (configs/mnist-dae.yaml, one epoch, stages up to export) under `dir`. */
export async function demoExport(dir: string): Promise<string> {
  // Loaded only here: the pipeline pulls in TF.js, which the rest of this bench never needs.
  const { runJob } = await import('../pipeline/runner');
  const r = await runJob({ jobFile: path.join(PROJECT_ROOT, 'configs', 'mnist-dae.yaml'), overrides: ['train.epochs=1'], outDir: path.join(dir, 'demo-run'), until: 'export' });
  const exportDir = path.join(r.runDir, 'export');
  const file = fs.readdirSync(exportDir).find((f) => f.endsWith('.onnx'));
  if (!file) throw new Error(`${exportDir}: the demo export wrote no .onnx file`);
  return path.join(exportDir, file);
}

interface CliRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  peakRssKb?: number;
  rssSource?: 'time -v' | 'VmHWM' | 'maxRSS';
  timedOut: boolean;
}

/** Runs `node bin/onnxtune.js ...args` under `/usr/bin/time -v` when it is there, else through this script's CLI worker. */
function runCliMeasured(args: string[], timeoutS: number, rss: DenoiseLargeOptions['rss']): CliRun {
  const time = '/usr/bin/time';
  const haveTime = fs.existsSync(time) && spawnSync(time, ['-v', 'true'], { encoding: 'utf8' }).status === 0;
  if (rss === 'time' && !haveTime) throw new Error(`--rss time: ${time} -v does not run here`);
  const useTime = rss === 'time' || (rss === 'auto' && haveTime);
  const argv = useTime ? ['-v', process.execPath, path.join(PROJECT_ROOT, 'bin', 'onnxtune.js'), ...args] : [__filename, '--worker-cli', ...args];
  const t0 = performance.now();
  const child = spawnSync(useTime ? time : process.execPath, argv, { encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 256 * 1024 * 1024 });
  const wallSeconds = (performance.now() - t0) / 1000;
  const timedOut = (child.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const stdout = child.stdout ?? '';
  const stderr = child.stderr ?? '';
  if (useTime) {
    const t = parseTimeVerbose(stderr);
    return { exitCode: t.exitStatus ?? child.status, stdout, stderr, wallSeconds: t.wallSeconds ?? wallSeconds, peakRssKb: t.maxRssKb, rssSource: 'time -v', timedOut };
  }
  const w = parseMarkedLine<{ exitCode: number; peakRssMb: number; rssSource: 'VmHWM' | 'maxRSS' }>(stdout, WORKER_MARKER);
  return {
    exitCode: w?.exitCode ?? child.status,
    stdout: stdout.split('\n').filter((l) => !l.startsWith(WORKER_MARKER)).join('\n'),
    stderr, wallSeconds, peakRssKb: w ? w.peakRssMb * 1024 : undefined, rssSource: w?.rssSource, timedOut,
  };
}

/** Generates the photo, denoises it with the real CLI in a child process, checks the output and writes bench/results/denoise-large.json. */
export async function runDenoiseLargeBench(opts: Partial<DenoiseLargeOptions> = {}): Promise<DenoiseLargeReport> {
  const o: DenoiseLargeOptions = { ...DEFAULT_DENOISE_LARGE, ...opts };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-bench-denoise-large-'));
  try {
    let model = o.model;
    let modelSource: DenoiseLargeReport['modelSource'] = 'argument';
    if (!model) {
      model = newestExportedModel();
      modelSource = 'runs';
      if (!model) {
        process.stderr.write('denoise-large: no runs/<run>/export/*.onnx; making a quick demo export (configs/mnist-dae.yaml, 1 epoch) first ...\n');
        model = await demoExport(tmp);
        modelSource = 'demo-export';
      }
    }
    if (!fs.existsSync(model)) throw new Error(`${model}: no such model file`);
    model = path.resolve(model);

    const input = path.join(tmp, 'photo.jpg');
    process.stderr.write(`denoise-large: writing a seeded ${o.width}×${o.height} RGB JPEG ...\n`);
    const jpegBytes = await writeTestJpeg(input, o.width, o.height, o.seed, o.quality);
    const outDir = path.join(tmp, 'out');
    const args = ['denoise', model, input, '--out', outDir, '--tile', String(o.tile), '--overlap', String(o.overlap), '--color', o.color, '--json'];
    if (o.device) args.push('--device', o.device);

    const loadStart = os.loadavg();
    process.stderr.write(`denoise-large: onnxtune ${args.join(' ')} ...\n`);
    const run = runCliMeasured(args, o.timeout, o.rss);
    const megapixels = (o.width * o.height) / 1e6;
    const report: DenoiseLargeReport = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, load: { start: loadStart, end: os.loadavg() } },
      model,
      modelSource,
      image: { width: o.width, height: o.height, channels: 3, megapixels, jpegBytes, quality: o.quality, seed: o.seed },
      command: ['node', 'bin/onnxtune.js', ...args],
      options: { tile: o.tile, overlap: o.overlap, color: o.color, device: o.device },
      ok: false,
      exitCode: run.exitCode,
      limitGb: o.limitGb,
      wallSeconds: run.wallSeconds,
    };
    if (run.peakRssKb !== undefined) {
      report.peakRssMb = run.peakRssKb / 1024;
      report.rssSource = run.rssSource;
      report.pass = run.peakRssKb * 1024 <= o.limitGb * 1e9;
    }
    let done: Array<{ output: string; seconds: number; tiles: number }> = [];
    try {
      done = JSON.parse(run.stdout.trim() || '[]');
    } catch {
      done = [];
    }
    if (done[0]) {
      report.imageSeconds = done[0].seconds;
      report.tiles = done[0].tiles;
      report.megapixelsPerSecond = megapixels / done[0].seconds;
    }
    const outFile = path.join(outDir, 'photo.jpg');
    report.output = { file: outFile, sameSize: false };
    if (fs.existsSync(outFile)) {
      const meta = await sharp(outFile, { limitInputPixels: false }).metadata();
      report.output = { file: outFile, width: meta.width, height: meta.height, channels: meta.channels, bytes: fs.statSync(outFile).size, sameSize: meta.width === o.width && meta.height === o.height };
    }
    report.ok = run.exitCode === 0 && !run.timedOut && report.output.sameSize && report.peakRssMb !== undefined;
    if (!report.ok) {
      report.reason = run.timedOut
        ? `timed out after ${o.timeout} s`
        : run.exitCode !== 0
          ? `exit code ${run.exitCode}: ${lastMeaningfulLine(run.stderr)}`
          : !report.output.sameSize
            ? `output ${outFile} missing or not ${o.width}×${o.height}`
            : 'no peak RSS';
    }

    if (o.tilingCheck) {
      process.stderr.write('denoise-large: tiled vs untiled at 512×512 ...\n');
      const t = runWorker<TilingCheck>(__filename, ['--worker-tiling', model], TILING_MARKER, { timeoutS: o.timeout });
      report.tiling = t.ok ? t.value : { failed: t.reason };
    }
    report.machine.load.end = os.loadavg();
    writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'denoise-large.json'), report);
    return report;
  } finally {
    if (o.keep) process.stderr.write(`denoise-large: kept ${tmp}\n`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatDenoiseLarge(r: DenoiseLargeReport): string {
  const mb = (x?: number) => (x === undefined ? '-' : `${x.toFixed(0)} MiB (${((x * 1024 * 1024) / 1e9).toFixed(2)} GB)`);
  const verdict = r.pass === undefined ? 'unknown' : r.pass ? 'pass' : 'FAIL';
  const out = r.output;
  const lines = [
    `onnxtune denoise on a ${r.image.width}×${r.image.height} RGB JPEG (${r.image.megapixels.toFixed(1)} MPix, ${(r.image.jpegBytes / 1e6).toFixed(1)} MB), ` +
      `model ${path.basename(r.model)} (${r.modelSource}), tile ${r.options.tile}, overlap ${r.options.overlap}, --color ${r.options.color}`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| peak RSS (${r.rssSource ?? '-'}) | ${mb(r.peakRssMb)} | ≤ ${r.limitGb} GB: **${verdict}** |`,
    `| wall time, whole CLI process | ${r.wallSeconds.toFixed(1)} s | |`,
    `| image time (read, denoise, write) | ${r.imageSeconds === undefined ? '-' : `${r.imageSeconds.toFixed(1)} s`} | |`,
    `| throughput | ${r.megapixelsPerSecond === undefined ? '-' : `${r.megapixelsPerSecond.toFixed(3)} MPix/s`} | |`,
    `| model runs (tiles × channel passes) | ${r.tiles ?? '-'} | |`,
    `| output | ${out?.width ? `${out.width}×${out.height}×${out.channels}, ${((out.bytes ?? 0) / 1e6).toFixed(1)} MB` : 'missing'} | same size: ${out?.sameSize ? 'yes' : 'NO'} |`,
  ];
  if (r.tiling && 'rows' in r.tiling) {
    for (const [i, t] of r.tiling.rows.entries()) {
      lines.push(
        `| tiled ${t.tile}/${t.overlap}/${t.margin} (tile/overlap/margin) vs untiled, ${r.tiling.size}×${r.tiling.size}×${r.tiling.channels} (${t.tiles} tiles) | ` +
          `max abs ${t.maxAbs.toExponential(2)}, mean ${t.meanAbs.toExponential(2)} | ${i === 0 ? `≤ ${r.tiling.limit}: **${t.maxAbs <= r.tiling.limit ? 'pass' : 'FAIL'}**` : t.margin === 0 ? 'no margin, for contrast' : 'small tiles, for contrast'} |`,
      );
    }
  } else if (r.tiling) {
    lines.push(`| tiled vs untiled, 512×512 | failed: ${r.tiling.failed} | |`);
  }
  if (!r.ok) lines.push('', `run failed: ${r.reason ?? '?'}`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  lines.push('', `load avg ${load(r.machine.load.start)} → ${load(r.machine.load.end)}; ${r.machine.cpus} CPUs`);
  return lines.join('\n');
}

function parseArgs(argv: string[]): { opts: Partial<DenoiseLargeOptions>; worker?: 'cli' | 'tiling'; rest: string[] } {
  const opts: Partial<DenoiseLargeOptions> = {};
  if (argv[0] === '--worker-cli') return { opts, worker: 'cli', rest: argv.slice(1) };
  if (argv[0] === '--worker-tiling') return { opts, worker: 'tiling', rest: argv.slice(1) };
  const args = new ArgCursor(argv);
  for (let a = args.next(); a !== undefined; a = args.next()) {
    const num = () => args.number(a);
    if (a === '--width') opts.width = num();
    else if (a === '--height') opts.height = num();
    else if (a === '--tile') opts.tile = num();
    else if (a === '--overlap') opts.overlap = num();
    else if (a === '--limit-gb') opts.limitGb = num();
    else if (a === '--quality') opts.quality = num();
    else if (a === '--seed') opts.seed = num();
    else if (a === '--timeout') opts.timeout = num();
    else if (a === '--color') {
      const c = args.value(a);
      if (c !== 'per-channel' && c !== 'luma') throw new Error('--color takes per-channel or luma');
      opts.color = c;
    } else if (a === '--device') opts.device = args.value(a);
    else if (a === '--no-tiling-check') opts.tilingCheck = false;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--rss') {
      const v = args.value(a);
      if (v !== 'auto' && v !== 'time' && v !== 'worker') throw new Error('--rss takes auto, time or worker');
      opts.rss = v;
    }
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (opts.model) throw new Error(`one model only (got ${opts.model} and ${a})`);
    else opts.model = a;
  }
  return { opts, rest: [] };
}

if (require.main === module) {
  const fail = (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const { opts, worker, rest } = parsed;
  if (worker === 'cli') {
    // The CLI's own `main`, in this process, so that this process's peak RSS is the CLI's.
    cliMain(rest).then((exitCode) => {
      const rss = peakRss();
      emitResult(WORKER_MARKER, { exitCode, peakRssMb: rss.mb, rssSource: rss.source });
    }, fail);
  } else if (worker === 'tiling') {
    measureTiling(rest[0]).then((r) => emitResult(TILING_MARKER, r), fail);
  } else {
    runDenoiseLargeBench(opts).then((r) => {
      process.stdout.write(formatDenoiseLarge(r) + '\nwrote bench/results/denoise-large.json\n');
      if (!r.ok) process.exitCode = 1;
    }, fail);
  }
}
