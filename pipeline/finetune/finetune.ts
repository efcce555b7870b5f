/**
 * Fine-tuning an exported denoiser's decoder head on new images, runtime-free so the CLI and
 * the page's Web Worker run the same code: the head converts from the model's ONNX to tfjs,
 * trains for seeded steps on cached encoder features with the pipeline's losses and optimizers,
 * and goes back to ONE combined ONNX through tfjs → ONNX and the export's `combine`, with
 * metadata saying what it was fine-tuned from and on.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf';
import { trainSchema, type TrainConfig } from '../../src/config/schema';
import { TrainingError } from '../../src/errors';
import { renameGraph } from '../../src/onnx/compose';
import { setMetadata } from '../../src/onnx/metadata';
import type { ModelProto } from '../../src/onnx/proto';
import { forkRng } from '../../src/random';
import { gatherRows, nchwToNhwc } from '../../src/tensor/layout';
import { onnxToTfjs } from '../../converters/onnx-to-tfjs';
import { tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { combine } from '../export-model';
import { IMAGE_INPUT } from '../train/decoder';
import { makeLoss, type LossFn } from '../train/losses';
import { TrainOptimizer } from '../train/optimizers';
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

  constructor(private readonly tf: Tf, readonly head: TfModule.LayersModel, private readonly data: HeadData, private readonly opts: HeadTrainOptions) {
    this.cfg = trainSchema.parse({ optimizer: opts.optimizer ?? 'adam', lr: opts.lr, loss: opts.loss ?? 'mse', batch_size: opts.batchSize });
    this.loss = makeLoss(tf, this.cfg.loss, this.cfg);
    this.optimizer = new TrainOptimizer(tf, head, this.cfg);
  }

  private tensors(rows: number[]) {
    const t4 = (a: { data: Float32Array; shape: [number, number, number] }) =>
      this.tf.tensor4d(gatherRows(a.data, a.shape[0] * a.shape[1] * a.shape[2], rows), [rows.length, ...a.shape]);
    return { xs: this.data.inputs.map(t4), y: t4(this.data.target) };
  }

  private nextBatch(): number[] {
    if (this.cursor >= this.order.length) {
      this.order = forkRng(this.opts.seed, 'finetune-order', this.epoch++).shuffle(Array.from({ length: this.data.count }, (_, i) => i));
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
    const cost = this.tf.tidy(() => {
      const { xs, y } = this.tensors(rows);
      return this.optimizer.step(() => this.loss(y, this.head.apply(xs, { training: true }) as TfModule.Tensor));
    });
    const value = (await cost.data())[0];
    cost.dispose();
    if (!Number.isFinite(value)) throw new TrainingError(`fine-tuning loss became ${value} at step ${this.steps + 1}; lower the learning rate (now ${this.cfg.lr})`);
    this.steps += 1;
    return value;
  }

  /** Mean loss over all rows (batched, no update). */
  evaluate(batch = 16): number {
    let total = 0;
    for (let s = 0; s < this.data.count; s += batch) {
      const rows = Array.from({ length: Math.min(batch, this.data.count - s) }, (_, i) => s + i);
      total += this.tf.tidy(() => {
        const { xs, y } = this.tensors(rows);
        return this.loss(y, this.head.apply(xs, { training: false }) as TfModule.Tensor).dataSync()[0];
      }) * rows.length;
    }
    return total / this.data.count;
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
  return { count: clean.length, channels, size, clean: Float32Array.from(clean.flat()), noisy: Float32Array.from(nz.flat()) };
}

/**
 * Encodes the noisy patches once (in batches) and lays out everything the head trains on, NHWC,
 * in the order of the head's inputs (`tap0…`, `image`).
 * @param inputNames {@link Head.inputNames}
 */
export async function buildHeadData(patches: Patches, inputNames: readonly string[], encode: EncoderCall, batch = 16): Promise<HeadData> {
  const { count, channels: c, size } = patches;
  const per = c * size * size;
  const tapChunks: Float32Array[][] = [];
  let tapDims: number[][] = [];
  for (let s = 0; s < count; s += batch) {
    const n = Math.min(batch, count - s);
    const taps = await encode(patches.noisy.subarray(s * per, (s + n) * per), [n, c, size, size]);
    tapDims = taps.map((t) => t.dims);
    taps.forEach((t, i) => (tapChunks[i] ??= []).push(nchwToNhwc(t.data, n, t.dims[1], t.dims[2], t.dims[3])));
  }
  const concat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const inputs = inputNames.map((name) => {
    if (name === IMAGE_INPUT) return { data: nchwToNhwc(patches.noisy, count, c, size, size), shape: [size, size, c] as [number, number, number] };
    const i = Number(/^tap(\d+)$/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(i) || !tapChunks[i]) throw new RangeError(`decoder input '${name}' is neither '${IMAGE_INPUT}' nor a tap the encoder gives`);
    const d = tapDims[i];
    return { data: concat(tapChunks[i]), shape: [d[2], d[3], d[1]] as [number, number, number] };
  });
  return { count, inputs, target: { data: nchwToNhwc(patches.clean, count, c, size, size), shape: [size, size, c] } };
}
