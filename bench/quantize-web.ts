/**
 * The onnxruntime-web half of bench/quantize.ts: a bare page (no demo UI) served on 127.0.0.1
 * with onnxruntime-web's wasm files from node_modules, driven in headless Chromium through
 * playwright-core. It times the variants interleaved like the Node half and returns the int8
 * output, so the caller can compare it with onnxruntime-node's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serveStatic } from '../src/cli/web/server';
import { PROJECT_ROOT } from '../src/version';

/** Debian's chromium, as the browser tests use it (shared/notes/browser.md). */
const CHROMIUM = process.env.ONNXTUNE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Threads of the wasm EP (the page is cross-origin isolated, so more would work; one keeps it comparable). */
export const WEB_THREADS = 1;

export interface WebTiming {
  rows: Array<{ threads: number; size: number; ms: Record<'fp32' | 'fp16' | 'int8', number> }>;
  int8Outputs: Map<number, Float32Array>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>onnxtune quantize bench</title>
<script src="/ort.wasm.min.js"></script>
<script>
ort.env.wasm.wasmPaths = '/';
ort.env.wasm.numThreads = ${WEB_THREADS};
window.benchRun = async (variants, input, channels, size, repeats) => {
  const sessions = {};
  for (const v of variants) sessions[v] = await ort.InferenceSession.create('/models/' + v + '.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feed = { [input]: new ort.Tensor('float32', Float32Array.from(window.benchInput), [1, channels, size, size]) };
  const ms = {}; const out = {};
  for (const v of variants) { ms[v] = []; const r = await sessions[v].run(feed); out[v] = Array.from(Object.values(r)[0].data); }
  for (let i = 0; i < repeats; i++) for (const v of variants) {
    const t0 = performance.now(); await sessions[v].run(feed); ms[v].push(performance.now() - t0);
  }
  for (const v of variants) await sessions[v].release();
  return { ms, int8: out.int8 };
};
</script>`;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Times fp32/fp16/int8 in onnxruntime-web (wasm EP) in headless Chromium.
 * @throws Error when Chromium is missing or the page fails.
 */
export async function webTimings(
  files: Record<'fp32' | 'fp16' | 'int8', string>,
  input: string,
  channels: number,
  sizes: readonly number[],
  repeats: number,
  image: (size: number, channels: number) => Float32Array,
): Promise<WebTiming> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  const dist = path.join(PROJECT_ROOT, 'node_modules', 'onnxruntime-web', 'dist');
  const server = await serveStatic({
    root: dist,
    mapped: {
      '/index.html': { body: PAGE, type: 'text/html; charset=utf-8' },
      '/': { body: PAGE, type: 'text/html; charset=utf-8' },
      ...Object.fromEntries(Object.entries(files).map(([v, f]) => [`/models/${v}.onnx`, { file: f }])),
    },
  });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-bench-chromium-'));
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction('typeof window.benchRun === "function"');
    const result: WebTiming = { rows: [], int8Outputs: new Map() };
    for (const size of sizes) {
      await page.evaluate(`window.benchInput = ${JSON.stringify(Array.from(image(size, channels)))}`);
      const r = (await page.evaluate(`window.benchRun(${JSON.stringify(['fp32', 'fp16', 'int8'])}, ${JSON.stringify(input)}, ${channels}, ${size}, ${repeats})`)) as {
        ms: Record<'fp32' | 'fp16' | 'int8', number[]>;
        int8: number[];
      };
      const ms = { fp32: median(r.ms.fp32), fp16: median(r.ms.fp16), int8: median(r.ms.int8) };
      result.rows.push({ threads: WEB_THREADS, size, ms });
      result.int8Outputs.set(size, Float32Array.from(r.int8));
      process.stdout.write(`  web wasm ${WEB_THREADS} thread ${size}²: fp32 ${ms.fp32.toFixed(0)} ms, fp16 ${ms.fp16.toFixed(0)}, int8 ${ms.int8.toFixed(0)}\n`);
    }
    return result;
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
