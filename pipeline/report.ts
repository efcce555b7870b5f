/**
 * `report.html`: one self-contained page per run (no scripts, no external files) with the
 * loss/PSNR/lr curves as inline SVG, the metrics table and the before/after grids as data URIs.
 * `buildReport` is pure; `writeRunReport(runDir)` gathers whatever stage outputs exist.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../src/io/atomic';
import type { EpochLog } from './train/callbacks';
import { readJsonl, type MetricsRecord } from './train/jsonl-logger';

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  /** Draw dots only (sparse per-epoch values) instead of a line. */
  dots?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round, readable tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks for a log axis: 1, 2, 5 × 10^k inside [lo, hi], or round linear values when fewer than two fit. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(6));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out.length >= 2 ? out : ticks(lo, hi, 4).filter((v) => v > 0);
}

const fmt = (v: number) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(1) : String(Number(v.toPrecision(4))));

/**
 * A line chart as an SVG string.
 * @param logY plot log10 of the values (losses spanning decades)
 */
export function lineChart(title: string, series: Series[], opts: { xLabel?: string; logY?: boolean; width?: number; height?: number } = {}): string {
  const W = opts.width ?? 560;
  const H = opts.height ?? 300;
  const m = { l: 64, r: 16, t: 44, b: 40 };
  const ty = (v: number) => (opts.logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!opts.logY || y > 0));
  if (!all.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="8" y="30">${esc(title)}: no data</text></svg>`;
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => ty(y));
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((ty(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`,
  ];
  for (const v of ticks(x0, x1, 6)) {
    parts.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#888"/>`);
    parts.push(`<text x="${px(v)}" y="${H - m.b + 16}" text-anchor="middle">${fmt(v)}</text>`);
  }
  for (const v of opts.logY ? logTicks(10 ** y0, 10 ** y1) : ticks(y0, y1, 5)) {
    const y = py(v);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  if (opts.xLabel) parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!opts.logY || y > 0));
    if (s.dots || pts.length === 1) {
      for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    if (!s.dots && pts.length > 1) {
      const d = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    }
    const lx = m.l + i * 140;
    parts.push(`<rect x="${lx}" y="24" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="33">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface ReportInput {
  title: string;
  history: EpochLog[];
  /** metrics.jsonl records (batch losses). */
  records?: MetricsRecord[];
  /** Rows of the metrics table: label → value. */
  tables: Array<{ caption: string; rows: Array<[string, CellValue]> }>;
  /** PNG images to embed, with captions. */
  images: Array<{ caption: string; png: Uint8Array }>;
  /** Warnings shown above everything else ("learned nothing", the trainer's first-epoch check). */
  notices?: string[];
}

type CellValue = string | number | boolean | null | undefined;
const cell = (v: CellValue) =>
  v === null || v === undefined ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : esc(String(v));

/** The report as one HTML string. */
export function buildReport(r: ReportInput): string {
  const batch = (r.records ?? []).filter((x) => x.event === 'batch' && typeof x.loss === 'number').map((x) => [x.step, x.loss as number] as [number, number]);
  const h = r.history;
  const lossSeries: Series[] = [];
  if (batch.length) lossSeries.push({ name: 'train loss (batch)', points: batch, color: '#9ecae1' });
  lossSeries.push({ name: 'train loss (epoch)', points: h.map((e) => [e.step, e.loss]), color: '#08519c', dots: h.length < 3 });
  if (h.some((e) => e.valLoss !== null)) lossSeries.push({ name: 'val loss', points: h.map((e) => [e.step, e.valLoss ?? NaN]), color: '#d94801', dots: h.length < 3 });
  const charts = [lineChart('Loss', lossSeries, { xLabel: 'step', logY: true })];
  if (h.some((e) => e.valPsnr !== null)) {
    charts.push(lineChart('Validation PSNR (dB)', [{ name: 'val PSNR', points: h.map((e) => [e.epoch, e.valPsnr ?? NaN]), color: '#238b45' }], { xLabel: 'epoch' }));
  }
  if (h.length) charts.push(lineChart('Learning rate (at epoch end)', [{ name: 'lr', points: h.map((e) => [e.epoch, e.lr]), color: '#6a51a3' }], { xLabel: 'epoch' }));
  const tables = r.tables
    .filter((t) => t.rows.length)
    .map((t) => `<table><caption>${esc(t.caption)}</caption>${t.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${cell(v)}</td></tr>`).join('')}</table>`);
  const epochTable = h.length
    ? `<table><caption>Epochs</caption><tr><th>epoch</th><th>step</th><th>loss</th><th>val loss</th><th>val PSNR</th><th>lr</th><th>samples/s</th></tr>` +
      h.map((e) => `<tr><td>${e.epoch}</td><td>${e.step}</td><td>${cell(e.loss)}</td><td>${cell(e.valLoss)}</td><td>${cell(e.valPsnr)}</td><td>${e.lr.toExponential(2)}</td><td>${cell(Math.round(e.samplesPerSecond))}</td></tr>`).join('') +
      '</table>'
    : '';
  const images = r.images.map((im) => `<figure><img alt="${esc(im.caption)}" src="data:image/png;base64,${Buffer.from(im.png).toString('base64')}"><figcaption>${esc(im.caption)}</figcaption></figure>`);
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(r.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 24px 12px 0;display:inline-table;vertical-align:top}',
    'th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}caption{font-weight:bold;text-align:left;padding:4px 0}figure{display:inline-block;margin:8px}',
    'img{image-rendering:pixelated;max-width:100%}svg{margin:8px 16px 8px 0}',
    '.notice{border:2px solid #cb181d;background:#fee0d2;padding:8px 12px;margin:8px 0;max-width:960px}</style></head><body>',
    `<h1>${esc(r.title)}</h1>`,
    ...(r.notices ?? []).map((n) => `<p class="notice">${esc(n)}</p>`),
    '<h2>Curves</h2>', ...charts,
    '<h2>Metrics</h2>', ...tables, epochTable,
    images.length ? '<h2>Before / after</h2>' : '', ...images,
    '</body></html>\n',
  ].join('\n');
}

const readIf = <T>(file: string): T | undefined => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined);

interface QualityRow { mse: number; psnr: number; ssim: number }

/**
 * Gathers the report of the stage folders given (any may be missing or unfinished).
 * @param dirs the train/evaluate/export/verify folders and the job name
 */
export function reportFromFolders(dirs: { title: string; train?: string; evaluate?: string; export?: string; verify?: string }): string {
  const history = (dirs.train && readIf<EpochLog[]>(path.join(dirs.train, 'history.json'))) || [];
  const metricsFile = dirs.train ? path.join(dirs.train, 'metrics.jsonl') : undefined;
  const records = metricsFile && fs.existsSync(metricsFile) ? readJsonl(metricsFile) : [];
  const summary = (dir?: string) => (dir ? readIf<{ summary: Record<string, unknown> }>(path.join(dir, 'run.json'))?.summary : undefined);
  const tables: ReportInput['tables'] = [];
  const ev = dirs.evaluate
    ? readIf<{ samples: number; noisy: QualityRow; denoised: QualityRow; learnedNothing?: boolean; outputVsInputMse?: number }>(path.join(dirs.evaluate, 'metrics.json'))
    : undefined;
  const notices: string[] = [];
  if (ev?.learnedNothing) {
    notices.push(
      `Learned nothing: the denoised output is (nearly) the noisy input (test PSNR ${ev.noisy.psnr.toFixed(2)} → ${ev.denoised.psnr.toFixed(2)} dB, ` +
        `output-vs-input MSE ${(ev.outputVsInputMse ?? NaN).toExponential(2)}).`,
    );
  }
  for (const e of history) if (e.warning) notices.push(`Training, epoch ${e.epoch}: ${e.warning}`);
  if (ev) {
    tables.push({
      caption: `Test split (${ev.samples} images)`,
      rows: [
        ['noisy MSE', ev.noisy.mse], ['noisy PSNR (dB)', ev.noisy.psnr], ['noisy SSIM', ev.noisy.ssim],
        ['denoised MSE', ev.denoised.mse], ['denoised PSNR (dB)', ev.denoised.psnr], ['denoised SSIM', ev.denoised.ssim],
        ...(ev.learnedNothing === undefined ? [] : [['learned nothing', ev.learnedNothing] as [string, CellValue]]),
      ],
    });
  }
  const tr = summary(dirs.train);
  if (tr) {
    const keys = ['backend', 'parameters', 'epochs', 'steps', 'bestEpoch', 'stoppedEarly', 'resumedFromStep', 'samplesPerSecond', 'collapsed', 'normalizedTaps', 'valNoisyPsnr'];
    tables.push({ caption: 'Training', rows: keys.filter((k) => k in tr).map((k) => [k, tr[k] as CellValue]) });
  }
  const ex = summary(dirs.export);
  if (ex) tables.push({ caption: 'Export', rows: ['file', 'bytes', 'nodes', 'parameters'].filter((k) => k in ex).map((k) => [k, ex[k] as CellValue]) });
  const ve = dirs.verify ? readIf<Record<string, unknown>>(path.join(dirs.verify, 'parity.json')) : undefined;
  if (ve) tables.push({ caption: 'Verify', rows: Object.entries(ve).filter(([, v]) => typeof v !== 'object').map(([k, v]) => [k, v as CellValue]) });
  const images: ReportInput['images'] = [];
  if (dirs.evaluate && fs.existsSync(path.join(dirs.evaluate, 'grid.png'))) {
    images.push({ caption: 'test split: clean | noisy | denoised (PSNR per tile)', png: fs.readFileSync(path.join(dirs.evaluate, 'grid.png')) });
  }
  const gridDir = dirs.train ? path.join(dirs.train, 'grids') : undefined;
  if (gridDir && fs.existsSync(gridDir)) {
    const files = fs.readdirSync(gridDir).filter((f) => f.endsWith('.png')).sort();
    // The first and the last epoch show what training changed; every grid is in train/grids/.
    for (const f of [...new Set([files[0], files[files.length - 1]])].filter(Boolean)) {
      images.push({ caption: `validation, ${f.replace('.png', '').replace('-', ' ')}`, png: fs.readFileSync(path.join(gridDir, f)) });
    }
  }
  return buildReport({ title: dirs.title, history, records, tables, images, notices });
}

/**
 * Writes `<runDir>/report.html` from the finished stage folders found there.
 * @returns the file written
 */
export function writeRunReport(runDir: string): string {
  const name = path.basename(runDir);
  const file = path.join(runDir, 'report.html');
  const at = (s: string) => (fs.existsSync(path.join(runDir, s, 'DONE')) ? path.join(runDir, s) : undefined);
  writeFileAtomic(file, reportFromFolders({ title: `onnxtune run ${name}`, train: at('train'), evaluate: at('evaluate'), export: at('export'), verify: at('verify') }));
  return file;
}
