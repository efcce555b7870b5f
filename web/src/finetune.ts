/**
 * The page's Fine-tune panel: clean photos (synthetic Gaussian noise at σ or a σ range) or real
 * noisy/clean pairs →
 * patches → the frozen encoder once per patch in onnxruntime-web (features kept in memory) →
 * the decoder head trains in a Web Worker (web/src/finetune-worker.ts) with a live loss curve,
 * pause/resume → ONE combined ONNX (the CLI's export + combine code) to download, and a
 * before/after of the held-out image (the Image panel's picture, never trained on).
 */
import { addGaussianNoise, readDenoiserInfo, rgbaToPlanar, type DenoiserInfo, type Planar } from '../../src/denoise';
import { pairByName } from '../../src/data/pair-names';
import { forkRng } from '../../src/random';
import { buildHeadData, cutPatches, encodeRows, parseSigma, type EncoderCall } from '../../pipeline/finetune/finetune';
import { deleteFeatureDb, featureDbSink } from './feature-store';
import { splitDenoiser } from '../../pipeline/finetune/split';
import { onnx } from '../../src/onnx/proto';
import type { FromWorker, TfBackendPreference, ToWorker } from './finetune-protocol';
import type { FinetuneHook } from './hook';
import { byId } from './dom';
import { decodeImage, type Rgba } from './image-io';
import { createRawSession } from './runtime';

/** What the panel needs from the page. */
export interface FinetuneHost {
  /** The loaded model's bytes, name and description. */
  model(): { bytes: Uint8Array; name: string; info: DenoiserInfo } | null;
  /** Denoises the held-out image with the base model and with `tuned` and shows them as before | after. */
  compare(tuned: Uint8Array): Promise<{ input: Planar; before: Planar; after: Planar; clean: Planar | null } | null>;
  status(text: string, kind?: 'info' | 'ok' | 'error'): void;
}

const $ = byId;

/** Patches per encoder call (and per IndexedDB record). */
const ENCODE_BATCH = 16;

/**
 * Wires the panel; returns its hook.
 * @param opts.memoryBudget features larger than this (bytes) are kept in IndexedDB instead of memory
 */
export function setupFinetune(
  host: FinetuneHost, opts: { backend: TfBackendPreference; threads: number; base: string; memoryBudget: number },
): FinetuneHook {
  const ui = {
    files: $<HTMLInputElement>('ft-files'),
    drop: $('ft-drop'),
    count: $('ft-count'),
    sigma: $<HTMLInputElement>('ft-sigma'),
    pairs: $<HTMLInputElement>('ft-pairs'),
    noisySuffix: $<HTMLInputElement>('ft-noisy-suffix'),
    cleanSuffix: $<HTMLInputElement>('ft-clean-suffix'),
    steps: $<HTMLInputElement>('ft-steps'),
    batch: $<HTMLInputElement>('ft-batch'),
    lr: $<HTMLInputElement>('ft-lr'),
    patch: $<HTMLInputElement>('ft-patch'),
    seed: $<HTMLInputElement>('ft-seed'),
    start: $<HTMLButtonElement>('ft-start'),
    pause: $<HTMLButtonElement>('ft-pause'),
    download: $<HTMLAnchorElement>('ft-download'),
    status: $('ft-status'),
    curve: $<HTMLCanvasElement>('ft-curve'),
  };
  const hook: FinetuneHook = {
    state: 'idle', error: null, backend: null, store: null, images: 0, patches: null, losses: [], stepMs: [], msPerStep: null,
    lossBefore: null, lossAfter: null, heldOut: null, bytes: null, downloadName: null,
  };
  const photos: Array<{ name: string; rgba: Rgba }> = [];
  /** IndexedDB feature stores of earlier runs, deleted when the next run starts. */
  const databases: string[] = [];
  let worker: Worker | null = null;

  const say = (text: string) => (ui.status.textContent = text);
  const fail = (err: unknown) => {
    hook.state = 'error';
    hook.error = err instanceof Error ? err.message : String(err);
    say(`Fine-tuning failed: ${hook.error}`);
    host.status(`Fine-tuning failed: ${hook.error}`, 'error');
    ui.start.disabled = false;
    ui.pause.disabled = true;
    worker?.terminate();
    worker = null;
  };

  const drawCurve = () => {
    const ctx = ui.curve.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = ui.curve;
    ctx.clearRect(0, 0, w, h);
    const ls = hook.losses;
    if (ls.length < 2) return;
    const logs = ls.map((v) => Math.log10(Math.max(v, 1e-8)));
    const lo = Math.min(...logs);
    const hi = Math.max(...logs);
    ctx.strokeStyle = '#2a6df4';
    ctx.beginPath();
    logs.forEach((v, i) => {
      const x = (i / (logs.length - 1)) * (w - 8) + 4;
      const y = h - 4 - ((v - lo) / (hi - lo || 1)) * (h - 8);
      if (i) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    });
    ctx.stroke();
  };

  const addFiles = async (files: FileList | File[]) => {
    for (const f of Array.from(files)) {
      try {
        photos.push({ name: f.name, rgba: await decodeImage(f) });
      } catch (err) {
        host.status(`${f.name} is not an image this browser can decode (${(err as Error).message})`, 'error');
      }
    }
    hook.images = photos.length;
    ui.count.textContent = `${photos.length} photo${photos.length === 1 ? '' : 's'}`;
    ui.start.disabled = photos.length === 0;
  };

  const start = async () => {
    const model = host.model();
    if (!model) return fail(new Error('load a model first'));
    if (!photos.length) return fail(new Error('add clean photos first'));
    ui.start.disabled = true;
    ui.download.hidden = true;
    for (const db of databases.splice(0)) await deleteFeatureDb(db).catch(() => undefined);
    Object.assign(hook, { state: 'encoding', error: null, losses: [], stepMs: [], heldOut: null, bytes: null, lossBefore: null, lossAfter: null, msPerStep: null });
    try {
      const [lo, hi] = parseSigma(ui.sigma.value);
      const seed = Math.trunc(Number(ui.seed.value)) || 0;
      const steps = Math.max(1, Math.trunc(Number(ui.steps.value)));
      const batchSize = Math.max(1, Math.trunc(Number(ui.batch.value)));
      const lr = Number(ui.lr.value);
      const split = splitDenoiser(onnx.ModelProto.decode(model.bytes), model.name);
      const stride = split.io.strideMultiple;
      const patch = Math.max(stride, Math.round(Number(ui.patch.value) / stride) * stride);
      const channels = model.info.channels as 1 | 3;
      const planar = (p: { rgba: Rgba }) => rgbaToPlanar(p.rgba.data, p.rgba.width, p.rgba.height, channels);
      let clean: Planar[];
      let noisy: Float32Array[];
      let noise: string;
      if (ui.pairs.checked) {
        // Real noise: <name><noisy suffix>.* next to <name><clean suffix>.*, no synthetic noise.
        const byName = new Map(photos.map((p) => [p.name, p]));
        const { pairs, unpaired } = pairByName(photos.map((p) => p.name), ui.noisySuffix.value, ui.cleanSuffix.value);
        if (unpaired.length) throw new Error(`${unpaired[0]} has no clean partner (*${ui.cleanSuffix.value}.*)`);
        if (!pairs.length) throw new Error(`no *${ui.noisySuffix.value}.* / *${ui.cleanSuffix.value}.* pairs among the photos`);
        clean = pairs.map((p) => planar(byName.get(p.clean)!));
        noisy = pairs.map((p, k) => {
          const n = planar(byName.get(p.noisy)!);
          if (n.width !== clean[k].width || n.height !== clean[k].height) throw new Error(`${p.noisy} and ${p.clean} differ in size`);
          return n.data;
        });
        noise = `real pairs (${pairs.length})`;
      } else {
        clean = photos.map(planar);
        // One noise level per photo from the seed (order-independent), then seeded noise.
        noisy = clean.map((c, k) => addGaussianNoise(c.data, lo === hi ? lo : lo + (hi - lo) * forkRng(seed, 'ft-sigma', k).uniform(), seed * 1000 + k, false));
        noise = lo === hi ? `gaussian sigma=${lo}` : `gaussian sigma=${lo}-${hi}`;
      }
      const patches = cutPatches(clean, noisy, patch);
      hook.patches = patches;
      say(`Encoding ${patches.count} patches of ${patch}×${patch} with the frozen encoder…`);
      const enc = await createRawSession(onnx.ModelProto.encode(split.encoder).finish());
      const encode: EncoderCall = async (image, dims) => {
        const out = await enc.run({ image: { data: image, dims } });
        return split.io.taps.map((t) => out[t.name]);
      };
      // The worker's tfjs head takes its inputs in the decoder graph's input order.
      const inputNames = (split.decoder.graph?.input ?? []).map((i) => i.name as string);
      // Features beyond the memory budget go to IndexedDB batch by batch as they are encoded.
      const tapFloats = split.io.taps.reduce((a, t) => a + (t.channels * patch * patch) / (t.stride * t.stride), 0);
      const featureBytes = patches.count * (tapFloats + 2 * channels * patch * patch) * 4;
      let data: Extract<ToWorker, { type: 'start' }>['data'];
      if (featureBytes > opts.memoryBudget) {
        hook.store = 'indexeddb';
        const db = `onnxtune-finetune-${Date.now()}`;
        const { sink, close } = await featureDbSink(db);
        const shapes = await encodeRows(patches, inputNames, encode, sink, ENCODE_BATCH);
        close();
        data = { kind: 'indexeddb', db, count: patches.count, batch: ENCODE_BATCH, ...shapes };
        databases.push(db);
      } else {
        hook.store = 'memory';
        data = { kind: 'memory', rows: await buildHeadData(patches, inputNames, encode, ENCODE_BATCH) };
      }
      await enc.release();
      hook.state = 'training';
      worker = new Worker(new URL('finetune-worker.js', opts.base), { type: 'module' });
      worker.onerror = (e) => fail(new Error(e.message || 'the fine-tuning worker failed to start'));
      worker.onmessage = async (e: MessageEvent<FromWorker>) => {
        const msg = e.data;
        if (msg.type === 'backend') {
          hook.backend = { name: msg.name, threads: msg.threads, note: msg.note };
          say(`Training the head on TF.js ${msg.name}${msg.name === 'wasm' ? ` (${msg.threads} thread${msg.threads > 1 ? 's' : ''})` : ''}${msg.note ? ` — ${msg.note}` : ''}…`);
        } else if (msg.type === 'step') {
          hook.losses.push(msg.loss);
          hook.stepMs.push(msg.ms);
          if (msg.step % 5 === 0 || msg.step === steps) {
            drawCurve();
            say(`Step ${msg.step}/${steps}: loss ${msg.loss.toExponential(3)} (${msg.ms.toFixed(0)} ms/step) on TF.js ${hook.backend?.name ?? ''}`);
          }
        } else if (msg.type === 'error') {
          fail(new Error(msg.message));
        } else if (msg.type === 'done') {
          worker?.terminate();
          worker = null;
          hook.state = 'exporting';
          Object.assign(hook, { lossBefore: msg.lossBefore, lossAfter: msg.lossAfter, msPerStep: msg.msPerStep, bytes: msg.bytes.length });
          drawCurve();
          try {
            readDenoiserInfo(msg.bytes);
            hook.heldOut = await host.compare(msg.bytes);
          } catch (err) {
            return fail(err);
          }
          const name = `${model.name.replace(/\.onnx$/i, '')}-finetuned.onnx`;
          if (ui.download.href) URL.revokeObjectURL(ui.download.href);
          ui.download.href = URL.createObjectURL(new Blob([msg.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
          ui.download.download = name;
          ui.download.hidden = false;
          hook.downloadName = name;
          hook.state = 'done';
          ui.start.disabled = false;
          ui.pause.disabled = true;
          say(`Done: ${msg.steps} steps, training loss ${msg.lossBefore.toExponential(3)} → ${msg.lossAfter.toExponential(3)}, ${msg.msPerStep.toFixed(0)} ms/step. The viewer shows before | after on the held-out image.`);
        }
      };
      ui.pause.disabled = false;
      ui.pause.textContent = 'Pause';
      const msg: ToWorker = {
        type: 'start', model: model.bytes, data, steps, batchSize, lr, seed, backend: opts.backend, threads: opts.threads,
        wasmBase: new URL('tfjs/', opts.base).href,
        record: { base: model.name, images: clean.length, patches: patches.count, noise },
      };
      worker.postMessage(msg);
    } catch (err) {
      fail(err);
    }
  };

  ui.files.addEventListener('change', () => {
    if (ui.files.files) void addFiles(ui.files.files);
    ui.files.value = '';
  });
  ui.drop.addEventListener('dragover', (e) => e.preventDefault());
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer?.files) void addFiles(e.dataTransfer.files);
  });
  ui.start.addEventListener('click', () => void start());
  ui.pause.addEventListener('click', () => {
    if (!worker) return;
    const pausing = hook.state === 'training';
    worker.postMessage({ type: pausing ? 'pause' : 'resume' } satisfies ToWorker);
    hook.state = pausing ? 'paused' : 'training';
    ui.pause.textContent = pausing ? 'Resume' : 'Pause';
  });
  return hook;
}
