/**
 * Calibration inputs from image files: clean images with seeded Gaussian noise of the σ the
 * model was trained for (the evaluation protocol's noise, not clipped), or the noisy image of
 * real noisy/clean pairs, as [1, C, H, W] feeds for the model's one image input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FloatTensor } from '../../src/backends/ort';
import { listImages, loadImageAs } from '../../src/data/folder';
import { listPairs } from '../../src/data/pairs';
import { InputError } from '../../src/errors';
import { noisyImage } from '../../src/eval/evaluate';
import { nhwcToNchw } from '../../src/tensor/layout';

/** Options of {@link loadCalibrationFeeds}. */
export interface CalibrationDataOptions {
  /** Image files and/or folders (a folder gives its images in name order). */
  paths: readonly string[];
  /** The model's image input. */
  inputName: string;
  channels: 1 | 3;
  /** σ (0–255) of the Gaussian noise added to clean images; ignored with `pairs`. */
  sigma?: number;
  /** Take the noisy image of each `<name>_real.*` / `<name>_mean.*` pair (suffixes as given). */
  pairs?: { noisySuffix: string; cleanSuffix: string };
  /** Use at most this many images (default 16). */
  limit?: number;
  seed?: number;
}

/** The calibration feeds and what they were made of (for the model's metadata). */
export async function loadCalibrationFeeds(opts: CalibrationDataOptions): Promise<{ feeds: Record<string, FloatTensor>[]; source: Record<string, unknown> }> {
  const limit = opts.limit ?? 16;
  let files: string[] = [];
  if (opts.pairs) {
    for (const p of opts.paths) {
      files.push(...listPairs({ dir: p, noisy_suffix: opts.pairs.noisySuffix, clean_suffix: opts.pairs.cleanSuffix }).map((x) => x.noisy));
    }
  } else {
    for (const p of opts.paths) files.push(...(isDir(p) ? listImages(p) : [p]));
  }
  files = files.slice(0, limit);
  if (!files.length) throw new InputError(opts.paths.join(', '), 'holds no calibration images');
  const feeds: Record<string, FloatTensor>[] = [];
  for (const f of files) {
    const img = await loadImageAs(f, opts.channels);
    const hwc = opts.pairs || !opts.sigma ? img.data : noisyImage(img, opts.sigma, opts.seed ?? 0);
    const data = opts.channels === 1 ? hwc : nhwcToNchw(hwc, 1, img.height, img.width, 3);
    feeds.push({ [opts.inputName]: { data, dims: [1, opts.channels, img.height, img.width] } });
  }
  const source = {
    images: files.map((f) => path.basename(f)),
    from: opts.paths.map((p) => path.basename(p)),
    noise: opts.pairs ? 'real pairs' : opts.sigma ? `gaussian sigma ${opts.sigma} seed ${opts.seed ?? 0}` : 'none (images used as given)',
  };
  return { feeds, source };
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch (err) {
    throw new InputError(p, `cannot read calibration input: ${(err as Error).message}`, { cause: err });
  }
}
