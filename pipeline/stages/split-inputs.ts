/**
 * Assembles a group's decoder inputs (cached tap features + the reflect-padded noisy image)
 * and its clean target from stage artifacts.
 */
import type { DatasetManifest, EncoderIo, Split, SplitGroup } from '../artifacts';
import { cachedTensors, dataFiles, featureFile, readArray } from '../artifacts';
import { readNpyRows } from '../../src/io/npy';
import type { ArrayInput, TrainSplit } from '../train/loop';
import type { OrtSession } from '../../src/backends/ort';
import { encodeImages, padForEncoder } from './featurize';

export interface GroupSplit extends TrainSplit {
  group: SplitGroup;
  /** Size the decoder works at (padded to the stride multiple); crop outputs back to group.height × group.width. */
  padded: { height: number; width: number };
}

/**
 * A group's inputs and target. A group with several noise realizations (the training split) is held
 * one realization at a time: `inputs` is realization 0's and `realization(r)` reads r's rows from the
 * cache files when an epoch needs them (the last one read is kept), so memory holds at most three
 * realizations' features whatever data.noise.realizations is (feature-memory.ts counts them).
 */
export function loadGroup(dataDir: string, featDir: string, manifest: DatasetManifest, io: EncoderIo, split: Split, group: SplitGroup): GroupSplit {
  const files = dataFiles(dataDir, split, group.id);
  const C = manifest.channels;
  const clean = readArray(files.clean);
  const rows = group.count;
  // The cached tensors (every tap, or with fine-tuning the frozen taps and the cut), then the padded noisy image.
  const featureFiles = cachedTensors(io).map((_, k) => featureFile(featDir, split, group.id, k));
  const read = (r: number): ArrayInput[] => {
    const inputs: ArrayInput[] = featureFiles.map((file) => {
      const f = group.realizations > 1 ? readNpyRows(file, r * rows, rows) : readArray(file);
      return { data: f.data, shape: [f.dims[1], f.dims[2], f.dims[3]] as [number, number, number] };
    });
    const noisy = group.realizations > 1 ? readNpyRows(files.noisy, r * rows, rows) : readArray(files.noisy);
    const padded = padForEncoder(io, noisy.data, noisy.dims[0], group.height, group.width, C);
    inputs.push({ data: padded.data, shape: [padded.height, padded.width, C] });
    return inputs;
  };
  const first = read(0);
  let held = { r: 0, inputs: first };
  // At most three realizations are resident: 0 (kept: `inputs`), the one an epoch is using, the next being read.
  const realization = (r: number): ArrayInput[] => {
    if (!Number.isInteger(r) || r < 0 || r >= group.realizations) throw new RangeError(`realization ${r} of ${group.realizations}`);
    if (r === 0) return first;
    if (held.r !== r) {
      held = { r: -1, inputs: [] }; // drop this closure's reference to the previous arrays before the next are read
      held = { r, inputs: read(r) };
    }
    return held.inputs;
  };
  const padded = first[first.length - 1].shape;
  return {
    inputs: first,
    target: { data: clean.data, shape: [group.height, group.width, C] },
    count: group.count,
    realizations: group.realizations,
    ...(group.realizations > 1 ? { realization } : {}),
    group,
    padded: { height: padded[0], width: padded[1] },
  };
}

/**
 * The decoder inputs `[tap0…tapK, image]` of a group computed by `encoder` (the fine-tuned
 * encoder.onnx) from its padded noisy images: with fine-tuning the cache holds only the frozen prefix.
 */
export async function withEncoderTaps(encoder: OrtSession, io: EncoderIo, g: GroupSplit): Promise<GroupSplit> {
  const image = g.inputs[g.inputs.length - 1];
  const n = image.data.length / (image.shape[0] * image.shape[1] * image.shape[2]);
  const taps = await encodeImages(encoder, io, { data: image.data, n, height: image.shape[0], width: image.shape[1], channels: image.shape[2] });
  return { ...g, inputs: [...taps, image] };
}
