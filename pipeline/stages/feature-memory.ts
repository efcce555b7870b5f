/**
 * The memory the train stage needs for its cached split (train + val features in float32, the padded
 * noisy images and the clean targets) and the feature cache's size on disk, checked by featurize before
 * the encoder runs. The training split is held one noise realization at a time (split-inputs.ts:
 * realization 0, the current one and the next while it is read), so realizations past three cost
 * disk, not memory. A job that cannot fit fails in seconds with a message naming the fields to lower,
 * instead of being killed by the kernel (exit 137, no message) or a full disk after minutes of encoding.
 */
import * as os from 'node:os';
import type { CachedTensor, DatasetManifest, EncoderIo, Split, SplitGroup } from '../artifacts';
import { padAmount } from '../../src/tensor/pad';
import { ConfigError } from '../../src/errors';

/** Above this fraction of the machine's memory the job is refused; above {@link WARN_FRACTION} it is warned about. */
export const REFUSE_FRACTION = 0.75;
export const WARN_FRACTION = 0.5;

/** Noise realizations of a group the train stage holds at once (see loadGroup). */
export const RESIDENT_REALIZATIONS = 3;

/** An estimate in bytes and the training split's share per noise realization. */
export interface CacheBytes {
  bytes: number;
  /** Of which: per noise realization of the training split. */
  perTrainRealization: number;
  /** Training realizations counted (in memory: resident at once, ≤ {@link RESIDENT_REALIZATIONS}; on disk: all). */
  trainRealizations: number;
}

/** A group's image size padded to the encoder's stride multiple, and the cached values of one noisy row at that size. */
export function cachedRow(g: SplitGroup, io: EncoderIo, cached: readonly CachedTensor[]): { height: number; width: number; shapes: Array<[number, number, number]>; values: number } {
  const height = g.height + padAmount(g.height, io.strideMultiple);
  const width = g.width + padAmount(g.width, io.strideMultiple);
  const shapes = cached.map((t) => [height / t.stride, width / t.stride, t.channels] as [number, number, number]);
  return { height, width, shapes, values: shapes.reduce((a, [h, w, c]) => a + h * w * c, 0) };
}

/** How many training realizations fit in `budget` bytes with everything else of `m` (≤ 0: not even one). */
function realizationsThatFit(m: CacheBytes, budget: number): number {
  const rest = m.bytes - m.trainRealizations * m.perTrainRealization;
  return Math.floor((budget - rest) / Math.max(m.perTrainRealization, 1));
}

/** What one group of a split contributes: `realizations` blocks of `perRealization` bytes, plus `fixed` bytes. */
type GroupBytes = { perRealization: number; realizations: number; fixed: number };

/** Sums `perGroup` over the groups of `splits`, keeping the training split's per-realization share. */
function sumGroups(manifest: DatasetManifest, splits: readonly Split[], perGroup: (g: SplitGroup) => GroupBytes): CacheBytes {
  const out: CacheBytes = { bytes: 0, perTrainRealization: 0, trainRealizations: 1 };
  for (const split of splits) {
    for (const g of manifest.splits[split]) {
      const { perRealization, realizations, fixed } = perGroup(g);
      out.bytes += realizations * perRealization + fixed;
      if (split === 'train') {
        out.perTrainRealization += perRealization;
        out.trainRealizations = realizations;
      }
    }
  }
  return out;
}

/** Estimates the train stage's resident bytes for the train and val splits (float32 throughout). */
export function trainingFeatureMemory(manifest: DatasetManifest, io: EncoderIo, cached: readonly CachedTensor[]): CacheBytes {
  return sumGroups(manifest, ['train', 'val'], (g) => {
    // Per noisy row: each cached tensor and the padded image; per clean row: the target.
    const row = cachedRow(g, io, cached);
    return {
      perRealization: g.count * (row.values + row.height * row.width * manifest.channels) * 4,
      realizations: Math.min(g.realizations, RESIDENT_REALIZATIONS),
      fixed: g.count * g.height * g.width * manifest.channels * 4,
    };
  });
}

/** The memory this process may use: the machine's, or the container's (cgroup) limit when lower. */
export function availableMemoryBytes(): number {
  const total = os.totalmem();
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 && limit < total ? limit : total;
}

/** Above this many bytes (float32), a group's features are cached as float16. */
export const FLOAT16_ABOVE_BYTES = 256 * 1024 * 1024;

/** How featurize stores a group whose features take `float32Bytes` in float32. */
export const cacheDtype = (float32Bytes: number): 'float16' | 'float32' => (float32Bytes > FLOAT16_ABOVE_BYTES ? 'float16' : 'float32');

/** The feature cache's size on disk (every split, every realization, at {@link cacheDtype}) and one training realization's share. */
export function featureCacheDiskBytes(manifest: DatasetManifest, io: EncoderIo, cached: readonly CachedTensor[]): CacheBytes {
  return sumGroups(manifest, ['train', 'val', 'test'], (g) => {
    const float32 = g.count * g.realizations * cachedRow(g, io, cached).values * 4;
    const stored = cacheDtype(float32) === 'float16' ? float32 / 2 : float32;
    return { perRealization: stored / g.realizations, realizations: g.realizations, fixed: 0 };
  });
}

/**
 * Refuses a feature cache larger than the free space where it is written (each realization is on disk).
 * @throws ConfigError naming data.noise.realizations (with how many fit) or data.patches_per_image
 */
export function checkFeatureDisk(cache: CacheBytes, freeBytes: number, jobFile: string): void {
  if (cache.bytes <= freeBytes) return;
  const fits = realizationsThatFit(cache, freeBytes);
  const byRealizations = cache.trainRealizations > 1 && fits >= 1;
  throw new ConfigError(
    jobFile,
    byRealizations ? 'data.noise.realizations' : 'data.patches_per_image',
    `the feature cache needs ${gib(cache.bytes)} on disk and ${gib(freeBytes)} is free there; ` +
      (byRealizations ? `set data.noise.realizations to ${fits} or fewer (now ${cache.trainRealizations}), or free space` : 'lower data.patches_per_image (or data.limit), or free space'),
  );
}

const gib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(b / 2 ** 20)} MiB`);

/**
 * Refuses a cache that cannot fit in `totalBytes` (the machine's memory); returns a warning when it
 * takes more than half of it, else null.
 * @param jobFile named in the error (the run's job.yaml)
 * @throws ConfigError naming data.noise.realizations / data.patches_per_image and what would fit
 */
export function checkFeatureMemory(m: CacheBytes, totalBytes: number, jobFile: string): string | null {
  const what = `the train stage would hold ${gib(m.bytes)} of cached features and images (train + val, float32)`;
  if (m.bytes > REFUSE_FRACTION * totalBytes) {
    const fits = realizationsThatFit(m, REFUSE_FRACTION * totalBytes);
    const byRealizations = m.trainRealizations > 1 && fits >= 1;
    const hint = byRealizations
      ? `set data.noise.realizations to ${fits} or fewer (the train stage holds up to ${RESIDENT_REALIZATIONS} at once) or lower data.patches_per_image`
      : 'lower data.patches_per_image (or data.limit), or tap fewer or coarser stages';
    throw new ConfigError(jobFile, byRealizations ? 'data.noise.realizations' : 'data.patches_per_image',
      `${what}, more than ${Math.round(REFUSE_FRACTION * 100)} % of this machine's ${gib(totalBytes)}; ${hint}`);
  }
  return m.bytes > WARN_FRACTION * totalBytes ? `${what}: over half of this machine's ${gib(totalBytes)}` : null;
}
