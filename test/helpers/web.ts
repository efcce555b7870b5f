/**
 * Helpers for the web demo tests: a tiny denoiser with onnxtune metadata built in code
 * (float32 or float16 IO), its output computed by hand as the independent reference, and
 * Debian's chromium launched headless with the flags from shared/notes/browser.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { GraphBuilder } from '../../src/onnx/builder';
import { encodeModel } from '../../src/onnx/model-io';
import { onnx } from '../../src/onnx/proto';
import { floatTensor } from '../../src/onnx/tensor';
import { fromHalf, toHalf } from '../../src/tensor/fp16';

/** Debian's chromium (`apt-get install chromium`); the browser tests skip without it. */
export const CHROMIUM = process.env.ONNXTUNE_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that work as root with no network (shared/notes/browser.md). */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/** 3×3 kernel of the tiny denoiser: a smoothing filter that is not symmetric (catches flips). */
export const TINY_KERNEL = Object.freeze([0.05, 0.1, 0.05, 0.1, 0.4, 0.12, 0.05, 0.08, 0.05]);
export const TINY_BIAS = 0.01;

/** Metadata as pipeline/stages/export.ts writes it, for a hand-built model. */
export function tinyMetadata(job: string): Record<string, string> {
  return {
    'onnxtune.version': '0.1.0',
    'onnxtune.task': 'denoise',
    'onnxtune.input': 'noisy',
    'onnxtune.output': 'denoised',
    'onnxtune.layout': 'NCHW',
    'onnxtune.channels': '1',
    'onnxtune.value_range': '[0,1]',
    'onnxtune.noise': JSON.stringify({ type: 'gaussian', sigma: 50, clip: true }),
    'onnxtune.job': job,
    'onnxtune.job_sha256': '0123456789abcdef',
  };
}

/**
 * noisy [N,1,H,W] → Conv 3×3 (TINY_KERNEL, zero padding) + bias → Clip(0,1) → denoised.
 * With `float16`, input and output are float16 around a float32 body (Cast in, Cast out), the
 * shape an fp16 export with float16 IO has at its boundary.
 */
export function tinyDenoiser(opts: { float16?: boolean } = {}): Uint8Array {
  const T = onnx.TensorProto.DataType;
  const io = opts.float16 ? T.FLOAT16 : T.FLOAT;
  const b = new GraphBuilder('tiny-denoiser');
  b.addInput('noisy', ['N', 1, 'H', 'W'], io);
  let x = 'noisy';
  if (opts.float16) {
    b.addNode('Cast', ['noisy'], ['noisy_f32'], { to: T.FLOAT });
    x = 'noisy_f32';
  }
  b.addInitializer('w', [1, 1, 3, 3], Float32Array.from(TINY_KERNEL));
  b.addInitializer('b', [1], Float32Array.from([TINY_BIAS]));
  b.addTensor(floatTensor('lo', [], new Float32Array([0])));
  b.addTensor(floatTensor('hi', [], new Float32Array([1])));
  b.addNode('Conv', [x, 'w', 'b'], ['conv'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Clip', ['conv', 'lo', 'hi'], [opts.float16 ? 'clipped' : 'denoised']);
  if (opts.float16) b.addNode('Cast', ['clipped'], ['denoised'], { to: T.FLOAT16 });
  b.addOutput('denoised', ['N', 1, 'H', 'W'], io);
  return encodeModel(b.toModel({ opset: 17, metadata: tinyMetadata(opts.float16 ? 'tiny-fp16' : 'tiny') }));
}

/** The tiny denoiser's output for one gray H×W image, by hand (float16 rounding when asked). */
export function tinyDenoiserReference(x: Float32Array, height: number, width: number, float16 = false): Float32Array {
  const half = (v: number) => (float16 ? fromHalf(toHalf(v)) : v);
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let xx = 0; xx < width; xx++) {
      let s = TINY_BIAS;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xs = xx + dx;
          if (yy >= 0 && yy < height && xs >= 0 && xs < width) s += TINY_KERNEL[(dy + 1) * 3 + dx + 1] * half(x[yy * width + xs]);
        }
      }
      out[y * width + xx] = half(Math.min(1, Math.max(0, s)));
    }
  }
  return out;
}

/** Writes the tiny denoiser to `dir` and returns its path. */
export function writeTinyDenoiser(dir: string, opts: { float16?: boolean } = {}): string {
  const file = path.join(dir, opts.float16 ? 'tiny-fp16.onnx' : 'tiny.onnx');
  fs.writeFileSync(file, tinyDenoiser(opts));
  return file;
}

/**
 * Launches headless chromium on a fresh, empty profile folder `userDataDir` (Playwright takes the
 * profile as a parameter of a persistent context, not as a --user-data-dir flag).
 */
export async function launchChromium(userDataDir: string, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport,
  });
}

/** A folder for test outputs people look at afterwards (screenshots, timings); kept after the run. */
export function testOutputDir(name: string): string {
  const dir = path.join(process.env.ONNXTUNE_TEST_OUT ?? path.join(os.tmpdir(), 'onnxtune-test-output'), name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A Chromium page on a served site where every request not to that server is aborted and recorded. */
export interface OfflinePage {
  context: BrowserContext;
  page: Page;
  /** Requests that tried to leave the test server (must stay empty). */
  offHost: string[];
  /** Uncaught page errors. */
  pageErrors: string[];
}

/**
 * Launches Chromium on a fresh profile in `profileDir`, blocks every request not to 127.0.0.1:`port`,
 * and opens `url`.
 */
export async function openOfflinePage(profileDir: string, port: number, url: string): Promise<OfflinePage> {
  const context = await launchChromium(profileDir);
  const offHost: string[] = [];
  const pageErrors: string[] = [];
  // Everything must come from our server: any other request is aborted and recorded.
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' && u.port === String(port)) return route.continue();
    offHost.push(u.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(url);
  return { context, page, offHost, pageErrors };
}
