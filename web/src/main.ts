/**
 * The demo page: load a model (the site's default or a dropped .onnx), pick a sample or drop an
 * image, add seeded Gaussian noise of σ or use the image as is, denoise tile by tile with
 * onnxruntime-web, and compare noisy | denoised with a split slider, PSNR and timing.
 * `window.__onnxtune` exposes state, the last input/output pixels and a benchmark for tests.
 */
import {
  ModelFormatError, addGaussianNoise, defaultSigma, denoiseImage, encodeInput, metadataRows,
  psnr, readDenoiserInfo, rgbaToPlanar, tilingFor, type DenoiserInfo, type Planar,
} from '../../src/denoise';
import { SAMPLES_INDEX_FILE, SITE_CONFIG_FILE, type SampleEntry, type SiteConfig } from './site-config';
import { setupFinetune } from './finetune';
import type { OnnxtuneHook } from './hook';
import type { TfBackendPreference } from './finetune-protocol';
import { byId } from './dom';
import { decodeImage, fetchImage, paint, type Rgba } from './image-io';
import { configureOrt, createPageSession, wasmThreads, type EpPreference, type PageSession } from './runtime';

declare global {
  interface Window {
    __onnxtune: OnnxtuneHook;
  }
}

const $ = byId;

const ui = {
  status: $('status'),
  modelName: $('model-name'),
  modelSize: $('model-size'),
  modelFile: $<HTMLInputElement>('model-file'),
  modelShipped: $<HTMLSelectElement>('model-shipped'),
  shippedRow: $('shipped-row'),
  modelDrop: $('model-drop'),
  modelMeta: $<HTMLTableElement>('model-meta'),
  modelAll: $<HTMLTableElement>('model-all'),
  modelWarnings: $('model-warnings'),
  sample: $<HTMLSelectElement>('sample'),
  imageFile: $<HTMLInputElement>('image-file'),
  imageDrop: $('image-drop'),
  modeAdd: $<HTMLInputElement>('mode-add'),
  modeNone: $<HTMLInputElement>('mode-none'),
  sigma: $<HTMLInputElement>('sigma'),
  sigmaRange: $<HTMLInputElement>('sigma-range'),
  clip: $<HTMLInputElement>('clip'),
  seed: $<HTMLInputElement>('seed'),
  tile: $<HTMLSelectElement>('tile'),
  overlap: $<HTMLInputElement>('overlap'),
  ensemble: $<HTMLSelectElement>('ensemble'),
  denoise: $<HTMLButtonElement>('denoise'),
  viewer: $('viewer'),
  compare: $('compare'),
  noisyCanvas: $<HTMLCanvasElement>('noisy-canvas'),
  denoisedCanvas: $<HTMLCanvasElement>('denoised-canvas'),
  divider: $('divider'),
  leftTag: $('left-tag'),
  rightTag: $('right-tag'),
  split: $<HTMLInputElement>('split'),
  leftNoisy: $<HTMLInputElement>('left-noisy'),
  leftClean: $<HTMLInputElement>('left-clean'),
  stats: $('stats'),
  download: $<HTMLAnchorElement>('download'),
};

interface Source {
  name: string;
  rgba: Rgba;
}

const params = new URLSearchParams(location.search);
const epPreference = (['auto', 'wasm', 'webgpu'].includes(params.get('ep') ?? '') ? params.get('ep') : 'auto') as EpPreference;
const threads = wasmThreads(params.has('threads') ? Number(params.get('threads')) : undefined);
const tfBackend = (['auto', 'webgl', 'wasm', 'cpu'].includes(params.get('tfbackend') ?? '') ? params.get('tfbackend') : 'auto') as TfBackendPreference;

let info: DenoiserInfo | null = null;
let session: PageSession | null = null;
/** The loaded model's bytes and name (the Fine-tune panel starts from them). */
let loaded: { bytes: Uint8Array; name: string } | null = null;
let source: Source | null = null;
/** The source's RGBA when it has any transparency (checked once per image), else null. */
let sourceAlpha: Uint8ClampedArray | null = null;
let samples: SampleEntry[] = [];
/** What the left half can show: the model input and, when known, the clean image. */
let view: { noisy: Planar; clean: Planar | null; sigma: number | null; alpha: Uint8ClampedArray | null } | null = null;

const hook: OnnxtuneHook = {
  state: 'loading',
  error: null,
  runs: 0,
  model: null,
  source: null,
  last: null,
  benchmark,
  finetune: null,
};
window.__onnxtune = hook;

function setStatus(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  ui.status.textContent = text;
  ui.status.className = `status ${kind === 'info' ? '' : kind}`;
}

function fail(err: unknown, what: string): void {
  const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
  hook.state = 'error';
  hook.error = msg;
  setStatus(msg, 'error');
  // The console line is what a developer looks for when the status line is not enough.
  console.error(msg, err);
}

const kib = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`);

function fillTable(table: HTMLTableElement, rows: Array<[string, string]>): void {
  table.replaceChildren(
    ...rows.map(([k, v]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = k;
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(th, td);
      return tr;
    }),
  );
}

function updateReady(): void {
  ui.denoise.disabled = !(session && source && hook.state !== 'busy');
  if (hook.state !== 'error' && hook.state !== 'busy') hook.state = session ? 'ready' : 'loading';
}

/** Reads, describes and opens a model; the old session is released only when the new one works. */
async function loadModel(bytes: Uint8Array, name: string): Promise<void> {
  hook.state = 'loading';
  setStatus(`Loading ${name}…`);
  let next: DenoiserInfo;
  try {
    next = readDenoiserInfo(bytes);
  } catch (err) {
    fail(err, err instanceof ModelFormatError ? `${name} cannot be used` : `${name} could not be read`);
    return;
  }
  let opened: PageSession;
  try {
    opened = await createPageSession(bytes, next, epPreference);
  } catch (err) {
    fail(err, `onnxruntime-web could not load ${name}`);
    return;
  }
  // One small run first: kernel setup and weight packing happen on the first call, and the
  // timings the page shows should be those of a warm session.
  try {
    const [h, w] = next.fixedSize ?? [64, 64];
    await opened.call(encodeInput(new Float32Array(next.channels * h * w), next.input.type), [1, next.channels, h, w]);
  } catch (err) {
    await opened.release();
    fail(err, `${name} fails on a ${next.fixedSize ? 'blank' : '64×64 blank'} image`);
    return;
  }
  await session?.release();
  session = opened;
  info = next;
  loaded = { bytes, name };
  hook.error = null;
  hook.state = 'ready';
  hook.model = { name, info, ep: opened.ep, threads: opened.threads, webgpuNote: opened.webgpuNote };
  ui.modelName.textContent = name;
  ui.modelSize.textContent = kib(bytes.length);
  const runtime = opened.ep === 'wasm' ? `wasm, ${opened.threads} thread${opened.threads > 1 ? 's' : ''}` : 'WebGPU';
  const why = opened.ep === 'wasm' && epPreference !== 'wasm' ? ` (${opened.webgpuNote})` : '';
  fillTable(ui.modelMeta, [...metadataRows(info), ['runs on', `onnxruntime-web, ${runtime}${why}`]]);
  fillTable(ui.modelAll, Object.entries(info.metadata));
  ui.modelWarnings.replaceChildren(...info.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
  const sigma = defaultSigma(info);
  ui.sigma.value = ui.sigmaRange.value = String(sigma);
  ui.clip.checked = info.noise?.clip ?? true;
  setStatus(`Model ready: ${name} on ${runtime}.`, 'ok');
  updateReady();
  preview();
}

async function loadModelUrl(url: string, name: string): Promise<void> {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    await loadModel(new Uint8Array(await res.arrayBuffer()), name);
  } catch (err) {
    fail(err, `could not fetch the model ${url}`);
  }
}

async function setSource(next: Source): Promise<void> {
  source = next;
  sourceAlpha = hasTransparency(next.rgba.data) ? next.rgba.data : null;
  hook.source = { name: next.name, width: next.rgba.width, height: next.rgba.height };
  updateReady();
  preview();
}

function currentSigma(): number {
  const v = Number(ui.sigma.value);
  return Number.isFinite(v) ? Math.min(255, Math.max(0, v)) : 0;
}

/** The model input of the current settings and the clean image it came from (when known). */
function makeInput(): { noisy: Planar; clean: Planar | null; sigma: number | null; alpha: Uint8ClampedArray | null } | null {
  if (!source) return null;
  const channels = info?.channels ?? 1;
  const clean = rgbaToPlanar(source.rgba.data, source.rgba.width, source.rgba.height, channels);
  // A transparent image keeps its alpha on both halves and in the download; the model sees the colour only.
  const alpha = sourceAlpha;
  if (!ui.modeAdd.checked) return { noisy: clean, clean: null, sigma: null, alpha };
  const sigma = currentSigma();
  const seed = Math.trunc(Number(ui.seed.value)) || 0;
  return { noisy: { ...clean, data: addGaussianNoise(clean.data, sigma, seed, ui.clip.checked) }, clean, sigma, alpha };
}

function hasTransparency(rgba: Uint8ClampedArray): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return true;
  return false;
}

/** Sizes the comparison so small images are enlarged with whole-pixel scaling. */
function layoutCompare(width: number, height: number): void {
  const avail = Math.max(200, ui.viewer.parentElement?.clientWidth ?? width);
  const scale = width < 512 ? Math.max(1, Math.min(Math.floor(512 / width), Math.floor(avail / width))) : 1;
  ui.viewer.style.width = `${Math.min(avail, width * scale)}px`;
  ui.compare.style.aspectRatio = `${width} / ${height}`;
  ui.compare.classList.toggle('pixelated', scale > 1);
}

function setSplit(percent: number): void {
  const p = Math.min(100, Math.max(0, percent));
  ui.split.value = String(p);
  ui.divider.style.left = `${p}%`;
  ui.denoisedCanvas.style.clipPath = `inset(0 0 0 ${p}%)`;
}

/** Paints the left half: the input, or the clean image when chosen and known. */
function paintLeft(): void {
  if (!view) return;
  ui.leftClean.disabled = !view.clean;
  const clean = ui.leftClean.checked && view.clean;
  paint(ui.noisyCanvas, clean || view.noisy, view.alpha ?? undefined);
  ui.leftTag.textContent = clean ? 'clean' : view.sigma === null ? 'input' : `noisy σ=${view.sigma}`;
}

/** Shows the noisy input on both halves, the right one greyed until Denoise runs. */
function preview(): void {
  const input = makeInput();
  if (!input) return;
  view = input;
  layoutCompare(input.noisy.width, input.noisy.height);
  paintLeft();
  paint(ui.denoisedCanvas, input.noisy, input.alpha ?? undefined);
  ui.compare.classList.add('stale');
  ui.rightTag.textContent = 'denoised (press Denoise)';
  ui.download.hidden = true;
}

function stat(label: string, value: string, note = '', good = false): HTMLElement {
  const div = document.createElement('div');
  if (good) div.className = 'good';
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  if (note) {
    const small = document.createElement('small');
    small.textContent = ` ${note}`;
    dd.append(small);
  }
  div.append(dt, dd);
  return div;
}

const db = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} dB` : '∞ dB');

async function runDenoise(): Promise<void> {
  if (!session || !info || !source || hook.state === 'busy') return;
  const input = makeInput();
  if (!input) return;
  hook.state = 'busy';
  updateReady();
  setStatus('Denoising…');
  try {
    // Let the status paint before the (synchronous-looking) wasm work starts.
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    const opts = { tile: Number(ui.tile.value), overlap: Math.max(0, Math.trunc(Number(ui.overlap.value)) || 0) };
    const views = Number(ui.ensemble.value) || 1;
    const result = await denoiseImage(input.noisy, info, session.call, { ...opts, ensemble: views, now: () => performance.now() });
    const { noisy, clean } = input;
    const psnrNoisy = clean ? psnr(noisy.data, clean.data) : null;
    const psnrDenoised = clean ? psnr(result.output.data, clean.data) : null;
    view = input;
    paintLeft();
    paint(ui.denoisedCanvas, result.output, input.alpha ?? undefined);
    ui.compare.classList.remove('stale');
    ui.rightTag.textContent = 'denoised';
    const s = session;
    const ep = s.ep === 'wasm' ? `wasm ×${s.threads}` : 'WebGPU';
    const tiling = tilingFor(info, noisy.height, noisy.width, opts);
    ui.stats.replaceChildren(
      ...(psnrNoisy !== null && psnrDenoised !== null
        ? [
            stat('PSNR noisy', db(psnrNoisy)),
            stat('PSNR denoised', db(psnrDenoised), `${psnrDenoised >= psnrNoisy ? '+' : ''}${(psnrDenoised - psnrNoisy).toFixed(2)} dB`, psnrDenoised > psnrNoisy),
          ]
        : [stat('PSNR', 'n/a', 'no clean image')]),
      stat('time', `${result.totalMs.toFixed(1)} ms`, `model ${result.modelMs.toFixed(1)} ms${views > 1 ? `, ${views} views` : ''}`),
      stat('tiles', String(result.tiles.length), result.tiles.length > 1 ? `${JSON.stringify(tiling.tile)} px, overlap ${tiling.overlap}, margin ${tiling.margin ?? 0}` : 'whole image'),
      stat('image', `${noisy.width}×${noisy.height}`, noisy.channels === 1 ? 'gray' : 'RGB'),
      stat('runtime', ep, info.input.type),
    );
    hook.last = {
      input: noisy.data,
      output: result.output.data,
      clean: clean?.data ?? null,
      dims: [1, noisy.channels, noisy.height, noisy.width],
      psnrNoisy,
      psnrDenoised,
      modelMs: result.modelMs,
      totalMs: result.totalMs,
      tiles: result.tiles.length,
      sigma: input.sigma,
    };
    ui.denoisedCanvas.toBlob((blob) => {
      if (!blob) return;
      if (ui.download.href) URL.revokeObjectURL(ui.download.href);
      ui.download.href = URL.createObjectURL(blob);
      ui.download.download = `${source?.name.replace(/\.[^.]+$/, '') ?? 'image'}-denoised.png`;
      ui.download.hidden = false;
    }, 'image/png');
    hook.runs += 1;
    hook.state = 'ready';
    setStatus(`Denoised ${source.name} in ${result.totalMs.toFixed(1)} ms.`, 'ok');
  } catch (err) {
    fail(err, 'denoise failed');
  } finally {
    updateReady();
  }
}

async function benchmark(n: number): Promise<Array<{ totalMs: number; modelMs: number }>> {
  if (!session || !info || !hook.last) throw new Error('benchmark needs a loaded model and one finished denoise');
  const [, c, h, w] = hook.last.dims;
  const image: Planar = { data: hook.last.input, channels: c, height: h, width: w };
  const times: Array<{ totalMs: number; modelMs: number }> = [];
  for (let i = 0; i < n; i++) {
    const r = await denoiseImage(image, info, session.call, { tile: Math.max(h, w), overlap: 0, now: () => performance.now() });
    times.push({ totalMs: r.totalMs, modelMs: r.modelMs });
  }
  return times;
}

function onDrop(zone: HTMLElement, handle: (file: File) => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) handle(file);
  });
}

async function openModelFile(file: File): Promise<void> {
  await loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
}

async function openImageFile(file: File): Promise<void> {
  try {
    await setSource({ name: file.name, rgba: await decodeImage(file) });
    ui.sample.value = '';
    setStatus(`Image ${file.name} loaded.`, 'ok');
  } catch (err) {
    fail(err, `${file.name} is not an image this browser can decode`);
  }
}

async function openSample(id: string): Promise<void> {
  const entry = samples.find((s) => s.id === id);
  if (!entry) return;
  try {
    await setSource({ name: `${entry.id}.png`, rgba: await fetchImage(entry.url) });
  } catch (err) {
    fail(err, `sample ${entry.label} failed to load`);
  }
}

function wire(): void {
  ui.modelFile.addEventListener('change', () => {
    const f = ui.modelFile.files?.[0];
    if (f) void openModelFile(f);
    ui.modelFile.value = '';
  });
  ui.imageFile.addEventListener('change', () => {
    const f = ui.imageFile.files?.[0];
    if (f) void openImageFile(f);
    ui.imageFile.value = '';
  });
  onDrop(ui.modelDrop, (f) => void openModelFile(f));
  onDrop(ui.imageDrop, (f) => void openImageFile(f));
  ui.sample.addEventListener('change', () => void openSample(ui.sample.value));
  ui.sigmaRange.addEventListener('input', () => {
    ui.sigma.value = ui.sigmaRange.value;
    ui.modeAdd.checked = true;
    preview();
  });
  ui.sigma.addEventListener('input', () => {
    ui.sigmaRange.value = String(currentSigma());
    ui.modeAdd.checked = true;
    preview();
  });
  for (const el of [ui.clip, ui.seed, ui.modeAdd, ui.modeNone]) el.addEventListener('change', preview);
  ui.denoise.addEventListener('click', () => void runDenoise());
  ui.split.addEventListener('input', () => setSplit(Number(ui.split.value)));
  for (const el of [ui.leftNoisy, ui.leftClean]) el.addEventListener('change', paintLeft);
  const drag = (e: PointerEvent) => {
    const r = ui.compare.getBoundingClientRect();
    setSplit(((e.clientX - r.left) / r.width) * 100);
  };
  ui.compare.addEventListener('pointerdown', (e) => {
    ui.compare.setPointerCapture(e.pointerId);
    drag(e);
  });
  ui.compare.addEventListener('pointermove', (e) => {
    if (ui.compare.hasPointerCapture(e.pointerId)) drag(e);
  });
  window.addEventListener('resize', () => source && layoutCompare(source.rgba.width, source.rgba.height));
}

/** Base model vs fine-tuned model on the held-out image (the Image panel's), shown as before | after. */
async function compareTuned(tuned: Uint8Array) {
  const input = makeInput();
  if (!input || !session || !info) return null;
  const tunedInfo = readDenoiserInfo(tuned);
  const tunedSession = await createPageSession(tuned, tunedInfo, 'wasm');
  try {
    const tiling = { tile: Number(ui.tile.value), overlap: Math.max(0, Math.trunc(Number(ui.overlap.value)) || 0) };
    const before = (await denoiseImage(input.noisy, info, session.call, { ...tiling, now: () => performance.now() })).output;
    const after = (await denoiseImage(input.noisy, tunedInfo, tunedSession.call, { ...tiling, now: () => performance.now() })).output;
    layoutCompare(after.width, after.height);
    paint(ui.noisyCanvas, before);
    paint(ui.denoisedCanvas, after);
    ui.leftTag.textContent = 'before (base model)';
    ui.rightTag.textContent = 'after (fine-tuned)';
    if (input.clean) {
      const c = input.clean.data;
      ui.stats.replaceChildren(
        stat('PSNR before', db(psnr(before.data, c))),
        stat('PSNR after', db(psnr(after.data, c)), '', psnr(after.data, c) > psnr(before.data, c)),
      );
    }
    return { input: input.noisy, before, after, clean: input.clean };
  } finally {
    await tunedSession.release();
  }
}

async function start(): Promise<void> {
  wire();
  hook.finetune = setupFinetune(
    { model: () => (loaded && info ? { ...loaded, info } : null), compare: compareTuned, status: setStatus },
    // ?ftmem=MiB: the features' memory budget before they go to IndexedDB (default 512 MiB).
    { backend: tfBackend, threads, base: location.href, memoryBudget: (params.has('ftmem') ? Number(params.get('ftmem')) : 512) * 2 ** 20 },
  );
  setSplit(50);
  configureOrt(location.href, threads);
  let config: SiteConfig;
  try {
    const [c, s] = await Promise.all([
      fetch(SITE_CONFIG_FILE).then((r) => (r.ok ? (r.json() as Promise<SiteConfig>) : Promise.reject(new Error(`HTTP ${r.status}`)))),
      fetch(SAMPLES_INDEX_FILE).then((r) => (r.ok ? (r.json() as Promise<SampleEntry[]>) : [])),
    ]);
    config = c;
    samples = s;
  } catch (err) {
    fail(err, `could not read ${SITE_CONFIG_FILE}`);
    return;
  }
  ui.sample.replaceChildren(
    Object.assign(document.createElement('option'), { value: '', textContent: '(your image)', disabled: true }),
    ...samples.map((s) => Object.assign(document.createElement('option'), { value: s.id, textContent: s.label })),
  );
  if (samples.length) {
    ui.sample.value = samples[0].id;
    await openSample(samples[0].id);
  }
  const shipped = config.shipped ?? [];
  ui.modelShipped.append(
    ...shipped.map((m) => Object.assign(document.createElement('option'), { value: m.url, textContent: `${m.name} — ${m.summary} (${(m.bytes / 1e6).toFixed(1)} MB)` })),
  );
  ui.shippedRow.hidden = !shipped.length;
  ui.modelShipped.addEventListener('change', () => {
    const m = shipped.find((x) => x.url === ui.modelShipped.value);
    if (m) void loadModelUrl(m.url, `${m.name}.onnx`);
  });
  if (config.model) await loadModelUrl(config.model.url, config.model.name);
  else setStatus('No default model: open or drop an exported onnxtune .onnx file.');
  updateReady();
}

void start();
