/** Assembles a split's decoder inputs (cached tap features + noisy image) and target from stage artifacts. */
import type { DatasetManifest, EncoderIo, Split } from '../artifacts';
import { dataFiles, featureFile, readArray } from '../artifacts';
import type { ArrayInput, TrainSplit } from '../train/loop';

const hwc = (dims: number[]) => [dims[1], dims[2], dims[3]] as [number, number, number];

export function loadSplit(dataDir: string, featDir: string, manifest: DatasetManifest, io: EncoderIo, split: Split): TrainSplit {
  const files = dataFiles(dataDir, split);
  const clean = readArray(files.clean);
  const noisy = readArray(files.noisy);
  const inputs: ArrayInput[] = io.taps.map((_, k) => {
    const f = readArray(featureFile(featDir, split, k));
    return { data: f.data, shape: hwc(f.dims) };
  });
  inputs.push({ data: noisy.data, shape: hwc(noisy.dims) });
  return {
    inputs,
    target: { data: clean.data, shape: hwc(clean.dims) },
    count: manifest.splits[split].count,
    realizations: manifest.splits[split].realizations,
  };
}
