/**
 * Fine-tuning an exported denoiser's decoder head on new images, runtime-free so the CLI and
 * the page's Web Worker run the same code: the head converts from the model's ONNX to tfjs,
 * trains for seeded steps on cached encoder features with the pipeline's losses and optimizers,
 * and goes back to ONE combined ONNX through tfjs → ONNX and the export's `combine`, with
 * metadata saying what it was fine-tuned from and on.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { trainSchema, type TrainConfig } from '../../src/config/schema';
import { InputError, TrainingError } from '../../src/errors';
import { renameGraph } from '../../src/onnx/compose';
import { setMetadata } from '../../src/onnx/metadata';
import type { ModelProto } from '../../src/onnx/proto';
import { concatFloat32, gatherRows, nchwToNhwc } from '../../src/tensor/layout';
import { onnxToTfjs } from '../../converters/onnx-to-tfjs';
import { tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { combine } from '../export-model';
import { IMAGE_INPUT } from '../train/decoder';
import { makeLoss, type LossFn } from '../train/losses';
import { TrainOptimizer } from '../train/optimizers';
import { batchOrder, trainStep } from '../train/step';
import { decoderInputShapes, type SplitDenoiser } from './split';

/**
 * Fine-tuning data, NHWC rows: per patch its encoder taps (in the order of the decoder's inputs),
 * the noisy patch (the decoder's `image` input) and the clean target.
 */
export interface HeadData {
  count: number;
  /** One entry per decoder input, in `decoder.inputs` order: rows of `shape` ([h, w, c]). */
  inputs: Array<{ data: Float32Array; shape: [number, number, number] }>;
  target: { data: Float32Array; shape: [number, number, number] };
}

/** A batch of rows: one NHWC array per decoder input (in order) and the target, `rows.length` rows each. */
export interface RowBatch {
  inputs: Float32Array[];
  target: Float32Array;
}

/**
 * Where the trainer reads its rows from: memory ({@link memoryRows}) or, in the page, IndexedDB
 * when the features are too large to keep (web/src/feature-store.ts).
 */
export interface RowSource {
  count: number;
  /** [h, w, c] of each decoder input, in order. */
  inputShapes: Array<[number, number, number]>;
  targetShape: [number, number, number];
  read(rows: readonly number[]): Promise<RowBatch>;
}

/** {@link HeadData} held in memory as a {@link RowSource}. */
export function memoryRows(data: HeadData): RowSource {
  const size = (s: [number, number, number]) => s[0] * s[1] * s[2];
  return {
    count: data.count,
    inputShapes: data.inputs.map((a) => a.shape),
    targetShape: data.target.shape,
    read: async (rows) => ({
      inputs: data.inputs.map((a) => gatherRows(a.data, size(a.shape), rows)),
      target: gatherRows(data.target.data, size(data.target.shape), rows),
    }),
  };
}

/** Options of {@link HeadTrainer}. */
export interface HeadTrainOptions {
  seed: number;
  batchSize: number;
  lr: number;
  optimizer?: TrainConfig['optimizer'];
  loss?: TrainConfig['loss'];
}

/** The decoder head as a trainable tfjs model, with its inputs' ONNX names (`tap0…`, `image`) in model order. */
export interface Head {
  model: TfModule.LayersModel;
  /** tfjs makes layer names unique per process (`tap0_3`), so the ONNX names are kept here, by position. */
  inputNames: string[];
}

/**
 * The decoder head of a split denoiser as a trainable tfjs model.
 * @throws UnsupportedOnnxOpsError when the head uses an op the ONNX → tfjs converter lacks
 */
export function headToTfjs(tf: Tf, split: SplitDenoiser): Head {
  const { model, report } = onnxToTfjs(tf, split.decoder, { inputShapes: decoderInputShapes(split), name: 'decoder', label: 'decoder head' });
  return { model, inputNames: report.inputs.map((i) => i.name) };
}

/** Seeded steps over {@link HeadData}: an epoch is a seeded shuffle; the loss of every step is returned. */
export class HeadTrainer {
  readonly cfg: TrainConfig;
  private readonly loss: LossFn;
  private readonly optimizer: TrainOptimizer;
  private order: number[] = [];
  private cursor = 0;
  private epoch = 0;
  /** Steps taken. */
  steps = 0;

  private readonly source: RowSource;

  /** @param data rows in memory, or any {@link RowSource} */
  constructor(private readonly tf: Tf, readonly head: TfModule.LayersModel, data: HeadData | RowSource, private readonly opts: HeadTrainOptions) {
    this.source = 'read' in data ? data : memoryRows(data);
    this.cfg = trainSchema.parse({ optimizer: opts.optimizer ?? 'adam', lr: opts.lr, loss: opts.loss ?? 'mse', batch_size: opts.batchSize });
    this.loss = makeLoss(tf, this.cfg.loss, this.cfg);
    this.optimizer = new TrainOptimizer(tf, head, this.cfg);
  }

  private tensors(batch: RowBatch, n: number) {
    return {
      xs: batch.inputs.map((a, i) => this.tf.tensor4d(a, [n, ...this.source.inputShapes[i]])),
      y: this.tf.tensor4d(batch.target, [n, ...this.source.targetShape]),
    };
  }

  private nextBatch(): number[] {
    if (this.cursor >= this.order.length) {
      this.order = batchOrder(this.opts.seed, this.epoch++, this.source.count, 'finetune-order');
      this.cursor = 0;
    }
    const rows = this.order.slice(this.cursor, this.cursor + this.cfg.batch_size);
    this.cursor += rows.length;
    return rows;
  }

  /**
   * One optimizer step on the next seeded batch.
   * @returns the batch loss before the update
   * @throws TrainingError on a NaN/Inf loss
   */
  async step(): Promise<number> {
    const rows = this.nextBatch();
    const batch = await this.source.read(rows);
    const value = await trainStep(this.tf, this.head, this.optimizer, this.loss, () => this.tensors(batch, rows.length));
    if (!Number.isFinite(value)) throw new TrainingError(`fine-tuning loss became ${value} at step ${this.steps + 1}; lower the learning rate (now ${this.cfg.lr})`);
    this.steps += 1;
    return value;
  }

  /** Mean loss over all rows (batched, no update). */
  async evaluate(batchSize = 16): Promise<number> {
    let total = 0;
    const count = this.source.count;
    for (let s = 0; s < count; s += batchSize) {
      const rows = Array.from({ length: Math.min(batchSize, count - s) }, (_, i) => s + i);
      const batch = await this.source.read(rows);
      total += this.tf.tidy(() => {
        const { xs, y } = this.tensors(batch, rows.length);
        return this.loss(y, this.head.apply(xs, { training: false }) as TfModule.Tensor).dataSync()[0];
      }) * rows.length;
    }
    return total / count;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** What a fine-tuned model's metadata records. */
export interface FinetuneRecord {
  /** The model fine-tuned from (file name) and its onnxtune.job. */
  base: string;
  steps: number;
  images: number;
  patches: number;
  noise: string;
  seed: number;
  lr: number;
  batchSize: number;
  /** Where it ran ('page/wasm', 'cli/tensorflow', …). */
  runtime: string;
}

/**
 * The fine-tuned head and the frozen encoder as ONE model, through the CLI's export path
 * (tfjs → ONNX, `combine`), with the base model's metadata plus `onnxtune.finetune`.
 */
export function exportFinetuned(split: SplitDenoiser, head: Head, record: FinetuneRecord): ModelProto {
  const exported = tfjsToOnnx(head.model, { opset: split.opset });
  // Back to the names combine wires (tap0…, image): graph inputs come in the tfjs model's input order.
  const inits = new Set((exported.graph?.initializer ?? []).map((t) => t.name));
  const tfNames = (exported.graph?.input ?? []).map((i) => i.name as string).filter((n) => !inits.has(n));
  const names = new Map(tfNames.map((n, i) => [n, head.inputNames[i]] as [string, string]));
  const decoder = { ...exported, graph: renameGraph(exported.graph!, (n) => names.get(n) ?? n) };
  const model = combine(split.encoder, decoder, split.io, split.opset);
  return setMetadata(model, {
    ...split.metadata,
    'onnxtune.finetune': JSON.stringify(record),
    'onnxtune.job': `${split.metadata['onnxtune.job'] ?? 'model'}+finetune`,
  });
}

/**
 * Parses a noise level as the page and the CLI take it: "50" or a range "25-50" (σ on the 0–255 scale).
 * @throws RangeError naming the text when it is neither
 */
export function parseSigma(text: string): [number, number] {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*$/.exec(text);
  if (!m) throw new RangeError(`σ must be a number or a range like 25-50, got '${text}'`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (!(lo >= 0 && hi >= lo && hi <= 255)) throw new RangeError(`σ must be in [0, 255] with low ≤ high, got '${text}'`);
  return [lo, hi];
}

/** Runs the frozen encoder on a batch: image NCHW → one NCHW array per tap (in `io.taps` order). */
export type EncoderCall = (image: Float32Array, dims: [number, number, number, number]) => Promise<Array<{ data: Float32Array; dims: number[] }>>;

/** Square patches cut from images, NCHW, all of one size. */
export interface Patches {
  count: number;
  /** Images smaller than one patch (they give none). */
  tooSmall: number;
  channels: number;
  size: number;
  clean: Float32Array;
  noisy: Float32Array;
}

/**
 * Cuts `size`×`size` patches on a grid (step `size`, the last row/column flush with the edge) from
 * planar images; `size` must be a multiple of the model's stride multiple so no padding happens.
 * @param images CHW planes with their sizes
 * @param noisy a noisy copy of each image (same sizes), or null to use `clean` as the input
 * @throws InputError when no image holds one patch
 */
export function cutPatches(
  images: Array<{ data: Float32Array; channels: number; height: number; width: number }>,
  noisy: Float32Array[] | null,
  size: number,
): Patches {
  const channels = images[0]?.channels ?? 1;
  const starts = (n: number) => {
    if (n < size) return [];
    const s: number[] = [];
    for (let p = 0; p + size <= n; p += size) s.push(p);
    if (s[s.length - 1] + size < n) s.push(n - size);
    return s;
  };
  const clean: number[][] = [];
  const nz: number[][] = [];
  images.forEach((img, k) => {
    for (const y of starts(img.height)) {
      for (const x of starts(img.width)) {
        const c = new Array<number>(channels * size * size);
        const n = new Array<number>(channels * size * size);
        for (let ch = 0; ch < channels; ch++) {
          for (let r = 0; r < size; r++) {
            for (let q = 0; q < size; q++) {
              const src = ch * img.height * img.width + (y + r) * img.width + x + q;
              const dst = ch * size * size + r * size + q;
              c[dst] = img.data[src];
              n[dst] = noisy ? noisy[k][src] : img.data[src];
            }
          }
        }
        clean.push(c);
        nz.push(n);
      }
    }
  });
  if (!clean.length) {
    const largest = images.reduce((a, i) => (i.height * i.width > a.height * a.width ? i : a), { height: 0, width: 0 });
    throw new InputError(
      images.length === 1 ? 'the image' : `all ${images.length} images`,
      `smaller than one ${size}×${size} patch (the largest is ${largest.width}×${largest.height}); use a smaller patch side ` +
        `(it is rounded to the model's stride multiple) or larger images`,
    );
  }
  const tooSmall = images.filter((img) => img.height < size || img.width < size).length;
  return { count: clean.length, tooSmall, channels, size, clean: Float32Array.from(clean.flat()), noisy: Float32Array.from(nz.flat()) };
}

/** Receives encoded rows `start … start + n − 1` (a sink may store them anywhere: memory, IndexedDB). */
export type RowSink = (start: number, n: number, batch: RowBatch) => Promise<void>;

/**
 * Encodes the noisy patches once, in batches, and hands each batch's rows — NHWC, in the order of
 * the head's inputs (`tap0…`, `image`) plus the clean target — to `sink`, so the caller decides
 * whether the features stay in memory.
 * @param inputNames {@link Head.inputNames}
 * @returns the shapes of one row of each input and of the target
 */
export async function encodeRows(
  patches: Patches, inputNames: readonly string[], encode: EncoderCall, sink: RowSink, batch = 16,
): Promise<{ inputShapes: Array<[number, number, number]>; targetShape: [number, number, number] }> {
  const { count, channels: c, size } = patches;
  const per = c * size * size;
  let inputShapes: Array<[number, number, number]> = [];
  for (let s = 0; s < count; s += batch) {
    const n = Math.min(batch, count - s);
    const noisy = patches.noisy.subarray(s * per, (s + n) * per);
    const taps = await encode(noisy, [n, c, size, size]);
    const inputs = inputNames.map((name) => {
      if (name === IMAGE_INPUT) return { data: nchwToNhwc(noisy, n, c, size, size), shape: [size, size, c] as [number, number, number] };
      const t = taps[Number(/^tap(\d+)$/.exec(name)?.[1] ?? NaN)];
      if (!t) throw new RangeError(`decoder input '${name}' is neither '${IMAGE_INPUT}' nor a tap the encoder gives`);
      return { data: nchwToNhwc(t.data, n, t.dims[1], t.dims[2], t.dims[3]), shape: [t.dims[2], t.dims[3], t.dims[1]] as [number, number, number] };
    });
    inputShapes = inputs.map((x) => x.shape);
    await sink(s, n, { inputs: inputs.map((x) => x.data), target: nchwToNhwc(patches.clean.subarray(s * per, (s + n) * per), n, c, size, size) });
  }
  return { inputShapes, targetShape: [size, size, c] };
}

/**
 * Encodes the noisy patches once and keeps everything the head trains on in memory (NHWC, in the
 * order of the head's inputs).
 * @param inputNames {@link Head.inputNames}
 */
export async function buildHeadData(patches: Patches, inputNames: readonly string[], encode: EncoderCall, batch = 16): Promise<HeadData> {
  const parts: RowBatch[] = [];
  const shapes = await encodeRows(patches, inputNames, encode, async (_s, _n, b) => void parts.push(b), batch);
  return {
    count: patches.count,
    inputs: shapes.inputShapes.map((shape, i) => ({ data: concatFloat32(parts.map((p) => p.inputs[i])), shape })),
    target: { data: concatFloat32(parts.map((p) => p.target)), shape: shapes.targetShape },
  };
}
