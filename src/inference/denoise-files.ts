/**
 * Denoises image files with an exported (or any one-input) ONNX denoiser: any size (tiled with
 * overlap, context margins and linear blending, so memory stays bounded), gray and RGB (a gray model on an RGB
 * image denoises each channel, or the luma only, as asked), 8- and 16-bit in and out. Of several
 * inputs, one that cannot be read is logged as a warning and skipped, and the others are denoised;
 * the result lists what was skipped (the CLI then exits with code 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Device } from '../backends/device';
import { listImages, rgbToGray } from '../data/folder';
import { InputError } from '../errors';
import { readImage, sourceBitDepth } from '../images/png';
import { OUTPUT_FORMATS, writeImage, type BitDepth } from '../images/write';
import { log } from '../log';
import { ComparePage } from './compare-page';
import { openDenoiser, type OnnxDenoiser } from './onnx-denoiser';

export type ColorMode = 'per-channel' | 'luma';

export interface DenoiseFilesOptions {
  out: string;
  device?: Device;
  tile?: number;
  overlap?: number;
  margin?: number;
  /** Geometric self-ensemble views per tile (1, 2, 4 or 8; n× the time). */
  ensemble?: number;
  /** A gray model on an RGB image: denoise each channel (default), or the luma only (gray output). */
  color?: ColorMode;
  /** Output bits per channel; default: the input's (8 or 16). */
  bitDepth?: BitDepth;
  /** Overwrite existing output files. */
  force?: boolean;
  /** Also write a before/after page, `<out>/index.html` with previews in `<out>/compare/` (default false). */
  page?: boolean;
}

export interface DenoisedFile {
  input: string;
  output: string;
  width: number;
  height: number;
  channels: number;
  tiles: number;
  seconds: number;
}

/** An input that could not be read as an image, and why. */
export interface SkippedFile {
  input: string;
  error: InputError;
}

/** What {@link denoiseFiles} did: the files it wrote, in input order, and the inputs it skipped. */
export interface DenoiseFilesResult {
  done: DenoisedFile[];
  skipped: SkippedFile[];
  /** The before/after page, when asked for. */
  page?: string;
}

/** Expands folders to their image files (sorted); files are kept as given. */
export function expandInputs(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of inputs) {
    if (!fs.existsSync(p)) throw new InputError(p, 'no such file or folder');
    files.push(...(fs.statSync(p).isDirectory() ? listImages(p) : [p]));
  }
  return files;
}

function channel(data: Float32Array, c: number, C: number): Float32Array {
  const out = new Float32Array(data.length / C);
  for (let i = 0; i < out.length; i++) out[i] = data[i * C + c];
  return out;
}

async function denoiseOne(d: OnnxDenoiser, img: { data: Float32Array; width: number; height: number; channels: 1 | 3 }, opts: DenoiseFilesOptions) {
  const { width: W, height: H } = img;
  const run = (x: Float32Array) => d.run(x, W, H, { tile: opts.tile, overlap: opts.overlap, margin: opts.margin, ensemble: opts.ensemble });
  if (img.channels === d.channels) return { data: await run(img.data), channels: img.channels, runs: 1 };
  if (d.channels === 1) {
    if (opts.color === 'luma') return { data: await run(rgbToGray(img.data)), channels: 1 as const, runs: 1 };
    const out = new Float32Array(img.data.length);
    for (let c = 0; c < 3; c++) {
      const y = await run(channel(img.data, c, 3));
      for (let i = 0; i < y.length; i++) out[i * 3 + c] = y[i];
    }
    return { data: out, channels: 3 as const, runs: 3 };
  }
  // An RGB model on a gray image: run it on the gray repeated to RGB, keep the channel mean.
  const rgb = new Float32Array(img.data.length * 3);
  for (let i = 0; i < img.data.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img.data[i];
  const y = await run(rgb);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (y[3 * i] + y[3 * i + 1] + y[3 * i + 2]) / 3;
  return { data: out, channels: 1 as const, runs: 1 };
}

/** Output path for `input`: same base name in `out`, same format when it can be written, else PNG. */
export function outputPath(input: string, out: string): string {
  const ext = path.extname(input).toLowerCase();
  const keep = (OUTPUT_FORMATS as readonly string[]).includes(ext);
  return path.join(out, keep ? path.basename(input) : path.basename(input, path.extname(input)) + '.png');
}

/**
 * Denoises every image of `inputs` (files or folders) into `opts.out`. When there are several, an
 * image that cannot be read (corrupt, truncated, not an image, too large) is logged as a warning
 * naming the file, skipped and listed in `skipped`; the others are still denoised.
 * @throws InputError for a missing input, an existing output without `force`, or an unreadable
 *   image when it is the only one.
 */
export async function denoiseFiles(model: string, inputs: readonly string[], opts: DenoiseFilesOptions): Promise<DenoiseFilesResult> {
  const files = expandInputs(inputs);
  const targets = files.map((f) => outputPath(f, opts.out));
  if (new Set(targets).size !== targets.length) throw new InputError(opts.out, 'two inputs have the same file name; denoise them into separate folders');
  if (!opts.force) {
    const existing = targets.filter((t) => fs.existsSync(t));
    if (existing.length) throw new InputError(existing[0], `exists (${existing.length} output file(s) would be overwritten); pass --force to overwrite`);
  }
  const page = opts.page ? new ComparePage(opts.out, `onnxtune denoise: ${path.basename(model)}`, opts.force) : undefined;
  const d = await openDenoiser(model, { device: opts.device });
  const done: DenoisedFile[] = [];
  const skipped: SkippedFile[] = [];
  try {
    for (const [k, file] of files.entries()) {
      const t0 = performance.now();
      let img: Awaited<ReturnType<typeof readImage>>;
      try {
        img = await readImage(file, { keepAlpha: true });
      } catch (err) {
        if (!(err instanceof InputError) || files.length === 1) throw err;
        log.warn(`${err.message}; skipped`);
        skipped.push({ input: file, error: err });
        continue;
      }
      const deep = (await sourceBitDepth(file)) === 16;
      const r = await denoiseOne(d, img, opts);
      // Transparency passes through untouched: the model denoises the colour channels only.
      await writeImage(targets[k], r.data, img.width, img.height, r.channels, opts.bitDepth ?? (deep ? 16 : 8), img.alpha);
      const seconds = (performance.now() - t0) / 1000;
      const tiles = d.lastTiles() * r.runs;
      done.push({ input: file, output: targets[k], width: img.width, height: img.height, channels: r.channels, tiles, seconds });
      await page?.add(file, img, r, img.width, img.height, seconds);
      log.info(`[${k + 1}/${files.length}] ${path.basename(file)}: ${img.width}×${img.height}×${img.channels}, ${tiles} tile(s), ${seconds.toFixed(2)} s → ${targets[k]}`);
    }
  } finally {
    await d.release();
  }
  return { done, skipped, ...(page && done.length ? { page: page.finish() } : {}) };
}
