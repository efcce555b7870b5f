/**
 * The page's Fine-tune panel in real Chromium, offline: an onnxtune model is served, three clean
 * photos go in, the head trains for seeded steps in the page's worker (TF.js wasm with the
 * project's training kernels), pause/resume works, and Download ONNX hands back one file that
 * onnxruntime-node runs: (a) it gives the page's own fine-tuned output on the held-out image
 * within 1e-4, and (b) its loss on the fine-tuning patches is lower than the starting model's.
 * No request leaves the test server. Skips, saying why, when chromium is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { runJob } from '../../pipeline/runner';
import { createSession, type OrtSession } from '../../src/backends/ort';
import { startWebDemo, type WebDemo } from '../../src/cli/web/site';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import type { FinetuneHook } from '../../web/src/hook';
import { writePnm } from '../helpers/image-files';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { CHROMIUM, openOfflinePage, testOutputDir, type OfflinePage } from '../helpers/web';

const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  process.stderr.write(`skipping the fine-tune browser test: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)\n`);
}
const describeIfChromium = HAVE_CHROMIUM ? describe : describe.skip;

const FT = 'globalThis.__onnxtune.finetune';
const STEPS = 300;

/** A smooth 8-bit gray photo with structure (not an MNIST digit: the model has to adapt). */
function photo(k: number, size: number): Uint8Array {
  const px = new Array<number>(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px[y * size + x] = Math.round(255 * (0.5 + 0.4 * Math.sin((x + 3 * k) / 3) * Math.cos(y / (3 + k))));
  return writePnm('P5', px, 255, size, size);
}

const fromB64 = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
};

/** Float32Arrays of `${FT}` named by dotted paths, read as base64 (page functions cannot see this module). */
async function readArrays(page: Page, paths: string[]): Promise<Float32Array[]> {
  const wire = await page.evaluate(`(() => {
    const ft = ${FT};
    const b64 = (a) => { const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = '';
      for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000)); return btoa(s); };
    return ${JSON.stringify(paths)}.map((p) => b64(p.split('.').reduce((o, k) => o[k], ft)));
  })()`);
  return (wire as string[]).map(fromB64);
}

async function waitFt(page: Page, what: string, condition: string, timeout = 120_000): Promise<void> {
  await page.waitForFunction(`${FT} && (${condition} || ${FT}.state === 'error')`, undefined, { timeout }).catch((err: Error) => {
    throw new Error(`waiting for ${what}: ${err.message.split('\n')[0]}`);
  });
  const state = await page.evaluate(`${FT}.state`);
  if (state === 'error') throw new Error(`the page reports: ${await page.evaluate(`${FT}.error`)}`);
}

async function mse(session: OrtSession, noisy: Float32Array, clean: Float32Array, dims: number[]): Promise<number> {
  const out = (await session.run({ noisy: { data: noisy, dims } })).denoised.data;
  let s = 0;
  for (let i = 0; i < out.length; i++) s += (out[i] - clean[i]) ** 2;
  return s / out.length;
}

describeIfChromium('fine-tuning in the page (Chromium)', () => {
  const dir = tmpDir('onnxtune-web-ft-');
  const out = testOutputDir('web-finetune');
  let modelFile: string;
  let demo: WebDemo;
  /** The page, its context and what it tried to reach off the test server. */
  let browser: OfflinePage;
  let page: Page;

  beforeAll(async () => {
    const run = await runJob({ jobFile: writeJob(dir, quickJob({ name: 'web-ft' })), outDir: path.join(dir, 'run'), until: 'export' });
    modelFile = path.join(run.runDir, 'export', run.job.export.file);
    demo = await startWebDemo({ model: modelFile, port: 0, buildDir: path.join(dir, 'site') });
    browser = await openOfflinePage(path.join(dir, 'profile'), demo.port, `${demo.url}?ep=wasm&tfbackend=wasm`);
    page = browser.page;
    page.on('console', (msg) => msg.type() === 'error' && browser.pageErrors.push(msg.text()));
    await page.waitForFunction(`globalThis.__onnxtune && globalThis.__onnxtune.state === 'ready'`, undefined, { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.context.close();
    await demo?.close();
  });

  it('fine-tunes on three photos, pauses and resumes, and downloads ONE model that onnxruntime-node runs like the page', async () => {
    // The held-out photo is the Image panel's picture; the three others train.
    const files = [0, 1, 2, 3].map((k) => {
      const f = path.join(dir, `photo-${k}.pgm`);
      fs.writeFileSync(f, photo(k, k === 3 ? 64 : 48));
      return f;
    });
    await page.setInputFiles('#image-file', files[3]);
    await page.waitForFunction(`globalThis.__onnxtune.source?.name === 'photo-3.pgm'`);
    await page.fill('#sigma', '50');
    await page.fill('#ft-sigma', '50');
    await page.fill('#ft-steps', String(STEPS));
    await page.fill('#ft-batch', '4');
    await page.fill('#ft-patch', '16');
    await page.fill('#ft-lr', '0.001');
    await page.fill('#ft-seed', '3');
    await page.setInputFiles('#ft-files', files.slice(0, 3));
    await waitFt(page, 'three photos', `${FT}.images === 3`);
    await page.click('#ft-start');

    await waitFt(page, 'a few steps', `${FT}.losses.length >= 3`);
    await page.click('#ft-pause');
    await waitFt(page, 'pause', `${FT}.state === 'paused'`);
    // A step already running finishes; none starts after it.
    await page.waitForTimeout(300);
    const atPause = (await page.evaluate(`${FT}.losses.length`)) as number;
    await page.waitForTimeout(1000);
    expect(await page.evaluate(`${FT}.losses.length`)).toBe(atPause);
    expect(atPause).toBeLessThan(STEPS);
    await page.click('#ft-pause');
    await waitFt(page, 'the end of fine-tuning', `${FT}.state === 'done'`);

    const ft = (await page.evaluate(`(({ state, backend, images, losses, msPerStep, lossBefore, lossAfter, bytes, downloadName, patches }) =>
      ({ state, backend, images, losses, msPerStep, lossBefore, lossAfter, bytes, downloadName, patchCount: patches.count, patchSize: patches.size }))(${FT})`)) as
      Omit<FinetuneHook, 'patches' | 'heldOut'> & { patchCount: number; patchSize: number };
    expect(ft.backend?.name).toBe('wasm');
    expect(ft.losses).toHaveLength(STEPS);
    expect(ft.lossAfter!).toBeLessThan(ft.lossBefore!);
    expect(await page.textContent('#ft-status')).toMatch(new RegExp(`^Done: ${STEPS} steps`));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ft-download')]);
    const tunedFile = path.join(out, 'finetuned.onnx');
    await download.saveAs(tunedFile);
    expect(download.suggestedFilename()).toBe(ft.downloadName);
    expect(fs.statSync(tunedFile).size).toBe(ft.bytes);
    const meta = getMetadata(loadModel(tunedFile));
    expect(JSON.parse(meta['onnxtune.finetune'])).toMatchObject({ base: path.basename(modelFile), steps: STEPS, images: 3, patches: ft.patchCount, runtime: `page/tfjs-wasmx${ft.backend!.threads}` });

    const [input, after, before, noisy, clean] = await readArrays(page, ['heldOut.input.data', 'heldOut.after.data', 'heldOut.before.data', 'patches.noisy', 'patches.clean']);
    const tuned = await createSession(tunedFile, { device: 'cpu' });
    const base = await createSession(modelFile, { device: 'cpu' });
    try {
      // (a) the downloaded model gives the page's own output on the held-out photo.
      const ref = (await tuned.run({ noisy: { data: input, dims: [1, 1, 64, 64] } })).denoised.data;
      let diff = 0;
      for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - after[i]));
      expect(diff).toBeLessThanOrEqual(1e-4);
      const baseRef = (await base.run({ noisy: { data: input, dims: [1, 1, 64, 64] } })).denoised.data;
      let baseDiff = 0;
      for (let i = 0; i < baseRef.length; i++) baseDiff = Math.max(baseDiff, Math.abs(baseRef[i] - before[i]));
      expect(baseDiff).toBeLessThanOrEqual(1e-4);
      // (b) lower loss on the fine-tuning patches than the starting model.
      const dims = [ft.patchCount, 1, ft.patchSize, ft.patchSize];
      const [mseBase, mseTuned] = [await mse(base, noisy, clean, dims), await mse(tuned, noisy, clean, dims)];
      expect(mseTuned).toBeLessThan(mseBase);
      await page.screenshot({ path: path.join(out, 'finetune.png'), fullPage: true });
      fs.writeFileSync(path.join(out, 'report.json'), JSON.stringify({ maxAbsDiffHeldOut: diff, mseBase, mseTuned, msPerStep: ft.msPerStep, backend: ft.backend, atPause }, null, 2) + '\n');
    } finally {
      await tuned.release();
      await base.release();
    }
    expect(browser.offHost).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 240_000);

  it('fine-tunes on real noisy/clean pairs (no synthetic noise) and lowers the loss on them', async () => {
    // Pairs as PolyU names them: <name>_real (noisy) next to <name>_mean (clean).
    const files: string[] = [];
    for (const k of [4, 5]) {
      const clean = photo(k, 48);
      const header = clean.length - 48 * 48;
      const noisy = Uint8Array.from(clean);
      const rng = (i: number) => Math.sin(i * 12.9898 + k * 78.233) * 43758.5453;
      for (let i = header; i < noisy.length; i++) noisy[i] = Math.max(0, Math.min(255, noisy[i] + Math.round(60 * (rng(i) - Math.floor(rng(i)) - 0.5))));
      for (const [suffix, bytes] of [['_real', noisy], ['_mean', clean]] as const) {
        files.push(path.join(dir, `pair${k}${suffix}.pgm`));
        fs.writeFileSync(files[files.length - 1], bytes);
      }
    }
    await page.reload();
    await page.waitForFunction(`globalThis.__onnxtune && globalThis.__onnxtune.state === 'ready'`, undefined, { timeout: 60_000 });
    await page.fill('#ft-steps', '30');
    await page.fill('#ft-batch', '4');
    await page.fill('#ft-patch', '16');
    await page.check('#ft-pairs');
    await page.setInputFiles('#ft-files', files);
    await waitFt(page, 'four files', `${FT}.images === 4`);
    await page.click('#ft-start');
    await waitFt(page, 'the end of fine-tuning', `${FT}.state === 'done'`);
    const ft = (await page.evaluate(`(({ lossBefore, lossAfter, patches }) => ({ lossBefore, lossAfter, count: patches.count }))(${FT})`)) as
      { lossBefore: number; lossAfter: number; count: number };
    expect(ft.count).toBe(2 * 9);
    expect(ft.lossAfter).toBeLessThan(ft.lossBefore);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ft-download')]);
    const tunedFile = path.join(dir, 'pairs-tuned.onnx');
    await download.saveAs(tunedFile);
    expect(JSON.parse(getMetadata(loadModel(tunedFile))['onnxtune.finetune'])).toMatchObject({ images: 2, noise: 'real pairs (2)', steps: 30 });
    // The page trained on the real noisy images: its patches are the files' pixels, not synthetic noise.
    const [noisy, clean] = await readArrays(page, ['patches.noisy', 'patches.clean']);
    const tuned = await createSession(tunedFile, { device: 'cpu' });
    const base = await createSession(modelFile, { device: 'cpu' });
    try {
      const dims = [ft.count, 1, 16, 16];
      expect(await mse(tuned, noisy, clean, dims)).toBeLessThan(await mse(base, noisy, clean, dims));
    } finally {
      await tuned.release();
      await base.release();
    }
    expect(browser.offHost).toEqual([]);
  }, 240_000);

  it('keeps the features in IndexedDB beyond the memory budget (?ftmem) and trains the same steps as from memory', async () => {
    const files = [6, 7].map((k) => {
      const f = path.join(dir, `idb-${k}.pgm`);
      fs.writeFileSync(f, photo(k, 40));
      return f;
    });
    const run = async (query: string) => {
      await page.goto(`${demo.url}?ep=wasm&tfbackend=wasm${query}`);
      await page.waitForFunction(`globalThis.__onnxtune && globalThis.__onnxtune.state === 'ready'`, undefined, { timeout: 60_000 });
      for (const [id, v] of [['#ft-steps', '12'], ['#ft-batch', '5'], ['#ft-patch', '16'], ['#ft-seed', '4'], ['#ft-sigma', '30']]) await page.fill(id, v);
      await page.setInputFiles('#ft-files', files);
      await waitFt(page, 'two photos', `${FT}.images === 2`);
      await page.click('#ft-start');
      await waitFt(page, 'the end of fine-tuning', `${FT}.state === 'done'`);
      return (await page.evaluate(`(({ store, losses, lossAfter }) => ({ store, losses, lossAfter }))(${FT})`)) as { store: string; losses: number[]; lossAfter: number };
    };
    const inMemory = await run('');
    const stored = await run('&ftmem=0');
    expect(inMemory.store).toBe('memory');
    expect(stored.store).toBe('indexeddb');
    expect(stored.losses).toHaveLength(12);
    // Same seed, same rows, read back from IndexedDB: the same steps.
    expect(stored.losses).toEqual(inMemory.losses);
    expect(stored.lossAfter).toBe(inMemory.lossAfter);
    expect(browser.offHost).toEqual([]);
  }, 240_000);
});
