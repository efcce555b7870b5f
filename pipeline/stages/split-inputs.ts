/**
 * Assembles a group's decoder inputs (cached tap features + the reflect-padded noisy image)
 * and its clean target from stage artifacts.
 */
import type { DatasetManifest, EncoderIo, Split, SplitGroup } from '../artifacts';
import { cachedTensors, dataFiles, featureFile, readArray } from '../artifacts';
import type { ArrayInput, TrainSplit } from '../train/loop';
import type { OrtSession } from '../../src/backends/ort';
import { encodeImages, padForEncoder } from './featurize';

export interface GroupSplit extends TrainSplit {
  group: SplitGroup;
  /** Size the decoder works at (padded to the stride multiple); crop outputs back to group.height × group.width. */
  padded: { height: number; width: number };
}

export function loadGroup(dataDir: string, featDir: string, manifest: DatasetManifest, io: EncoderIo, split: Split, group: SplitGroup): GroupSplit {
  const files = dataFiles(dataDir, split, group.id);
  const C = manifest.channels;
  const clean = readArray(files.clean);
  const noisy = readArray(files.noisy);
  const padded = padForEncoder(io, noisy.data, noisy.dims[0], group.height, group.width, C);
  // The cached tensors: every tap, or with fine-tuning the frozen taps and the cut.
  const inputs: ArrayInput[] = cachedTensors(io).map((_, k) => {
    const f = readArray(featureFile(featDir, split, group.id, k));
    return { data: f.data, shape: [f.dims[1], f.dims[2], f.dims[3]] as [number, number, number] };
  });
  inputs.push({ data: padded.data, shape: [padded.height, padded.width, C] });
  return {
    inputs,
    target: { data: clean.data, shape: [group.height, group.width, C] },
    count: group.count,
    realizations: group.realizations,
    group,
    padded: { height: padded.height, width: padded.width },
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
