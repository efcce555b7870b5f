/**
 * Runs any single-input, single-output ONNX denoiser on HWC images in [0,1] from Node: a thin
 * HWC adapter over the page's pipeline (src/inference/node-denoise.ts → src/denoise), so `eval`,
 * `denoise`, the benchmarks and the browser share metadata handling, value-range mapping,
 * tiling and the clip of the output to [0,1].
 */
import type { Device } from '../backends/device';
import { nchwToNhwc, nhwcToNchw } from '../tensor/layout';
import { openNodeDenoiser } from './node-denoise';

export interface RunOptions {
  /** Tile side in pixels (default 256); a tile ≥ both sides runs the whole image at once. */
  tile?: number;
  /** Overlap between tiles in pixels (default 64), blended linearly. */
  overlap?: number;
  /** Context-only pixels at each shared tile side (default 16; see src/denoise/tiling.ts). */
  margin?: number;
  /** Geometric self-ensemble: views averaged per tile (1, 2, 4 or 8; default 1; see src/denoise/ensemble.ts). */
  ensemble?: number;
}

export interface OnnxDenoiser {
  file: string;
  input: string;
  output: string;
  channels: 1 | 3;
  metadata: Record<string, string>;
  ep: string;
  /** Denoises one HWC image; returns HWC in [0,1] and how many tiles it took. */
  run(image: Float32Array, width: number, height: number, opts?: RunOptions): Promise<Float32Array>;
  /** Tiles used by the last `run`. */
  lastTiles(): number;
  release(): Promise<void>;
}

/**
 * Opens `file` in onnxruntime-node.
 * @throws InputError when the model is not a one-input, one-output float32 denoiser.
 */
export async function openDenoiser(file: string, opts: { device?: Device; threads?: number } = {}): Promise<OnnxDenoiser> {
  const d = await openNodeDenoiser(file, { device: opts.device ?? 'cpu', threads: opts.threads });
  const C = d.info.channels;
  let tiles = 0;
  return {
    file,
    input: d.info.input.name,
    output: d.info.output.name,
    channels: C,
    metadata: d.info.metadata,
    ep: d.session.ep,
    async run(image, width, height, ropts = {}) {
      const planar = { data: nhwcToNchw(image, 1, height, width, C), channels: C, height, width };
      const r = await d.denoise(planar, { tile: ropts.tile, overlap: ropts.overlap, margin: ropts.margin, ensemble: ropts.ensemble });
      tiles = r.tiles.length;
      return nchwToNhwc(r.output.data, 1, C, height, width);
    },
    lastTiles: () => tiles,
    release: () => d.release(),
  };
}
