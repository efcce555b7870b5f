/**
 * Calibration: runs the float model in onnxruntime-node on calibration inputs with the tensors
 * to quantize added as extra graph outputs, and turns what they hold into one range per tensor.
 * Histogram methods need a second pass, over bins sized by the first pass's max |x|.
 */
import { createSession, type FloatTensor, type OrtSession } from '../../src/backends/ort';
import { InputError } from '../../src/errors';
import { log } from '../../src/log';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import { encodeModel } from '../../src/onnx/model-io';
import { onnx, type ModelProto } from '../../src/onnx/proto';
import { addToHistogram, chooseRange, emptyHistogram, type AbsHistogram, type CalibrationMethod, type TensorRange } from './ranges';

/** Options of {@link calibrateRanges}. */
export interface CalibrateOptions {
  /** Default 'minmax'. */
  method?: CalibrationMethod;
  /** For 'percentile': the share of |x| kept inside the range, in % (default 99.999). */
  percentile?: number;
  /** onnxruntime intra-op threads (0 = ORT decides). */
  threads?: number;
}

/** The model with `tensors` appended to its outputs (those already outputs are left alone). */
export function withExtraOutputs(model: ModelProto, tensors: readonly string[]): onnx.ModelProto {
  const graph = model.graph as onnx.GraphProto;
  const have = new Set((graph.output ?? []).map((o) => o.name));
  const extra = tensors.filter((t) => !have.has(t)).map((t) => makeValueInfo(t, undefined, onnx.TensorProto.DataType.FLOAT));
  return onnx.ModelProto.create({ ...model, graph: onnx.GraphProto.create({ ...graph, output: [...(graph.output ?? []), ...extra] }) });
}

async function eachOutput(session: OrtSession, feeds: readonly Record<string, FloatTensor>[], tensors: readonly string[], fn: (name: string, t: FloatTensor) => void) {
  for (const feed of feeds) {
    const out = await session.run(feed, tensors);
    for (const name of tensors) fn(name, out[name]);
  }
}

/** Observed min/max of one tensor over the feeds, and its channel count (dim 1 of a 4-D tensor, else 0). */
export interface ObservedRange extends TensorRange {
  channels: number;
}

/** Folds every value of `t` into `r` (min/max) and records its channel count. */
function observe(r: ObservedRange, t: FloatTensor): void {
  const d = t.data;
  let lo = r.min;
  let hi = r.max;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  r.min = lo;
  r.max = hi;
  r.channels = t.dims.length === 4 ? t.dims[1] : 0;
}

/** {@link observeRanges} on an open session (calibrateRanges reuses it for the histogram pass). */
async function observeWith(session: OrtSession, feeds: readonly Record<string, FloatTensor>[], tensors: readonly string[]): Promise<Map<string, ObservedRange>> {
  const seen = new Map<string, ObservedRange>(tensors.map((t) => [t, { min: Infinity, max: -Infinity, channels: 0 }]));
  await eachOutput(session, feeds, tensors, (name, t) => observe(seen.get(name) as ObservedRange, t));
  return seen;
}

/**
 * Min/max and channel count of each of `tensors` over the feeds: one run of `model` per feed.
 * @throws InputError when no feed is given.
 */
export async function observeRanges(
  model: ModelProto,
  tensors: readonly string[],
  feeds: readonly Record<string, FloatTensor>[],
  opts: { threads?: number } = {},
): Promise<Map<string, ObservedRange>> {
  if (!feeds.length) throw new InputError('calibration', 'no calibration inputs; give at least one image (16 or more recommended)');
  const session = await createSession(encodeModel(withExtraOutputs(model, tensors)), { device: 'cpu', threads: opts.threads, label: 'calibration model' });
  try {
    return await observeWith(session, feeds, tensors);
  } finally {
    await session.release();
  }
}

/**
 * One quantization range per tensor, from running `model` on every feed (see the module comment), with the tensor's
 * channel count as observed.
 * @throws InputError when no feed is given.
 */
export async function calibrateRanges(
  model: ModelProto,
  tensors: readonly string[],
  feeds: readonly Record<string, FloatTensor>[],
  opts: CalibrateOptions = {},
): Promise<Map<string, ObservedRange>> {
  if (!feeds.length) throw new InputError('calibration', 'no calibration inputs; give at least one image (16 or more recommended)');
  const method = opts.method ?? 'minmax';
  const session = await createSession(encodeModel(withExtraOutputs(model, tensors)), { device: 'cpu', threads: opts.threads, label: 'calibration model' });
  try {
    const seen = await observeWith(session, feeds, tensors);
    const hists = new Map<string, AbsHistogram>();
    if (method !== 'minmax') {
      for (const [name, r] of seen) hists.set(name, emptyHistogram(Math.max(Math.abs(r.min), Math.abs(r.max))));
      await eachOutput(session, feeds, tensors, (name, t) => addToHistogram(hists.get(name) as AbsHistogram, t.data));
    }
    const ranges = new Map<string, ObservedRange>();
    for (const [name, r] of seen) ranges.set(name, { ...chooseRange({ min: r.min, max: r.max }, method, hists.get(name), opts.percentile), channels: r.channels });
    log.debug(`calibrated ${ranges.size} tensors on ${feeds.length} inputs (${method})`);
    return ranges;
  } finally {
    await session.release();
  }
}
