/**
 * Training speed of the decoder head in the page's Fine-tune worker vs tfjs-node, on the same
 * head, patches and batch: the page on TF.js wasm with 1 thread, wasm with threads (the page is
 * cross-origin isolated: `onnxtune web` sends COOP/COEP), and WebGL when headless Chromium offers
 * it; Node on tfjs-node (native TensorFlow). Median ms per step after warm-up, and page / Node.
 *
 *   node -r ./test/helpers/ts-register.js bench/web-train.ts [--model m.onnx] [--steps 40] [--warmup 5] [--batch 8] [--patch 32]
 *
 * Without --model it uses the web demo's default model (trained once into runs/web-default-model).
 * Prints a table and writes bench/results/web-train.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureDefaultModel } from '../src/cli/web/default-model';
import { startWebDemo } from '../src/cli/web/site';
import { createSession } from '../src/backends/ort';
import { initTf } from '../src/backends/tf';
import { writeJsonAtomic } from '../src/io/atomic';
import { loadModel, encodeModel } from '../src/onnx/model-io';
import { addGaussianNoise } from '../src/noise/gaussian';
import { PROJECT_ROOT } from '../src/version';
import { buildHeadData, cutPatches, headToTfjs, HeadTrainer } from '../pipeline/finetune/finetune';
import { splitDenoiser } from '../pipeline/finetune/split';
import { writePnm } from '../test/helpers/image-files';
import { CHROMIUM, launchChromium } from '../test/helpers/web';

interface Args {
  model?: string;
  steps: number;
  warmup: number;
  batch: number;
  patch: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { steps: 40, warmup: 5, batch: 8, patch: 32 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--model') a.model = path.resolve(v);
    else if (k === '--steps' || k === '--warmup' || k === '--batch' || k === '--patch') a[k.slice(2) as 'steps'] = Number(v);
    else throw new Error(`unknown argument ${k}; expected --model, --steps, --warmup, --batch, --patch`);
  }
  return a;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** Four smooth 96×96 gray photos (content does not change the speed). */
function photos(): Array<{ data: Float32Array; channels: number; height: number; width: number }> {
  return [0, 1, 2, 3].map((k) => {
    const n = 96;
    const data = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) data[y * n + x] = Math.round(255 * (0.5 + 0.4 * Math.sin((x + 3 * k) / 3) * Math.cos(y / (3 + k)))) / 255;
    return { data, channels: 1, height: n, width: n };
  });
}

async function nodeSpeed(modelFile: string, args: Args) {
  const rt = await initTf({ backend: 'tensorflow' });
  const split = splitDenoiser(loadModel(modelFile), modelFile);
  const enc = await createSession(encodeModel(split.encoder), { device: 'cpu' });
  const imgs = photos();
  const patches = cutPatches(imgs, imgs.map((im, k) => addGaussianNoise(im.data, 50, k, false)), args.patch);
  const data = await buildHeadData(patches, (split.decoder.graph?.input ?? []).map((i) => i.name as string), async (image, dims) => {
    const out = await enc.run({ image: { data: image, dims } });
    return split.io.taps.map((t) => out[t.name]);
  });
  await enc.release();
  const head = headToTfjs(rt.tf, split);
  const trainer = new HeadTrainer(rt.tf, head.model, data, { seed: 1, batchSize: args.batch, lr: 1e-3 });
  const ms: number[] = [];
  for (let s = 0; s < args.warmup + args.steps; s++) {
    const t0 = performance.now();
    await trainer.step();
    if (s >= args.warmup) ms.push(performance.now() - t0);
  }
  trainer.dispose();
  return { runtime: rt.description, patches: patches.count, params: head.model.countParams(), msPerStep: median(ms) };
}

async function pageSpeed(modelFile: string, args: Args, dir: string) {
  const files = [0, 1, 2, 3].map((k) => {
    const f = path.join(dir, `photo-${k}.pgm`);
    const im = photos()[k];
    fs.writeFileSync(f, writePnm('P5', Array.from(im.data, (v) => Math.round(v * 255)), 255, im.width, im.height));
    return f;
  });
  const demo = await startWebDemo({ model: modelFile, port: 0, buildDir: path.join(dir, 'site') });
  const context = await launchChromium(path.join(dir, 'profile'));
  let crossOriginIsolated = false;
  const rows: Array<{ label: string; backend: string | null; threads: number | null; msPerStep: number | null; note: string }> = [];
  try {
    for (const [label, query] of [['wasm, 1 thread', 'tfbackend=wasm&threads=1'], ['wasm, threads', 'tfbackend=wasm'], ['webgl', 'tfbackend=webgl']] as const) {
      const page = await context.newPage();
      await page.goto(`${demo.url}?ep=wasm&${query}`);
      await page.waitForFunction(`globalThis.__onnxtune && globalThis.__onnxtune.state === 'ready'`, undefined, { timeout: 120_000 });
      crossOriginIsolated = (await page.evaluate('globalThis.crossOriginIsolated')) as boolean;
      for (const [id, v] of [['#ft-sigma', '50'], ['#ft-steps', String(args.warmup + args.steps)], ['#ft-batch', String(args.batch)], ['#ft-patch', String(args.patch)], ['#ft-seed', '1']]) await page.fill(id, v);
      await page.setInputFiles('#ft-files', files);
      await page.waitForFunction(`globalThis.__onnxtune.finetune.images === 4`);
      await page.click('#ft-start');
      await page.waitForFunction(`['done', 'error'].includes(globalThis.__onnxtune.finetune.state)`, undefined, { timeout: 600_000 });
      const ft = (await page.evaluate(`(({ state, error, backend, stepMs }) => ({ state, error, backend, stepMs }))(globalThis.__onnxtune.finetune)`)) as {
        state: string; error: string | null; backend: { name: string; threads: number; note: string } | null; stepMs: number[];
      };
      rows.push(ft.state === 'done'
        ? { label, backend: ft.backend?.name ?? null, threads: ft.backend?.threads ?? null, msPerStep: median(ft.stepMs.slice(args.warmup)), note: ft.backend?.note ?? '' }
        : { label, backend: null, threads: null, msPerStep: null, note: `not available: ${ft.error}` });
      await page.close();
    }
    return { rows, crossOriginIsolated };
  } finally {
    await context.close();
    await demo.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  const modelFile = args.model ?? (await ensureDefaultModel());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-bench-web-train-'));
  const load = os.loadavg()[0];
  const node = await nodeSpeed(modelFile, args);
  const page = await pageSpeed(modelFile, args, dir);
  const table = page.rows.map((r) => ({ ...r, ratioToNode: r.msPerStep === null ? null : r.msPerStep / node.msPerStep }));
  const result = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadAvg1: load, node: process.version },
    model: path.relative(PROJECT_ROOT, modelFile), headParams: node.params, patches: node.patches, patch: args.patch, batch: args.batch,
    steps: args.steps, warmup: args.warmup, crossOriginIsolated: page.crossOriginIsolated, node: { runtime: node.runtime, msPerStep: node.msPerStep }, page: table,
  };
  const lines = [
    `decoder head ${node.params} params, batch ${args.batch} of ${args.patch}×${args.patch} patches, median of ${args.steps} steps after ${args.warmup}; load avg ${load.toFixed(1)}`,
    `${'runtime'.padEnd(28)} ${'ms/step'.padStart(9)} ${'× tfjs-node'.padStart(12)}`,
    `${'tfjs-node'.padEnd(28)} ${node.msPerStep.toFixed(1).padStart(9)} ${'1.00'.padStart(12)}`,
    ...table.map((r) => `${`page ${r.label}${r.threads && r.threads > 1 ? ` (${r.threads})` : ''}`.padEnd(28)} ${(r.msPerStep?.toFixed(1) ?? '—').padStart(9)} ${(r.ratioToNode?.toFixed(2) ?? r.note).padStart(12)}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'web-train.json'), result);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
