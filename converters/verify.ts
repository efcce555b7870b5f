/**
 * The parity checker: runs two models — ONNX in onnxruntime, tfjs model.json in TensorFlow.js
 * — on the same seeded random (or given) inputs and reports, per output, the max absolute and
 * relative error and whether every element is within atol + rtol·|reference| (model `a` is
 * the reference). Everything is compared in NCHW: tfjs models (NHWC) and ONNX models marked
 * `onnxtune.layout = NHWC` are transposed at the boundary. Inputs and outputs are matched by
 * position.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { createSession, type FloatTensor } from '../src/backends/ort';
import { initTf, type Tf } from '../src/backends/tf';
import { InputError, ParityError } from '../src/errors';
import { valueInfoDims } from '../src/onnx/info';
import { encodeModel, loadModel } from '../src/onnx/model-io';
import type { ModelProto } from '../src/onnx/proto';
import { createRng } from '../src/random';
import { nchwToNhwc, nhwcToNchw } from '../src/tensor/layout';
import { loadTfjsModel, modelFormat, type ModelFormat } from './io';
import { modelLayout } from './nhwc';

/** Options of {@link verifyModels}. */
export interface VerifyOptions {
  /** Inputs by position, NCHW for rank 4 (default: seeded random values in `range`). */
  inputs?: FloatTensor[];
  /** NCHW dims per input position, replacing symbolic dims. */
  shapes?: number[][];
  /** Size used for symbolic batch (default 1) and spatial dims (default 32). */
  batch?: number;
  size?: number;
  /** Range of the random inputs (default [0, 1]). */
  range?: [number, number];
  seed?: number;
  /** Tolerance: |a − b| ≤ atol + rtol·|a| (defaults 1e-4 and 1e-4). */
  atol?: number;
  rtol?: number;
}

/** One output's comparison. */
export interface OutputComparison {
  name: string;
  dims: number[];
  maxAbs: number;
  /** Max |a − b| / |a| over elements with |a| > atol. */
  maxRel: number;
  meanAbs: number;
  /** Elements outside the tolerance. */
  failures: number;
  passed: boolean;
}

/** Result of {@link verifyModels}. */
export interface VerifyReport {
  a: { file: string; format: ModelFormat; layout: 'NCHW' | 'NHWC' };
  b: { file: string; format: ModelFormat; layout: 'NCHW' | 'NHWC' };
  inputs: Array<{ name: string; dims: number[]; source: 'random' | 'given' }>;
  outputs: OutputComparison[];
  atol: number;
  rtol: number;
  passed: boolean;
}

/** A model ready to run on canonical (NCHW) inputs. */
interface Runner {
  format: ModelFormat;
  layout: 'NCHW' | 'NHWC';
  inputs: Array<{ name: string; dims: Array<number | string | null> }>;
  outputNames: string[];
  run(inputs: FloatTensor[]): Promise<FloatTensor[]>;
  release(): Promise<void>;
}

const toNhwc = (t: FloatTensor): FloatTensor => {
  if (t.dims.length !== 4) return t;
  const [n, c, h, w] = t.dims;
  return { data: nchwToNhwc(t.data, n, c, h, w), dims: [n, h, w, c] };
};
const toNchw = (t: FloatTensor): FloatTensor => {
  if (t.dims.length !== 4) return t;
  const [n, h, w, c] = t.dims;
  return { data: nhwcToNchw(t.data, n, h, w, c), dims: [n, c, h, w] };
};

/** Wraps an ONNX model for {@link compareRunners}. */
export async function onnxRunner(model: ModelProto, label: string): Promise<Runner> {
  const layout = modelLayout(model);
  const session = await createSession(encodeModel(model), { device: 'cpu', label });
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph?.input ?? [])
    .filter((vi) => !inits.has(vi.name))
    .map((vi) => {
      const d: Array<number | string | null> = valueInfoDims(vi) ?? [];
      return { name: vi.name as string, dims: layout === 'NHWC' && d.length === 4 ? [d[0], d[3], d[1], d[2]] : d };
    });
  return {
    format: 'onnx',
    layout,
    inputs,
    outputNames: [...session.outputNames],
    run: async (xs) => {
      const feeds = Object.fromEntries(inputs.map((inp, i) => [inp.name, layout === 'NHWC' ? toNhwc(xs[i]) : xs[i]]));
      const out = await session.run(feeds);
      return session.outputNames.map((n) => (layout === 'NHWC' ? toNchw(out[n]) : out[n]));
    },
    release: () => session.release(),
  };
}

/** Wraps a tfjs LayersModel (NHWC) for {@link compareRunners}. */
export function tfjsRunner(tf: Tf, model: TfModule.LayersModel): Runner {
  return {
    format: 'tfjs',
    layout: 'NHWC',
    inputs: model.inputs.map((t, i) => {
      const s = t.shape;
      return { name: model.inputNames?.[i] ?? t.name, dims: s.length === 4 ? [s[0], s[3], s[1], s[2]] : [...s] };
    }),
    outputNames: model.outputNames ?? model.outputs.map((t) => t.name),
    run: async (xs) => {
      const ts = xs.map((x) => {
        const t = toNhwc(x);
        return tf.tensor(t.data, t.dims, 'float32');
      });
      const y = model.predict(ts.length === 1 ? ts[0] : ts) as TfModule.Tensor | TfModule.Tensor[];
      const ys = Array.isArray(y) ? y : [y];
      const out = await Promise.all(ys.map(async (t) => toNchw({ data: new Float32Array(await t.data()), dims: [...t.shape] })));
      ts.forEach((t) => t.dispose());
      ys.forEach((t) => t.dispose());
      return out;
    },
    release: async () => {
      model.dispose();
    },
  };
}

/**
 * Runs two prepared models on the same inputs and compares their outputs.
 * @throws InputError when inputs or outputs do not pair up.
 */
export async function compareRunners(a: Runner, b: Runner, opts: VerifyOptions = {}): Promise<Omit<VerifyReport, 'a' | 'b'>> {
  const atol = opts.atol ?? 1e-4;
  const rtol = opts.rtol ?? 1e-4;
  if (a.inputs.length !== b.inputs.length) throw new InputError('verify', `the models take ${a.inputs.length} and ${b.inputs.length} inputs`);
  const rng = createRng(opts.seed ?? 0);
  const [lo, hi] = opts.range ?? [0, 1];
  const given = opts.inputs;
  const inputs: FloatTensor[] = a.inputs.map((inp, i) => {
    if (given?.[i]) return given[i];
    const known = opts.shapes?.[i];
    const dims = known ?? inp.dims.map((d, k) => {
      const other = b.inputs[i].dims[k];
      if (typeof d === 'number' && d > 0) return d;
      if (typeof other === 'number' && other > 0) return other;
      return k === 0 ? (opts.batch ?? 1) : (opts.size ?? 32);
    });
    const n = dims.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    for (let k = 0; k < n; k++) data[k] = lo + (hi - lo) * rng.uniform();
    return { data, dims };
  });
  const ya = await a.run(inputs);
  const yb = await b.run(inputs);
  if (ya.length !== yb.length) throw new InputError('verify', `the models return ${ya.length} and ${yb.length} outputs`);
  const outputs = ya.map((ra, i): OutputComparison => {
    const rb = yb[i];
    const name = a.outputNames[i] ?? `output${i}`;
    if (ra.dims.join(',') !== rb.dims.join(',')) {
      throw new InputError('verify', `output ${i} ('${name}') has dims [${ra.dims.join(', ')}] in one model and [${rb.dims.join(', ')}] in the other`);
    }
    let maxAbs = 0;
    let maxRel = 0;
    let sum = 0;
    let failures = 0;
    for (let k = 0; k < ra.data.length; k++) {
      const d = Math.abs(ra.data[k] - rb.data[k]);
      const ref = Math.abs(ra.data[k]);
      if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
      if (ref > atol) maxRel = Math.max(maxRel, d / ref);
      sum += d;
      if (!(d <= atol + rtol * ref)) failures += 1;
    }
    return { name, dims: ra.dims, maxAbs, maxRel, meanAbs: sum / Math.max(ra.data.length, 1), failures, passed: failures === 0 };
  });
  return {
    inputs: inputs.map((t, i) => ({ name: a.inputs[i].name, dims: t.dims, source: given?.[i] ? 'given' : 'random' })),
    outputs,
    atol,
    rtol,
    passed: outputs.every((o) => o.passed),
  };
}

async function openModel(file: string, tf: () => Promise<Tf>): Promise<Runner> {
  const format = modelFormat(file, 'input');
  if (format === 'onnx') return onnxRunner(loadModel(file), file);
  const t = await tf();
  return tfjsRunner(t, await loadTfjsModel(t, file));
}

/**
 * Compares two model files (.onnx or tfjs model.json) on the same inputs; `a` is the reference.
 * @returns the report; check `passed` or call {@link assertParity}.
 */
export async function verifyModels(a: string, b: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const tf = async () => (await initTf()).tf;
  const ra = await openModel(a, tf);
  try {
    const rb = await openModel(b, tf);
    try {
      const r = await compareRunners(ra, rb, opts);
      return { a: { file: a, format: ra.format, layout: ra.layout }, b: { file: b, format: rb.format, layout: rb.layout }, ...r };
    } finally {
      await rb.release();
    }
  } finally {
    await ra.release();
  }
}

/** @throws ParityError naming the worst output when the report did not pass. */
export function assertParity(report: Pick<VerifyReport, 'outputs' | 'atol' | 'passed'>): void {
  if (report.passed) return;
  const worst = [...report.outputs].sort((x, y) => y.maxAbs - x.maxAbs)[0];
  throw new ParityError(`max abs error of output '${worst.name}' (${worst.failures} elements outside the tolerance)`, worst.maxAbs, report.atol);
}
