/**
 * Writes fine-tuned TF.js encoder weights back into the encoder's ONNX graph: each Conv's weight
 * (and bias) initializer gets the trained values (NHWC kernels back to OIHW); a Conv whose
 * BatchNormalization the converter folded is written with the folded weights and the BN node is
 * removed (fold on export); an unfolded BatchNormalization gets its trained scale/bias (its
 * frozen statistics unchanged). Every other initializer is left as it was, byte for byte.
 * `tapParity` checks the result: onnxruntime on the written encoder vs the TF.js layers.
 */
import * as path from 'node:path';
import { createSession } from '../../src/backends/ort';
import type { Tf } from '../../src/backends/tf';
import { ParityError, UnsupportedOpError } from '../../src/errors';
import { writeJsonAtomic } from '../../src/io/atomic';
import { log } from '../../src/log';
import { assertModelValid } from '../../src/onnx/check';
import { decodeModel, encodeModel, loadModel, saveModel } from '../../src/onnx/model-io';
import type { ModelProto, NodeProto } from '../../src/onnx/proto';
import { floatTensor } from '../../src/onnx/tensor';
import { pruneUnused } from '../../converters/model-utils';
import { permute } from '../../converters/tfjs-to-onnx/layout';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import { encoderModelFile, finetunedEncoderFile, type EncoderIo, type FinetuneIo } from '../artifacts';
import type { StageContext } from '../types';
import type { EncoderLayers } from '../train/encoder-layers';
import type { ArrayInput, TrainSplit } from '../train/loop';
import { trainableTapFeatures } from '../train/encoder-layers';

/** What {@link writeBackWeights} changed. */
export interface WriteBackReport {
  /** Initializers whose values were replaced (or added for a Conv that had none, e.g. a bias after a BN fold). */
  initializers: string[];
  /** BatchNormalization nodes folded into their Conv (by output tensor). */
  foldedBatchNorms: string[];
}

const WRITABLE = ['Conv2D', 'DepthwiseConv2D', 'BatchNormalization'];

/**
 * A copy of `encoder` with the weights of `enc`'s layers written into the nodes they came from.
 * @throws UnsupportedOpError for a trained layer kind that cannot be written back (e.g. a grouped conv)
 */
export function writeBackWeights(encoder: ModelProto, enc: EncoderLayers): { model: ModelProto; report: WriteBackReport } {
  const model = decodeModel(encodeModel(encoder), 'encoder.onnx');
  const g = model.graph!;
  const inits = g.initializer ?? [];
  const initAt = new Map(inits.map((t, i) => [t.name as string, i]));
  const producer = new Map<string, NodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) if (o) producer.set(o, n);
  const readers = new Map<string, number>();
  for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  const report: WriteBackReport = { initializers: [], foldedBatchNorms: [] };
  const names = new Set(initAt.keys());

  /** Puts `data` into input `slot` of `node`: in place when only this node reads it, else as a new initializer. */
  const setInput = (node: NodeProto, slot: number, dims: number[], data: Float32Array) => {
    const name = node.input?.[slot] ?? '';
    const at = name ? initAt.get(name) : undefined;
    if (at !== undefined && readers.get(name) === 1) {
      inits[at] = floatTensor(name, dims, data);
      report.initializers.push(name);
      return;
    }
    // Shared (or computed, e.g. DequantizeLinear) weights: this node gets its own copy.
    let fresh = `${name || node.output?.[0]}_finetuned`;
    for (let k = 1; names.has(fresh); k++) fresh = `${name || node.output?.[0]}_finetuned_${k}`;
    names.add(fresh);
    inits.push(floatTensor(fresh, dims, data));
    const input = [...(node.input ?? [])];
    while (input.length < slot) input.push('');
    input[slot] = fresh;
    node.input = input;
    report.initializers.push(fresh);
  };

  const removed = new Set<NodeProto>();
  for (const [layerName, src] of Object.entries(enc.weightSources)) {
    const layer = enc.model.getLayer(layerName);
    const cls = layer.getClassName();
    const node = producer.get(src.node);
    if (!node) throw new Error(`internal: no node outputs '${src.node}' (layer ${layerName})`);
    if (!layer.trainable) continue;
    if (!WRITABLE.includes(cls)) {
      throw new UnsupportedOpError(`write-back of a fine-tuned ${cls} layer`, node.name || src.node, WRITABLE, 'Fine-tune fewer stages (encoder.trainable).');
    }
    const weights = layer.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape }));
    if (cls === 'BatchNormalization') {
      // [gamma, beta, movingMean, movingVariance]: the statistics stayed frozen, so only scale and bias are written.
      setInput(node, 1, [weights[0].data.length], Float32Array.from(weights[0].data));
      setInput(node, 2, [weights[1].data.length], Float32Array.from(weights[1].data));
      continue;
    }
    const [kh, kw, inC, m] = weights[0].shape;
    // Conv2D HWIO → OIHW; depthwise [kh, kw, C, mult] → [C·mult, 1, kh, kw] (as tfjs → ONNX export writes them).
    const outC = cls === 'Conv2D' ? m : inC * m;
    const perOut = cls === 'Conv2D' ? inC : 1;
    const w = permute(weights[0].data, weights[0].shape, cls === 'Conv2D' ? [3, 2, 0, 1] : [2, 3, 0, 1]);
    setInput(node, 1, [outC, perOut, kh, kw], w);
    if (weights[1]) setInput(node, 2, [outC], Float32Array.from(weights[1].data));
    const bn = src.fused.map((o) => producer.get(o)).find((n) => n?.opType === 'BatchNormalization');
    if (bn) {
      // The tfjs kernel holds W·γ/σ and the folded bias: the Conv now produces what the BN produced.
      node.output = [bn.output![0]];
      removed.add(bn);
      report.foldedBatchNorms.push(bn.output![0]);
    }
  }
  g.node = (g.node ?? []).filter((n) => !removed.has(n));
  pruneUnused(g, { allNodes: true });
  return { model, report };
}

/**
 * Max abs difference between the trainable taps of the written encoder (onnxruntime, from the
 * padded noisy images) and of the TF.js layers (from the cached cut of the same rows).
 */
export async function tapParity(
  tf: Tf, written: ModelProto, enc: EncoderLayers, io: EncoderIo, images: ArrayInput, cut: ArrayInput, rows: number, device: 'auto' | 'cpu' | 'cuda',
): Promise<{ maxAbs: number; maxRef: number; rows: number }> {
  const ft = io.finetune as FinetuneIo;
  const fromTf = trainableTapFeatures(tf, enc, io, cut, rows);
  const [H, W, C] = images.shape;
  const n = Math.min(rows, images.data.length / (H * W * C));
  const session = await createSession(encodeModel(written), { device, label: 'fine-tuned encoder.onnx' });
  let maxAbs = 0;
  let maxRef = 0;
  try {
    const res = await session.run(
      { [io.input]: { data: nhwcToNchw(images.data.subarray(0, n * H * W * C), n, H, W, C), dims: [n, C, H, W] } },
      ft.trainableTaps.map((k) => io.taps[k].name),
    );
    ft.trainableTaps.forEach((k, i) => {
      const t = io.taps[k];
      const ort = nchwToNhwc(res[t.name].data, n, t.channels, H / t.stride, W / t.stride);
      const ref = fromTf[i].data;
      for (let j = 0; j < ort.length; j++) {
        maxAbs = Math.max(maxAbs, Math.abs(ort[j] - ref[j]));
        maxRef = Math.max(maxRef, Math.abs(ref[j]));
      }
    });
  } finally {
    await session.release();
  }
  return { maxAbs, maxRef, rows: n };
}

/** Rows compared by the write-back parity check. */
const PARITY_ROWS = 8;

/**
 * The train stage's last step when fine-tuning: writes `train/encoder.onnx` (the cut encoder with
 * the fine-tuned weights; evaluate, export and verify use it) and `train/finetune.json`, after
 * checking that onnxruntime on it reproduces the TF.js layers' taps on a few rows of `split`.
 * @throws ParityError when the max abs tap difference exceeds verify.tolerance × max(1, max |tap|)
 */
export async function writeFinetunedEncoder(tf: Tf, ctx: StageContext, io: EncoderIo, enc: EncoderLayers, split: TrainSplit) {
  const ft = io.finetune as FinetuneIo;
  const source = loadModel(encoderModelFile(ctx.inputs.encoder as string));
  const { model, report } = writeBackWeights(source, enc);
  assertModelValid(model, 'encoder.onnx (fine-tuned)');
  const images = split.inputs[split.inputs.length - 1];
  const parity = await tapParity(tf, model, enc, io, images, split.inputs[ft.cutIndex], PARITY_ROWS, ctx.job.device);
  const limit = ctx.job.verify.tolerance * Math.max(1, parity.maxRef);
  if (!(parity.maxAbs <= limit)) throw new ParityError('max abs tap difference (fine-tuned encoder.onnx in onnxruntime vs the TF.js layers)', parity.maxAbs, limit);
  saveModel(model, finetunedEncoderFile(ctx.outDir));
  const summary = {
    stages: ft.stages, cut: ft.cut.name, atEpoch: ctx.job.encoder.trainable?.at_epoch ?? 0, lrMultiplier: ctx.job.encoder.trainable?.lr_multiplier ?? 1,
    parameters: enc.model.countParams(), initializers: report.initializers, foldedBatchNorms: report.foldedBatchNorms,
    tapParity: { ...parity, limit },
  };
  writeJsonAtomic(path.join(ctx.outDir, FINETUNE_FILE), summary);
  log.info(
    `Fine-tuned stages ${ft.stages.join(', ')} written back into encoder.onnx: ${report.initializers.length} initializers` +
      (report.foldedBatchNorms.length ? `, ${report.foldedBatchNorms.length} BatchNormalization folded` : '') +
      `; taps onnxruntime vs TF.js max abs diff ${parity.maxAbs.toExponential(2)} (max |tap| ${parity.maxRef.toFixed(2)})`,
  );
  return { stages: ft.stages, initializers: report.initializers.length, foldedBatchNorms: report.foldedBatchNorms.length, tapMaxAbsDiff: parity.maxAbs };
}

/** `train/finetune.json`: what was fine-tuned and the write-back check. */
export const FINETUNE_FILE = 'finetune.json';
