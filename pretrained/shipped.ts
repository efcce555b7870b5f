/**
 * The denoisers this project trains and ships in `pretrained/denoisers/`: each `<name>.onnx` has a
 * model card `<name>.json` (what it was trained on, with which job, and what it measured). The CLI
 * resolves a shipped name wherever it takes a model file (`denoise --model gray-blind`,
 * `eval --model color-blind`) and `onnxtune models` lists the cards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { looksLikeFile } from '../src/config/schema';
import { InputError } from '../src/errors';
import { suggestClosest } from '../src/text';
import { PROJECT_ROOT } from '../src/version';

/** Folder of the shipped `.onnx` files and their cards. */
export const DENOISERS_DIR = path.join(PROJECT_ROOT, 'pretrained', 'denoisers');

/** One measured mean over a test set. */
export interface CardScore {
  /** Test set folder name under `../shared/data` (`bsd68`, `cbsd68`, `polyu_canon` …). */
  set: string;
  /** σ of the seeded Gaussian noise (0–255 scale), or `'real'` for noisy/clean pairs. */
  sigma: number | 'real';
  images: number;
  noisyPsnr: number;
  psnr: number;
  ssim: number;
}

/** A reference result for the same set and σ (a classical filter measured here, or a published figure). */
export interface CardReference {
  method: string;
  set: string;
  sigma: number | 'real';
  psnr: number;
  ssim?: number;
  /** Where the figure comes from ("published", "measured here: onnxtune eval --baseline nlm …"). */
  source: string;
}

/** The fast check `test/pretrained/shipped-denoisers.test.ts` repeats: PSNR on small center crops. */
export interface CardRegression {
  set: string;
  /** `gaussian`: clean images with seeded noise at each σ; `pairs`: real noisy/clean pairs (by pair name). */
  kind: 'gaussian' | 'pairs';
  images: string[];
  crop: number;
  sigmas: number[];
  seed: number;
  /** Mean PSNR over the crops, one per σ (one value for pairs). */
  psnr: number[];
}

/** A shipped denoiser's model card (`pretrained/denoisers/<name>.json`). */
export interface DenoiserCard {
  name: string;
  file: string;
  summary: string;
  channels: 1 | 3;
  /** The noise it was trained for, in words ("Gaussian σ = 25", "Gaussian σ ∈ [0, 55]", "real camera noise"). */
  noise: string;
  training: {
    job: string;
    command: string;
    data: string;
    licence: string;
    trainSeconds: number;
    samples: number;
    epochs: number;
    backend: string;
  };
  results: CardScore[];
  references: CardReference[];
  /** Max |exported model − onnxruntime encoder + tfjs head| from the run's verify stage. */
  exportParity: number;
  /** `float16`: weights stored as float16, computed in float32 (converters/fp16-weights.ts). */
  weights: 'float16' | 'float32';
  /** Largest |PSNR(float16 weights) − PSNR(float32)| over the results' sets, dB. */
  float16DeltaDb: number;
  bytes: number;
  sha256: string;
  regression: CardRegression;
}

/** Every card in `dir`, sorted by name. */
export function listDenoiserCards(dir = DENOISERS_DIR): DenoiserCard[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readCard(path.join(dir, f)));
}

/**
 * Reads one card.
 * @throws InputError naming the file when it is not a card
 */
export function readCard(file: string): DenoiserCard {
  let card: DenoiserCard;
  try {
    card = JSON.parse(fs.readFileSync(file, 'utf8')) as DenoiserCard;
  } catch (err) {
    throw new InputError(file, `not a readable model card: ${(err as Error).message}`);
  }
  if (typeof card.name !== 'string' || typeof card.file !== 'string' || !Array.isArray(card.results)) {
    throw new InputError(file, 'not a model card: expected name, file and results');
  }
  return card;
}

/**
 * A model argument as a file path: an existing file as given, else a shipped denoiser's name
 * (`gray-blind`) as its file in `pretrained/denoisers/`.
 * @throws InputError naming the argument, listing the shipped names and suggesting the closest
 */
export function resolveModel(arg: string, what = 'model', dir = DENOISERS_DIR): string {
  if (fs.existsSync(arg) && fs.statSync(arg).isFile()) return arg;
  const cards = listDenoiserCards(dir);
  const card = cards.find((c) => c.name === arg || c.name === arg.replace(/\.onnx$/, ''));
  if (card) return path.join(dir, card.file);
  const names = cards.map((c) => c.name);
  const close = suggestClosest(arg, names);
  throw new InputError(
    arg,
    `${what}: ${looksLikeFile(arg) ? 'no such file' : 'neither a file nor a shipped denoiser'}` +
      (names.length ? `; shipped denoisers: ${names.join(', ')} (onnxtune models)` : '') +
      (close ? `; did you mean '${close}'?` : ''),
  );
}
