/**
 * Per-channel statistics of the cached tap features and the fixed affine that standardizes them
 * (`decoder.normalize_taps`): the head then sees ~N(0, 1) taps whatever the encoder's activation
 * scale (a random-init ResNet-20's taps have std 2–20, a trained one's ≈ 1). One streaming pass
 * over the training rows: per-row mean and M2 in float64, merged with Chan et al.'s parallel
 * update (Welford for blocks), so large offsets do not cancel catastrophically.
 */
import type { ArrayInput } from './loop';

/** Mean and population std of each channel of one tap over every training row and pixel. */
export interface ChannelStats {
  mean: number[];
  std: number[];
  /** Values seen per channel. */
  count: number;
}

/** What the head's fixed input affine uses: y = (x − mean) · scale, scale = 1 / max(std, floor). */
export interface TapNorm {
  mean: number[];
  scale: number[];
}

/**
 * A channel whose std is below this fraction of its tap's largest std is treated as constant
 * (a dead ReLU: all zeros). Its scale is 1 (it is only centred), so a tiny float noise is not
 * blown up to unit variance; an all-constant tap gets scale 1 everywhere.
 */
export const DEAD_STD_FRACTION = 1e-6;

/**
 * Per-channel mean/std of NHWC rows (all of `input`'s rows unless `rows` says how many).
 * @returns float64 statistics; std is the population std (divide by the count).
 */
export function channelStats(input: ArrayInput, rows = input.data.length / (input.shape[0] * input.shape[1] * input.shape[2])): ChannelStats {
  const acc = new ChannelStatsAccumulator(input.shape[2]);
  acc.add(input, rows);
  return acc.result();
}

/**
 * The same statistics over blocks of rows seen one after another (one noise realization at a
 * time): adding blocks in order gives exactly what one {@link channelStats} over their concatenation gives.
 */
export class ChannelStatsAccumulator {
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly rowMean: Float64Array;
  private readonly rowM2: Float64Array;
  private count = 0;

  constructor(private readonly channels: number) {
    this.mean = new Float64Array(channels);
    this.m2 = new Float64Array(channels);
    this.rowMean = new Float64Array(channels);
    this.rowM2 = new Float64Array(channels);
  }

  /** Adds the first `rows` rows of `input` (NHWC, its channel count the accumulator's). */
  add(input: ArrayInput, rows = input.data.length / (input.shape[0] * input.shape[1] * input.shape[2])): void {
    const [h, w, c] = input.shape;
    if (c !== this.channels) throw new RangeError(`channel stats: ${c} channels added to an accumulator of ${this.channels}`);
    const pix = h * w;
    const { mean, m2, rowMean, rowM2 } = this;
    for (let r = 0; r < rows; r++) {
      const row = input.data.subarray(r * pix * c, (r + 1) * pix * c);
      rowMean.fill(0);
      rowM2.fill(0);
      for (let p = 0; p < pix; p++) for (let k = 0; k < c; k++) rowMean[k] += row[p * c + k];
      for (let k = 0; k < c; k++) rowMean[k] /= pix;
      for (let p = 0; p < pix; p++) {
        for (let k = 0; k < c; k++) {
          const d = row[p * c + k] - rowMean[k];
          rowM2[k] += d * d;
        }
      }
      // Chan's merge of (count, mean, m2) with the row's (pix, rowMean, rowM2).
      const total = this.count + pix;
      for (let k = 0; k < c; k++) {
        const delta = rowMean[k] - mean[k];
        mean[k] += (delta * pix) / total;
        m2[k] += rowM2[k] + (delta * delta * this.count * pix) / total;
      }
      this.count = total;
    }
  }

  result(): ChannelStats {
    return { mean: Array.from(this.mean), std: Array.from(this.m2, (v) => Math.sqrt(v / Math.max(this.count, 1))), count: this.count };
  }
}

/** The standardizing affine of one tap, with dead channels guarded (see {@link DEAD_STD_FRACTION}). */
export function tapNorm(stats: ChannelStats): TapNorm {
  const floor = DEAD_STD_FRACTION * Math.max(0, ...stats.std);
  return { mean: stats.mean, scale: stats.std.map((s) => (s > floor && s > 0 ? 1 / s : 1)) };
}

/** Channels of a tap whose std is at or below the dead-channel floor. */
export function deadChannels(stats: ChannelStats): number {
  const floor = DEAD_STD_FRACTION * Math.max(0, ...stats.std);
  return stats.std.filter((s) => s <= floor).length;
}

/** One line per tap for logs and warnings: `layer1 std 0.012–7.3 (median 2.1), 3/16 channels dead`. */
export function describeTapStats(stats: readonly ChannelStats[], names: readonly string[]): string {
  return stats
    .map((s, i) => {
      const live = s.std.filter((v) => v > DEAD_STD_FRACTION * Math.max(0, ...s.std));
      const sorted = [...live].sort((a, b) => a - b);
      const range = sorted.length ? `std ${fmt(sorted[0])}–${fmt(sorted[sorted.length - 1])} (median ${fmt(sorted[Math.floor(sorted.length / 2)])})` : 'std 0';
      return `${names[i] ?? `tap${i}`} ${range}, ${deadChannels(s)}/${s.std.length} channels dead`;
    })
    .join('; ');
}

const fmt = (v: number) => (v >= 0.01 && v < 1000 ? v.toPrecision(2) : v.toExponential(1));
