/**
 * The CLI's fine-tuning (Node edge of pipeline/finetune): image files → seeded noisy patches →
 * frozen encoder in onnxruntime-node → the same HeadTrainer and export the page's worker uses,
 * on the TF.js runtime src/backends/tf.ts picks → ONE .onnx written atomically.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Device } from '../../src/backends/device';
import { createSession } from '../../src/backends/ort';
import { initTf } from '../../src/backends/tf';
import { loadImageAs } from '../../src/data/folder';
import { pairByName } from '../../src/data/pair-names';
import { InputError } from '../../src/errors';
import { writeFileAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { addGaussianNoise } from '../../src/noise/gaussian';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import { forkRng } from '../../src/random';
import { buildHeadData, cutPatches, exportFinetuned, headToTfjs, HeadTrainer } from './finetune';
import { splitDenoiser } from './split';

/** Options of {@link finetuneFiles}. */
export interface FinetuneFilesOptions {
  out: string;
  /** σ on the 0–255 scale, or [low, high] (one level per image, seeded); unused with `pairs`. */
  sigma: [number, number];
  /** Real noise: the images are noisy/clean pairs named `<name><noisySuffix>.*` / `<name><cleanSuffix>.*` (as the page's Pairs option). */
  pairs?: { noisySuffix: string; cleanSuffix: string };
  steps: number;
  batchSize: number;
  lr: number;
  patch: number;
  seed: number;
  device?: Device;
  /** Called after each step (progress). */
  onStep?: (step: number, loss: number) => void;
}

/** What {@link finetuneFiles} did. */
export interface FinetuneFilesResult {
  out: string;
  images: number;
  patches: number;
  steps: number;
  lossBefore: number;
  lossAfter: number;
  msPerStep: number;
  runtime: string;
}

/**
 * Fine-tunes `modelFile`'s head on clean `images` with synthetic Gaussian noise and writes the result.
 * @throws InputError for a model that onnxtune did not export, or an unreadable image
 */
export async function finetuneFiles(modelFile: string, images: readonly string[], opts: FinetuneFilesOptions): Promise<FinetuneFilesResult> {
  const split = splitDenoiser(loadModel(modelFile), modelFile);
  const channels = split.io.channels as 1 | 3;
  const planar = async (f: string) => {
    const img = await loadImageAs(f, channels);
    // loadImageAs gives HWC; the core works on planes (CHW).
    const planes = new Float32Array(img.data.length);
    const n = img.height * img.width;
    for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) planes[c * n + i] = img.data[i * channels + c];
    return { data: planes, channels, height: img.height, width: img.width };
  };
  const [lo, hi] = opts.sigma;
  const clean = [];
  let noisy: Float32Array[];
  let noise: string;
  if (opts.pairs) {
    const { pairs, unpaired } = pairByName(images, opts.pairs.noisySuffix, opts.pairs.cleanSuffix);
    if (unpaired.length) throw new InputError(unpaired[0], `no clean partner (*${opts.pairs.cleanSuffix}.*) among the inputs`);
    if (!pairs.length) throw new InputError(images[0] ?? 'inputs', `no *${opts.pairs.noisySuffix}.* / *${opts.pairs.cleanSuffix}.* pairs among the inputs`);
    noisy = [];
    for (const p of pairs) {
      const [n, c] = [await planar(p.noisy), await planar(p.clean)];
      if (n.width !== c.width || n.height !== c.height) throw new InputError(p.noisy, `is ${n.width}×${n.height}, its clean partner ${c.width}×${c.height}`);
      noisy.push(n.data);
      clean.push(c);
    }
    noise = `real pairs (${pairs.length})`;
  } else {
    for (const f of images) clean.push(await planar(f));
    // The same noise as the page's panel for the same seed: one level per image, then seeded noise.
    noisy = clean.map((c, k) => addGaussianNoise(c.data, lo === hi ? lo : lo + (hi - lo) * forkRng(opts.seed, 'ft-sigma', k).uniform(), opts.seed * 1000 + k, false));
    noise = lo === hi ? `gaussian sigma=${lo}` : `gaussian sigma=${lo}-${hi}`;
  }
  const S = split.io.strideMultiple;
  const patch = Math.max(S, Math.round(opts.patch / S) * S);
  const patches = cutPatches(clean, noisy, patch);
  if (patches.tooSmall) log.warn(`${patches.tooSmall} of ${clean.length} images are smaller than one ${patch}×${patch} patch and give none (--patch sets the side)`);
  const enc = await createSession(encodeModel(split.encoder), { device: opts.device ?? 'auto', label: 'encoder' });
  const data = await buildHeadData(patches, (split.decoder.graph?.input ?? []).map((i) => i.name as string), async (image, dims) => {
    const outs = await enc.run({ image: { data: image, dims } });
    return split.io.taps.map((t) => outs[t.name]);
  });
  await enc.release();
  const rt = await initTf({ device: opts.device });
  const head = headToTfjs(rt.tf, split);
  const trainer = new HeadTrainer(rt.tf, head.model, data, { seed: opts.seed, batchSize: opts.batchSize, lr: opts.lr });
  const lossBefore = await trainer.evaluate();
  log.info(`Fine-tuning ${path.basename(modelFile)} on ${clean.length} ${opts.pairs ? 'pairs' : 'images'} (${patches.count} patches of ${patch}×${patch}), ${opts.steps} steps on ${rt.description}`);
  const t0 = performance.now();
  for (let s = 0; s < opts.steps; s++) opts.onStep?.(s + 1, await trainer.step());
  const msPerStep = (performance.now() - t0) / Math.max(1, opts.steps);
  const lossAfter = await trainer.evaluate();
  trainer.dispose();
  const model = exportFinetuned(split, head, {
    base: path.basename(modelFile), steps: trainer.steps, images: clean.length, patches: patches.count,
    noise, seed: opts.seed, lr: opts.lr, batchSize: opts.batchSize, runtime: `cli/tfjs-${rt.backend}`,
  });
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  writeFileAtomic(opts.out, encodeModel(model));
  return { out: opts.out, images: clean.length, patches: patches.count, steps: trainer.steps, lossBefore, lossAfter, msPerStep, runtime: rt.description };
}
