/**
 * Fine-tuned encoder stages as TF.js layers: the trainable part of the encoder (cut → taps, an
 * ONNX model) goes through the project's ONNX → tfjs converter, and the training model chains it
 * with the decoder head: cached frozen taps + cached cut + image → [trainable layers] → head.
 * BatchNormalization the converter could not fold into a conv keeps its running statistics
 * frozen (inference-mode normalization; gamma/beta train), the usual choice for small batches.
 * No file IO here, so the browser can import it.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import type { ModelProto } from '../../src/onnx/proto';
import { onnxToTfjs } from '../../converters/onnx-to-tfjs/convert';
import { concatFloat32 } from '../../src/tensor/layout';
import type { EncoderIo, FinetuneIo } from '../artifacts';
import { IMAGE_INPUT } from './decoder';
import type { ArrayInput } from './loop';
import type { ParamGroup } from './optimizers';
import { channelStats, ChannelStatsAccumulator, type ChannelStats } from './tap-stats';

/** The trainable encoder part in tfjs and, per layer with weights, the ONNX node(s) it came from. */
export interface EncoderLayers {
  model: TfModule.LayersModel;
  weightSources: Record<string, { node: string; fused: string[] }>;
  /** The graph tensors the model outputs, in order (the trainable taps, each once). */
  outputs: string[];
}

/** Input name of cached tensor j in the training model. */
export const cachedInputName = (j: number) => `cached${j}`;

/**
 * Converts `trainable.onnx` (NCHW, input = the cut) into tfjs layers taking and returning NHWC.
 * @throws UnsupportedOnnxOpsError when a fine-tuned stage holds an op the converter lacks
 */
export function buildEncoderLayers(tf: Tf, trainable: ModelProto, ft: FinetuneIo): EncoderLayers {
  const { model, report } = onnxToTfjs(tf, trainable, {
    inputShapes: { [ft.cut.name]: [1, ft.cut.channels, -1, -1] },
    name: 'encoder_trainable',
    label: 'trainable.onnx',
  });
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    // Frozen statistics: normalize with the running mean/variance even while training (tfjs would use batch stats).
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  }
  return { model, weightSources: report.weightSources, outputs: (trainable.graph?.output ?? []).map((o) => o.name as string) };
}

/**
 * The model trained end to end: inputs `cached0…cachedM` (the featurize cache: frozen taps, then
 * the cut) and `image`, in that order, so the arrays of a loaded split feed it by position.
 */
export function composeTrainingModel(tf: Tf, enc: EncoderLayers, decoder: TfModule.LayersModel, io: EncoderIo): TfModule.LayersModel {
  const ft = io.finetune as FinetuneIo;
  const cached = ft.cached.map((c, j) => tf.input({ shape: [null, null, c.channels], name: cachedInputName(j) }));
  const image = tf.input({ shape: [null, null, io.channels], name: IMAGE_INPUT });
  const out = enc.model.apply(cached[ft.cutIndex]) as TfModule.SymbolicTensor | TfModule.SymbolicTensor[];
  const outs = Array.isArray(out) ? out : [out];
  const taps: TfModule.SymbolicTensor[] = new Array(io.taps.length);
  ft.frozenTaps.forEach((k, j) => (taps[k] = cached[j]));
  for (const k of ft.trainableTaps) taps[k] = outs[enc.outputs.indexOf(io.taps[k].name)];
  const y = decoder.apply([...taps, image]) as TfModule.SymbolicTensor;
  return tf.model({ inputs: [...cached, image], outputs: y, name: 'finetune' });
}

/** The encoder layers' weights as one param group (own lr multiple, trained from `startEpoch`). */
export function encoderParamGroup(enc: EncoderLayers, lrMultiplier: number, startEpoch: number): ParamGroup {
  return { name: 'encoder', weights: enc.model.trainableWeights, lrMultiplier, startEpoch };
}

/**
 * The trainable taps of the first `maxRows` rows of a split, computed from the cached cut (for the
 * head's tap standardization, at the pretrained weights). Returns one NHWC array per trainable tap.
 */
export function trainableTapFeatures(tf: Tf, enc: EncoderLayers, io: EncoderIo, cut: ArrayInput, maxRows: number, batch = 128): ArrayInput[] {
  const ft = io.finetune as FinetuneIo;
  const rowSize = cut.shape[0] * cut.shape[1] * cut.shape[2];
  const rows = Math.min(maxRows, cut.data.length / rowSize);
  const parts: Float32Array[][] = enc.outputs.map(() => []);
  const shapes: Array<[number, number, number]> = [];
  for (let start = 0; start < rows; start += batch) {
    const b = Math.min(batch, rows - start);
    const values = tf.tidy(() => {
      const x = tf.tensor4d(cut.data.subarray(start * rowSize, (start + b) * rowSize), [b, ...cut.shape]);
      const y = enc.model.predict(x) as TfModule.Tensor | TfModule.Tensor[];
      return (Array.isArray(y) ? y : [y]).map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape.slice(1) as [number, number, number] }));
    });
    values.forEach((v, i) => {
      parts[i].push(v.data);
      shapes[i] = v.shape;
    });
  }
  const joined = parts.map((p, i) => ({ data: concatFloat32(p), shape: shapes[i] }));
  return ft.trainableTaps.map((k) => joined[enc.outputs.indexOf(io.taps[k].name)]);
}

/** Rows of the training cut whose trainable taps give the head's tap standardization (a sample suffices for mean/std). */
export const TRAINABLE_STATS_ROWS = 2048;

/**
 * Per-channel statistics of every tap: frozen taps over every cached training row, trainable taps
 * over the first {@link TRAINABLE_STATS_ROWS} rows, at the pretrained weights (fixed afterwards).
 * @param blocks the training split's cached arrays (frozen taps, cut, then the image), one block per
 *   noise realization or one block of all rows ({@link realizationBlocks})
 */
export function finetuneTapStats(tf: Tf, enc: EncoderLayers, io: EncoderIo, blocks: Iterable<ArrayInput[]>): ChannelStats[] {
  const ft = io.finetune as FinetuneIo;
  const stats: ChannelStats[] = new Array(io.taps.length);
  const frozen = ft.frozenTaps.map((k) => new ChannelStatsAccumulator(io.taps[k].channels));
  // The first rows of the cut, gathered across blocks when one holds fewer.
  const cutParts: Float32Array[] = [];
  let cutRows = 0;
  let cutShape: [number, number, number] = [1, 1, ft.cut.channels];
  for (const inputs of blocks) {
    frozen.forEach((acc, j) => acc.add(inputs[j]));
    const c = inputs[ft.cutIndex];
    const size = c.shape[0] * c.shape[1] * c.shape[2];
    const take = Math.min(TRAINABLE_STATS_ROWS - cutRows, c.data.length / size);
    if (take <= 0) continue;
    cutParts.push(c.data.slice(0, take * size));
    cutRows += take;
    cutShape = c.shape;
  }
  ft.frozenTaps.forEach((k, j) => (stats[k] = frozen[j].result()));
  const feats = trainableTapFeatures(tf, enc, io, { data: concatFloat32(cutParts), shape: cutShape }, TRAINABLE_STATS_ROWS);
  ft.trainableTaps.forEach((k, i) => (stats[k] = channelStats(feats[i])));
  return stats;
}
