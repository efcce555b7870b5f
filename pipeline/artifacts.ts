/**
 * File names and readers of the artifacts stages pass to each other, so no stage hard-codes
 * another stage's layout. Image tensors are NHWC float32 .npy files; features are NHWC.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson } from '../src/io/atomic';
import { readNpy, type NpyArray } from '../src/io/npy';
import type { EncoderIo } from './encoder-io';

export { cachedTensors, type CachedTensor, type EncoderIo, type FinetuneIo } from './encoder-io';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = Object.freeze(['train', 'val', 'test']);

/**
 * A set of same-size images of one split, stored as one [count·realizations, H, W, C] array.
 * MNIST splits are one group each; a folder's test split has one group per image.
 */
export interface SplitGroup {
  id: string;
  count: number;
  height: number;
  width: number;
  /** Noisy draws per image; the noisy array holds row r·count + i. */
  realizations: number;
  /** Source file names of the images (folder sources). */
  names?: string[];
}

/** `data/dataset.json`. */
export interface DatasetManifest {
  source: string;
  channels: number;
  splits: Record<Split, SplitGroup[]>;
  noise: unknown;
  seed: number;
}

export const prefixModelFile = (encoderDir: string) => path.join(encoderDir, 'prefix.onnx');
export const trainableModelFile = (encoderDir: string) => path.join(encoderDir, 'trainable.onnx');
/** The encoder with the fine-tuned weights written back (train stage; same graph and taps as encoder.onnx). */
export const finetunedEncoderFile = (trainDir: string) => path.join(trainDir, 'encoder.onnx');

/** The encoder the later stages run: the fine-tuned one when the train stage wrote it, else the cut encoder. */
export function activeEncoderFile(encoderDir: string, trainDir: string | undefined): string {
  const tuned = trainDir ? finetunedEncoderFile(trainDir) : undefined;
  return tuned && fs.existsSync(tuned) ? tuned : encoderModelFile(encoderDir);
}

export const dataFiles = (dir: string, split: Split, group: string) => ({
  clean: path.join(dir, `${split}.${group}.clean.npy`),
  noisy: path.join(dir, `${split}.${group}.noisy.npy`),
});
export const readManifest = (dataDir: string) => readJson<DatasetManifest>(path.join(dataDir, 'dataset.json'));
export const readEncoderIo = (encoderDir: string) => readJson<EncoderIo>(path.join(encoderDir, 'io.json'));
export const encoderModelFile = (encoderDir: string) => path.join(encoderDir, 'encoder.onnx');

/** Feature file of one tap for one group of a split. */
export function featureFile(featDir: string, split: Split, group: string, tapIndex: number): string {
  return path.join(featDir, `${split}.${group}.tap${tapIndex}.npy`);
}

/** The single group of a split that must hold same-size images (train, val). */
export function onlyGroup(manifest: DatasetManifest, split: Split): SplitGroup | undefined {
  const groups = manifest.splits[split];
  if (groups.length > 1) throw new Error(`split ${split} has ${groups.length} image sizes; expected one`);
  return groups[0];
}

export function readArray(file: string): NpyArray {
  return readNpy(file);
}

export const decoderDir = (trainDir: string) => path.join(trainDir, 'decoder');
export const exportedModelFile = (exportDir: string, file: string) => path.join(exportDir, file);
