/**
 * Fine-tunes a model in the web page (headless Chromium, the Fine-tune panel, as a user would)
 * and saves the downloaded ONNX: the page half of the adaptation case in web/README.md, to
 * compare with `onnxtune finetune` on the same images and settings.
 *
 *   node -r ./test/helpers/ts-register.js bench/web-finetune.ts --model m.onnx --images DIR --out tuned.onnx
 *     [--sigma 50] [--steps 300] [--batch 16] [--patch 40] [--lr 0.001] [--seed 1] [--tfbackend auto|wasm|webgl|cpu]
 *
 * Prints the backend, steps, training loss before → after and ms/step; writes `<out>.json` beside the model.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startWebDemo } from '../src/cli/web/site';
import { expandInputs } from '../src/inference/denoise-files';
import { writeJsonAtomic } from '../src/io/atomic';
import { openOfflinePage } from '../test/helpers/web';

function parseArgs(argv: string[]): Record<string, string> {
  const a: Record<string, string> = { sigma: '50', steps: '300', batch: '16', patch: '40', lr: '0.001', seed: '1', tfbackend: 'auto' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a) && !['model', 'images', 'out'].includes(k)) throw new Error(`unknown argument ${argv[i]}`);
    a[k] = argv[i + 1];
  }
  for (const k of ['model', 'images', 'out']) if (!a[k]) throw new Error(`--${k} is required`);
  return a;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const images = expandInputs([a.images]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-web-finetune-'));
  const demo = await startWebDemo({ model: path.resolve(a.model), port: 0, buildDir: path.join(dir, 'site') });
  const { context, page, offHost } = await openOfflinePage(path.join(dir, 'profile'), demo.port, `${demo.url}?ep=wasm&tfbackend=${a.tfbackend}`);
  try {
    await page.waitForFunction(`globalThis.__onnxtune && globalThis.__onnxtune.state === 'ready'`, undefined, { timeout: 120_000 });
    for (const k of ['sigma', 'steps', 'batch', 'patch', 'lr', 'seed']) await page.fill(`#ft-${k}`, a[k]);
    await page.setInputFiles('#ft-files', images);
    await page.waitForFunction(`globalThis.__onnxtune.finetune.images === ${images.length}`);
    const t0 = Date.now();
    await page.click('#ft-start');
    await page.waitForFunction(`['done', 'error'].includes(globalThis.__onnxtune.finetune.state)`, undefined, { timeout: 0, polling: 1000 });
    const ft = (await page.evaluate(`(({ state, error, backend, losses, msPerStep, lossBefore, lossAfter, patches }) =>
      ({ state, error, backend, steps: losses.length, msPerStep, lossBefore, lossAfter, patches: patches && patches.count }))(globalThis.__onnxtune.finetune)`)) as Record<string, unknown>;
    if (ft.state !== 'done') throw new Error(`the page reports: ${String(ft.error)}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ft-download')]);
    await download.saveAs(path.resolve(a.out));
    const result = { ...ft, wallSeconds: (Date.now() - t0) / 1000, settings: a, images: images.length, offHostRequests: offHost.length };
    writeJsonAtomic(`${path.resolve(a.out)}.json`, result);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await context.close();
    await demo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
