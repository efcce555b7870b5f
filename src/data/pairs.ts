/**
 * Real noisy/clean image pairs in one folder, PolyU style: `<name><noisy_suffix>.<ext>` (noisy,
 * e.g. `chair_11_real.JPG`) next to `<name><clean_suffix>.<ext>` (clean reference, e.g.
 * `chair_11_mean.JPG`). Used by the `pairs` data source of jobs and by `onnxtune eval --pairs`.
 */
import * as path from 'node:path';
import { InputError } from '../errors';
import { IMAGE_EXTENSIONS, listImages, loadImageAs, type LoadedImage } from './folder';
import { pairByName } from './pair-names';

/** Where to look for pairs and how their files are named. */
export interface PairNaming {
  dir: string;
  /** File-name suffix (before the extension) of the noisy image, e.g. `_real`. */
  noisy_suffix: string;
  /** File-name suffix of the clean (reference) image, e.g. `_mean`. */
  clean_suffix: string;
}

/** One pair: its name (the common file-name prefix) and both files. */
export interface ImagePairFiles {
  name: string;
  noisy: string;
  clean: string;
}

/**
 * The noisy/clean files of every pair in `data.dir`, sorted by pair name.
 * @throws InputError when a noisy image has no clean partner, or when the folder holds no pair
 *   (the message names the folder and the file names expected)
 */
export function listPairs(data: PairNaming): ImagePairFiles[] {
  const { pairs, unpaired } = pairByName(listImages(data.dir, { allowEmpty: true }), data.noisy_suffix, data.clean_suffix);
  if (unpaired.length) {
    const stem = path.basename(unpaired[0], path.extname(unpaired[0]));
    throw new InputError(unpaired[0], `no clean partner '${stem.slice(0, -data.noisy_suffix.length)}${data.clean_suffix}.*' in ${data.dir}`);
  }
  if (!pairs.length) {
    throw new InputError(
      data.dir,
      `no '*${data.noisy_suffix}.*' / '*${data.clean_suffix}.*' pairs in this folder: expected <name>${data.noisy_suffix}.<ext> (noisy) ` +
        `next to <name>${data.clean_suffix}.<ext> (clean), <ext> one of ${IMAGE_EXTENSIONS.join(', ')} (any case)`,
    );
  }
  return pairs;
}

/**
 * Loads both images of a pair as `channels` channels.
 * @throws InputError naming the file when one is unreadable, smaller than `minSide`, or the two differ in size
 */
export async function loadPair(
  pair: ImagePairFiles, channels: 1 | 3, minSide = 1, minSideReason = 'the patch size / SSIM window',
): Promise<{ noisy: LoadedImage; clean: LoadedImage }> {
  const noisy = await loadImageAs(pair.noisy, channels, { minSide, minSideReason });
  const clean = await loadImageAs(pair.clean, channels, { minSide, minSideReason });
  if (noisy.width !== clean.width || noisy.height !== clean.height) {
    throw new InputError(pair.noisy, `is ${noisy.width}×${noisy.height} but its clean partner is ${clean.width}×${clean.height}`);
  }
  return { noisy, clean };
}
