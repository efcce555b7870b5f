/**
 * File names and readers of the artifacts stages pass to each other, so no stage hard-codes
 * another stage's layout. Image tensors are NHWC float32 .npy files; features are NHWC.
 */
import * as path from 'node:path';
import { readJson } from '../src/io/atomic';
import { readNpy, type NpyArray } from '../src/io/npy';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = Object.freeze(['train', 'val', 'test']);

/** `data/dataset.json`. */
export interface DatasetManifest {
  source: string;
  height: number;
  width: number;
  channels: number;
  /** Samples per split; noisy arrays hold `realizations` draws per sample (index r·count + i). */
  splits: Record<Split, { count: number; realizations: number }>;
  noise: unknown;
  seed: number;
}

/** `encoder/io.json`. */
export interface EncoderIo {
  input: string;
  /** The input's channel count and the per-tap shapes as seen on the dataset's image size. */
  channels: number;
  taps: Array<{ name: string; channels: number; height: number; width: number; stride: number }>;
  source: { file: string; sha256: string };
}

export const dataFiles = (dir: string, split: Split) => ({
  clean: path.join(dir, `${split}.clean.npy`),
  noisy: path.join(dir, `${split}.noisy.npy`),
});
export const readManifest = (dataDir: string) => readJson<DatasetManifest>(path.join(dataDir, 'dataset.json'));
export const readEncoderIo = (encoderDir: string) => readJson<EncoderIo>(path.join(encoderDir, 'io.json'));
export const encoderModelFile = (encoderDir: string) => path.join(encoderDir, 'encoder.onnx');

/** Feature file of one tap (sanitized tensor name) for one split. */
export function featureFile(featDir: string, split: Split, tapIndex: number): string {
  return path.join(featDir, `${split}.tap${tapIndex}.npy`);
}

export function readArray(file: string): NpyArray {
  return readNpy(file);
}

export const decoderDir = (trainDir: string) => path.join(trainDir, 'decoder');
export const exportedModelFile = (exportDir: string, file: string) => path.join(exportDir, file);
