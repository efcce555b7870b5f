/**
 * What the encoder stage records about the encoder (`encoder/io.json`): its input, taps, stride
 * and, when stages are fine-tuned, how it is cut. Runtime-free (types and pure functions), so
 * the page's fine-tuning reads it without reaching artifacts.ts's file readers; artifacts.ts
 * re-exports it for the stages.
 */

/** `encoder/io.json`. */
export interface EncoderIo {
  input: string;
  /** The image channel count and each tap's channels and stride. */
  channels: number;
  /** `name` is the graph tensor; `stage` the detected stage it was asked for by (layer2, block3_pool…). */
  taps: Array<{ name: string; stage?: string; channels: number; stride: number }>;
  /** Image sides must be multiples of this (the deepest stride); other sizes are reflect-padded. */
  strideMultiple: number;
  source: { file: string; sha256: string };
  /** Present when `encoder.trainable` fine-tunes stages (see stages/encoder-cut.ts). */
  finetune?: FinetuneIo;
}

/** A tensor the featurize stage caches: a tap of the frozen prefix, or the cut. */
export interface CachedTensor {
  name: string;
  channels: number;
  stride: number;
}

/**
 * How the encoder is split for fine-tuning: `prefix.onnx` (image → frozen taps + cut) runs once in
 * featurize; `trainable.onnx` (cut → the taps inside the fine-tuned stages) becomes TF.js layers.
 */
export interface FinetuneIo {
  /** The fine-tuned stages, in graph order. */
  stages: string[];
  /** The tensor the trainable part starts from (the output of the last frozen stage). */
  cut: CachedTensor;
  /** What featurize caches, in order: the frozen taps (indices `frozenTaps` of `taps`), then the cut unless it is one of them. */
  cached: CachedTensor[];
  /** Position of the cut in `cached`. */
  cutIndex: number;
  frozenTaps: number[];
  /** Indices into `taps` of the taps the trainable part computes, in its output order. */
  trainableTaps: number[];
}

/** The tensors featurize caches (one feature file each, `tap<k>` by position): the taps, or the frozen taps + the cut. */
export function cachedTensors(io: EncoderIo): CachedTensor[] {
  return io.finetune ? io.finetune.cached : io.taps;
}
