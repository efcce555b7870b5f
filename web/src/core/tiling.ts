/**
 * Tiled inference for images larger than one model call should see: tiles of T×T pixels that
 * overlap by O, each tile's output weighted by a linear ramp across the overlap (never at the
 * image border) and the weighted sum divided by the sum of weights. Accumulating in float64 makes
 * the blend exact for per-pixel models: tiling the identity reproduces the input bit for bit.
 * The page and the CLI use this one implementation.
 */

/** One image, planar (CHW), values in [0, 1]. */
export interface Planar {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Tile size (square, or [height, width]) and overlap in pixels. */
export interface TileOptions {
  tile: number | readonly [number, number];
  overlap: number;
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

/** Defaults used by the page and the CLI. */
export const DEFAULT_TILING: Readonly<TileOptions> = Object.freeze({ tile: 256, overlap: 32 });

/**
 * Start offsets along one axis: steps of `tile − overlap`, the last tile flush with the end.
 * A side no longer than `tile` is one tile of the whole side.
 * @throws RangeError when tile < 1 or overlap is not in [0, tile)
 */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (!Number.isInteger(tile) || tile < 1) throw new RangeError(`tile size must be a positive integer, got ${tile}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tile) {
    throw new RangeError(`overlap must be an integer in [0, ${tile}), got ${overlap}`);
  }
  if (size <= tile) return [0];
  const step = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += step) starts.push(s);
  starts.push(size - tile);
  return starts;
}

function tileSize(opts: TileOptions): [number, number] {
  return typeof opts.tile === 'number' ? [opts.tile, opts.tile] : [opts.tile[0], opts.tile[1]];
}

/** The tiles covering an H×W image, row by row. */
export function planTiles(height: number, width: number, opts: TileOptions): TileRect[] {
  const [th, tw] = tileSize(opts);
  const ys = tileStarts(height, th, opts.overlap);
  const xs = tileStarts(width, tw, opts.overlap);
  const out: TileRect[] = [];
  for (const y of ys) for (const x of xs) out.push({ y, x, height: Math.min(th, height), width: Math.min(tw, width) });
  return out;
}

/**
 * Blend weights along one axis for a tile of `length` at `start` in a side of `size`: 1 inside,
 * a linear ramp (i + ½)/O over the first and last O pixels, except on edges at the image border.
 * Always > 0, so every pixel a tile covers counts.
 */
export function rampWeights(start: number, length: number, size: number, overlap: number): Float64Array {
  const w = new Float64Array(length).fill(1);
  if (overlap === 0) return w;
  const rampIn = start > 0;
  const rampOut = start + length < size;
  for (let i = 0; i < length; i++) {
    if (rampIn) w[i] = Math.min(w[i], (i + 0.5) / overlap);
    if (rampOut) w[i] = Math.min(w[i], (length - i - 0.5) / overlap);
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
    const wy = rampWeights(rect.y, rect.height, H, opts.overlap);
    const wx = rampWeights(rect.x, rect.width, W, opts.overlap);
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
