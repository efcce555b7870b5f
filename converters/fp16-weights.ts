/**
 * float16 *storage* of a float32 model's weights: each large float initializer is stored as
 * FLOAT16 and read through one Cast back to float32 under its old name, so every op still
 * computes in float32. onnxruntime folds the Casts at session start: the file is about half
 * the size and runs exactly as fast as the float32 model, with results equal to float32
 * compute on float16-rounded weights (unlike `convertToFloat16`, whose float16 compute
 * onnxruntime's x86 CPU provider emulates with Casts around every op).
 */
import { InputError } from '../src/errors';
import { onnx, DataType, type ModelProto } from '../src/onnx/proto';
import { tensorToFloat32 } from '../src/onnx/tensor';
import { fp16Tensor } from './fp16';

const FP16_MAX = 65504;

/** Options of {@link float16Weights}. */
export interface Float16WeightsOptions {
  /**
   * Initializers with fewer elements stay float32 (default 256): biases, normalization constants
   * and shape/scale tensors cost nothing to keep exact.
   */
  minElements?: number;
}

/** What {@link float16Weights} did. */
export interface Float16WeightsReport {
  /** Initializers now stored as float16. */
  converted: number;
  /** Float initializers kept in float32 (small ones). */
  keptFloat32: number;
  /** Values outside the float16 range, clamped to ±65504. */
  clamped: number;
  /** Largest |w − fp16(w)| over the converted weights. */
  maxRoundingError: number;
}

/**
 * Returns a copy of `model` with its float initializers of ≥ `minElements` elements stored as
 * float16 plus a Cast to float32 each (inserted first in the graph). The input is not modified.
 * @throws InputError when the model has no graph.
 */
export function float16Weights(model: ModelProto, opts: Float16WeightsOptions = {}): { model: onnx.ModelProto; report: Float16WeightsReport } {
  const graph = model.graph;
  if (!graph) throw new InputError('model', 'has no graph');
  const minElements = opts.minElements ?? 256;
  const report: Float16WeightsReport = { converted: 0, keptFloat32: 0, clamped: 0, maxRoundingError: 0 };
  // Initializers that are also graph inputs (IR < 4) may be overridden by a feed: keep them as they are.
  const inputNames = new Set((graph.input ?? []).map((i) => i.name as string));
  const taken = new Set<string>([...(graph.initializer ?? []).map((t) => t.name as string), ...(graph.node ?? []).flatMap((n) => [...(n.output ?? [])])]);
  const fresh = (base: string) => {
    let n = base;
    for (let i = 1; taken.has(n); i++) n = `${base}_${i}`;
    taken.add(n);
    return n;
  };

  const inits: onnx.TensorProto[] = [];
  const casts: onnx.NodeProto[] = [];
  for (const t of graph.initializer ?? []) {
    const name = t.name as string;
    const count = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
    if (t.dataType !== DataType.FLOAT || inputNames.has(name)) {
      inits.push(t as onnx.TensorProto);
      continue;
    }
    if (count < minElements) {
      inits.push(t as onnx.TensorProto);
      report.keptFloat32 += 1;
      continue;
    }
    const stored = fresh(`${name}_fp16`);
    const half = fp16Tensor(stored, t, report);
    inits.push(half);
    casts.push(onnx.NodeProto.create({ opType: 'Cast', name: fresh(`${name}/CastToFloat`), input: [stored], output: [name], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] }));
    report.converted += 1;
    const [orig, back] = [tensorToFloat32(t), tensorToFloat32(half)];
    for (let i = 0; i < orig.length; i++) if (Number.isFinite(orig[i]) && Math.abs(orig[i]) <= FP16_MAX) report.maxRoundingError = Math.max(report.maxRoundingError, Math.abs(back[i] - orig[i]));
  }
  const out = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...graph, initializer: inits, node: [...casts, ...(graph.node ?? [])] }),
  });
  return { model: out, report };
}
