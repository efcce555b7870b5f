/**
 * One denoise of a planar image with a described model, independent of the runtime: map [0,1]
 * to the model's value range, pack to its input dtype, run tile by tile (see tiling.ts), unpack,
 * map back and clip. The page passes an onnxruntime-web call, the CLI an onnxruntime-node one.
 */
import { cropNhwc, padAmount, reflectPadNhwc } from '../tensor/pad';
import { ensembleViews, selfEnsemble, swapsAxes } from './ensemble';
import type { DenoiserInfo } from './model-info';
import { decodeOutput, encodeInput, fromModelRange, toModelRange, type ModelTensorData } from './pixels';
import { DEFAULT_TILING, defaultOverlap, runTiled, type Planar, type TileOptions, type TileRect } from './tiling';

/** Runs the model once on a [1, C, h, w] tensor of the model's input type; returns the output values. */
export type ModelCall = (input: ModelTensorData, dims: [number, number, number, number]) => Promise<ArrayLike<number>>;

/** Options of {@link denoiseImage}. */
export interface DenoiseOptions extends Partial<TileOptions> {
  /** A monotonic clock in ms (performance.now); model time is summed from it. */
  now?: () => number;
  /**
   * Geometric self-ensemble (ensemble.ts): each tile is denoised under this many flips/rotations (1, 2, 4 or 8)
   * and the results averaged; n× the model time. Default 1.
   */
  ensemble?: number;
}

/** The result of {@link denoiseImage}. */
export interface DenoiseResult {
  output: Planar;
  tiles: TileRect[];
  /** Time inside model calls (ms). */
  modelMs: number;
  /** Time for the whole denoise including packing and blending (ms). */
  totalMs: number;
}

/**
 * Tile options for a model: its fixed input size when it has one, else the requested/default tile;
 * tile starts aligned to the model's stride multiple; the overlap defaults to a quarter of the tile (at
 * most 64 px); the context margin defaults to 16 px, or less
 * when a smaller overlap leaves no room for it (2·margin < overlap).
 * @throws RangeError when a fixed-size model meets a smaller image
 */
export function tilingFor(info: DenoiserInfo, height: number, width: number, requested: Partial<TileOptions> = {}): TileOptions {
  let tile: TileOptions['tile'] = requested.tile ?? DEFAULT_TILING.tile;
  let align = info.strideMultiple;
  if (info.fixedSize) {
    const [fh, fw] = info.fixedSize;
    if (height < fh || width < fw) throw new RangeError(`the model takes fixed ${fh}×${fw} inputs; the image is ${height}×${width}`);
    tile = [fh, fw];
    align = 1;
  }
  const side = typeof tile === 'number' ? tile : Math.min(tile[0], tile[1]);
  // A quarter of the side: clamping 64 to side − 1 alone would step a fixed 32×32 model by 1 pixel (~50,000 calls for 256²).
  const overlap = Math.min(requested.overlap ?? defaultOverlap(side), side - 1);
  const margin = requested.margin ?? Math.max(0, Math.min(DEFAULT_TILING.margin, Math.ceil(overlap / 2) - 1));
  return { tile, overlap, margin, align: requested.align ?? align };
}

/**
 * A tile with a side shorter than the model's stride multiple, padded to that multiple the way onnxtune's export
 * pads inside its graph (reflect, then edge; tensor/pad.ts). Exports made before the graph did the edge part
 * reflect-pad alone, which onnxruntime refuses for a 1- or 2-pixel side; padded here, they get the current result.
 */
function padShortSides(tile: Planar, multiple: number): Planar {
  if (multiple <= 1 || (tile.height >= multiple && tile.width >= multiple)) return tile;
  const [ph, pw] = [padAmount(tile.height, multiple), padAmount(tile.width, multiple)];
  // Planar [C, h, w] is NHWC with the channels as the batch and one channel each.
  const data = reflectPadNhwc(tile.data, tile.channels, tile.height, tile.width, 1, ph, pw);
  return { data, channels: tile.channels, height: tile.height + ph, width: tile.width + pw };
}

/**
 * Denoises one image.
 * @param image planar [0,1] values with the model's channel count
 * @throws RangeError when the channel count differs from the model's, a tile output has the wrong size, or the
 *   ensemble size is not 1, 2, 4 or 8 (at most 4 for a model with a fixed non-square input: the others rotate it)
 */
export async function denoiseImage(image: Planar, info: DenoiserInfo, call: ModelCall, opts: DenoiseOptions = {}): Promise<DenoiseResult> {
  if (image.channels !== info.channels) {
    throw new RangeError(`the model takes ${info.channels}-channel images, got ${image.channels} channels`);
  }
  const now = opts.now ?? (() => Date.now());
  const t0 = now();
  let modelMs = 0;
  const tiling = tilingFor(info, image.height, image.width, opts);
  const views = opts.ensemble ?? 1;
  // ensembleViews throws for a size other than 1, 2, 4, 8.
  if (ensembleViews(views).some(swapsAxes) && info.fixedSize && info.fixedSize[0] !== info.fixedSize[1]) {
    throw new RangeError(`the model takes fixed ${info.fixedSize[0]}×${info.fixedSize[1]} inputs: a self-ensemble of ${views} would rotate them; use 4 or fewer`);
  }
  const runOne = async (tile: Planar) => {
    const fed = padShortSides(tile, info.fixedSize ? 1 : info.strideMultiple);
    const input = encodeInput(toModelRange(fed.data, info.valueRange), info.input.type);
    const t = now();
    const raw = await call(input, [1, fed.channels, fed.height, fed.width]);
    modelMs += now() - t;
    const out = decodeOutput(raw, info.output.type);
    // fromModelRange works in place: never on the runtime's own array (a call may return a cached one).
    const values = fromModelRange(out === raw ? Float32Array.from(out) : out, info.valueRange);
    return fed === tile ? values : cropNhwc(values, tile.channels, fed.height, fed.width, 1, tile.height, tile.width);
  };
  const { output, tiles } = await runTiled(image, (tile) => selfEnsemble(tile, views, runOne), tiling);
  return { output: { data: output, channels: image.channels, height: image.height, width: image.width }, tiles, modelMs, totalMs: now() - t0 };
}
