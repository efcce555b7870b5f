/**
 * Assembles a group's decoder inputs (cached tap features + the reflect-padded noisy image)
 * and its clean target from stage artifacts.
 */
import type { DatasetManifest, EncoderIo, Split, SplitGroup } from '../artifacts';
import { dataFiles, featureFile, readArray } from '../artifacts';
import type { ArrayInput, TrainSplit } from '../train/loop';
import { padForEncoder } from './featurize';

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
  const inputs: ArrayInput[] = io.taps.map((_, k) => {
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
