/**
 * Tiled inference for images larger than one model call should see (the overlap-tile strategy):
 * tiles of T×T pixels that overlap by O. On each side a tile shares with a neighbour, its outer M
 * pixels are context only (weight 0: a convolution's output there saw the tile's zero/reflect
 * padding instead of the real neighbours), and its weight then ramps linearly up to 1 across the
 * rest of the overlap; sides on the image border keep full weight (the whole-image run pads them
 * the same way). Tile starts are multiples of `align` (the model's internal stride multiple), so
 * every tile sees the same down-sampling grid as the whole image. The weighted sum is divided by
 * the sum of weights, accumulated in float64: tiling the identity reproduces the input bit for
 * bit, and a model whose receptive field radius is at most M is reproduced exactly.
 * The page and the CLI use this one implementation.
 */

/** One image, planar (CHW), values in [0, 1]. */
export interface Planar {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Tile size (square, or [height, width]), overlap, context margin and start alignment in pixels. */
export interface TileOptions {
  tile: number | readonly [number, number];
  overlap: number;
  /** Context-only pixels at each shared tile side (weight 0); 2·margin < overlap. Default 0. */
  margin?: number;
  /** Tile starts are multiples of this (the model's stride multiple). Default 1. */
  align?: number;
}

/** A tile's place in the image. */
export interface TileRect {
  y: number;
  x: number;
  height: number;
  width: number;
}

/** Runs the model on one tile; returns C×h×w values. */
export type TileRunner = (tile: Planar, index: number) => Promise<Float32Array>;

/**
 * Defaults used by the page and the CLI: 256-pixel tiles overlapping by 64, of which 16 on each
 * side are context only. Measured on a frozen ResNet-20 + U-Net denoiser (receptive field far
 * beyond 16 px): 512×512 tiled vs untiled max abs 7.1e-4, where 32/0 gave 3.7e-3 (bench/denoise-large.ts).
 */
export const DEFAULT_TILING: Readonly<{ tile: number; overlap: number; margin: number }> = Object.freeze({ tile: 256, overlap: 64, margin: 16 });

/** The overlap for a tile side when none is asked for: a quarter of the side, at most {@link DEFAULT_TILING}'s 64. */
export function defaultOverlap(side: number): number {
  return Math.min(DEFAULT_TILING.overlap, Math.floor(side / 4));
}

/**
 * Checks one axis's tiling numbers (what {@link tileStarts} and {@link planTiles} apply).
 * @throws RangeError naming the value that cannot work
 */
export function checkTileOptions(tile: number, overlap: number, margin = 0, align = 1): void {
  if (!Number.isInteger(tile) || tile < 1) throw new RangeError(`tile size must be a positive integer, got ${tile}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tile) {
    throw new RangeError(`overlap must be an integer in [0, ${tile}), got ${overlap}`);
  }
  if (!Number.isInteger(margin) || margin < 0 || (margin > 0 && 2 * margin >= overlap)) {
    throw new RangeError(`margin must be an integer ≥ 0 with 2·margin < overlap (${overlap}), got ${margin}`);
  }
  if (!Number.isInteger(align) || align < 1) throw new RangeError(`align must be a positive integer, got ${align}`);
}

/**
 * Start offsets along one axis: steps of `tile − overlap` rounded down to a multiple of `align`,
 * the last tile starting at the first multiple of `align` that lets it reach the end (it may then
 * be shorter than `tile`). A side no longer than `tile` is one tile of the whole side.
 * @throws RangeError when tile < 1, overlap is not in [0, tile), or the alignment leaves no step
 */
export function tileStarts(size: number, tile: number, overlap: number, align = 1, margin = 0): number[] {
  checkTileOptions(tile, overlap, margin, align);
  if (size <= tile) return [0];
  const step = Math.floor((tile - overlap) / align) * align;
  if (step < 1) throw new RangeError(`tile ${tile} − overlap ${overlap} is less than the alignment ${align}: no whole step`);
  const starts: number[] = [];
  let s = 0;
  for (; s + tile < size; s += step) starts.push(s);
  const last = Math.ceil((size - tile) / align) * align;
  if (last > starts[starts.length - 1]) starts.push(last);
  return starts;
}

function tileSize(opts: TileOptions): [number, number] {
  return typeof opts.tile === 'number' ? [opts.tile, opts.tile] : [opts.tile[0], opts.tile[1]];
}

/** The tiles covering an H×W image, row by row. */
export function planTiles(height: number, width: number, opts: TileOptions): TileRect[] {
  const [th, tw] = tileSize(opts);
  const align = opts.align ?? 1;
  const margin = opts.margin ?? 0;
  const ys = tileStarts(height, th, opts.overlap, align, margin);
  const xs = tileStarts(width, tw, opts.overlap, align, margin);
  const out: TileRect[] = [];
  for (const y of ys) for (const x of xs) out.push({ y, x, height: Math.min(th, height - y), width: Math.min(tw, width - x) });
  return out;
}

/**
 * Blend weights along one axis for a tile of `length` at `start` in a side of `size`: 1 inside;
 * on a side shared with a neighbour, 0 over the outer `margin` pixels, then a linear ramp
 * (i − margin + ½)/(overlap − 2·margin) up to 1; full weight on sides at the image border.
 */
export function rampWeights(start: number, length: number, size: number, overlap: number, margin = 0): Float64Array {
  const w = new Float64Array(length).fill(1);
  if (overlap === 0) return w;
  const ramp = overlap - 2 * margin;
  const edge = (i: number) => (i < margin ? 0 : Math.min(1, (i - margin + 0.5) / ramp));
  const rampIn = start > 0;
  const rampOut = start + length < size;
  for (let i = 0; i < length; i++) {
    if (rampIn) w[i] = Math.min(w[i], edge(i));
    if (rampOut) w[i] = Math.min(w[i], edge(length - 1 - i));
  }
  return w;
}

/** Copies a tile (all channels) out of a planar image. */
export function extractTile(image: Planar, rect: TileRect): Planar {
  const { channels: C, height: H, width: W } = image;
  const out = new Float32Array(C * rect.height * rect.width);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < rect.height; y++) {
      const src = c * H * W + (rect.y + y) * W + rect.x;
      out.set(image.data.subarray(src, src + rect.width), (c * rect.height + y) * rect.width);
    }
  }
  return { data: out, channels: C, height: rect.height, width: rect.width };
}

/**
 * Runs `run` over the tiles of `image` and blends the outputs.
 * @returns the blended C×H×W output (same channel count as the input)
 * @throws RangeError when a tile output has the wrong size
 */
export async function runTiled(image: Planar, run: TileRunner, opts: TileOptions): Promise<{ output: Float32Array; tiles: TileRect[] }> {
  const { channels: C, height: H, width: W } = image;
  const tiles = planTiles(H, W, opts);
  if (tiles.length === 1) {
    const out = await run(image, 0);
    if (out.length !== image.data.length) throw new RangeError(`tile output has ${out.length} values, expected ${image.data.length}`);
    return { output: out, tiles };
  }
  const acc = new Float64Array(C * H * W);
  const wsum = new Float64Array(H * W);
  for (let k = 0; k < tiles.length; k++) {
    const rect = tiles[k];
    const tile = extractTile(image, rect);
    const out = await run(tile, k);
    if (out.length !== tile.data.length) throw new RangeError(`tile ${k} output has ${out.length} values, expected ${tile.data.length}`);
    const wy = rampWeights(rect.y, rect.height, H, opts.overlap, opts.margin ?? 0);
    const wx = rampWeights(rect.x, rect.width, W, opts.overlap, opts.margin ?? 0);
    for (let y = 0; y < rect.height; y++) {
      const row = (rect.y + y) * W + rect.x;
      for (let x = 0; x < rect.width; x++) wsum[row + x] += wy[y] * wx[x];
      for (let c = 0; c < C; c++) {
        const src = (c * rect.height + y) * rect.width;
        const dst = c * H * W + row;
        for (let x = 0; x < rect.width; x++) acc[dst + x] += wy[y] * wx[x] * out[src + x];
      }
    }
  }
  const output = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < H * W; p++) output[c * H * W + p] = acc[c * H * W + p] / wsum[p];
  }
  return { output, tiles };
}
