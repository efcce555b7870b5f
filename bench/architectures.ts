/**
 * Benchmark: whole-model ONNX → tfjs conversion of every architecture of bench/architectures/
 * (small widths, real topology) in its opset-9 (Caffe2 layout) and opset-17 (torchvision layout)
 * forms, on native TF.js and on wasm: `onnxToTfjs`, then max |tfjs − onnxruntime| on one seeded
 * 1×3×64×64 input over the classifier output and the feature map at every auto tap (pass ≤ 1e-4;
 * the cell also gives the largest output magnitude, so the diff reads relative to it). Each backend × architecture runs in its own child process
 * (ONNXTUNE_TF_BACKEND), so a crash of one (a signal) is a row, never the end of the table.
 * An unsupported op is reported as `unsupported: <ops>`. Prints a markdown table and writes
 * bench/results/architectures.json.
 *   npm run build && node dist/bench/architectures.js [--backends tensorflow,wasm] [--archs a,b] [--timeout 300]
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession } from '../src/backends/ort';
import { initTf, type TfBackendName } from '../src/backends/tf';
import { writeJsonAtomic } from '../src/io/atomic';
import { setLogLevel } from '../src/log';
import { encodeModel } from '../src/onnx/model-io';
import { createRng } from '../src/random';
import { nchwToNhwc, nhwcToNchw } from '../src/tensor/layout';
import { PROJECT_ROOT } from '../src/version';
import { onnxToTfjs, UnsupportedOnnxOpsError } from '../converters/onnx-to-tfjs';
import { ARCHITECTURES, ARCHITECTURE_NAMES, type ArchitectureName, type Layout } from './architectures/index';
import { emitResult, runWorker } from './child-process';
import { ArgCursor } from './cli';
import { autoTaps } from '../pretrained/auto-taps';
import type { ModelProto } from '../src/onnx/proto';

/** A copy of `model` that also outputs `tensors` (float32), after its own outputs. */
function withOutputs(model: ModelProto, tensors: readonly string[]): ModelProto {
  const graph = model.graph ?? {};
  const have = new Set((graph.output ?? []).map((o) => o.name));
  const extra = tensors.filter((t) => !have.has(t)).map((name) => ({ name, type: { tensorType: { elemType: 1 } } }));
  return { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } } as ModelProto;
}

const MARKER = 'ARCHITECTURES_RESULT ';
/** The pass threshold on max |tfjs − onnxruntime|. */
export const ARCH_TOLERANCE = 1e-4;
/** The two forms of each architecture: opset 9 as Caffe2/model-zoo files have it, opset 17 as torchvision writes it. */
export const FORMS: ReadonlyArray<{ opset: number; layout: Layout }> = Object.freeze([
  { opset: 9, layout: 'caffe2' },
  { opset: 17, layout: 'torchvision' },
]);

/** One conversion: the max abs diff, or why there is none. */
export interface ConversionOutcome {
  opset: number;
  status: 'ok' | 'unsupported' | 'error';
  maxAbsDiff?: number;
  /** Largest |onnxruntime output| over the compared tensors, so the diff reads relative to it. */
  refMax?: number;
  /** `unsupported`: the op types; `error`: the message. */
  detail?: string;
  seconds: number;
}

/** A table row: one architecture × form, per backend. */
export interface ArchitectureRow {
  arch: ArchitectureName;
  opset: number;
  backends: Partial<Record<TfBackendName, ConversionOutcome>>;
}

/** Child side: converts one architecture in both forms on this process's backend. */
async function worker(arch: ArchitectureName): Promise<void> {
  setLogLevel('warn');
  const { tf } = await initTf();
  const out: ConversionOutcome[] = [];
  for (const form of FORMS) {
    const t0 = performance.now();
    const built = ARCHITECTURES[arch](form.layout);
    // Compare the feature maps at every auto tap too, not only the (softmax-squashed) classifier output.
    const model = withOutputs(built.model, autoTaps(built.model, { input: built.input }).map((t) => t.tensor));
    const rng = createRng(`architectures/${arch}`);
    const x = Float32Array.from({ length: 3 * 64 * 64 }, () => rng.uniform());
    const session = await createSession(encodeModel(model), { device: 'cpu', threads: 1 });
    const ref = await session.run({ [built.input]: { data: x, dims: [1, 3, 64, 64] } });
    const outputNames = [...session.outputNames];
    await session.release();
    const seconds = () => (performance.now() - t0) / 1000;
    try {
      const { model: tfModel } = onnxToTfjs(tf, model, { label: `${arch} (opset ${form.opset})` });
      try {
        const xt = tf.tensor4d(nchwToNhwc(x, 1, 3, 64, 64), [1, 64, 64, 3]);
        const pred = tfModel.predict(xt);
        const ys = (Array.isArray(pred) ? pred : [pred]) as Array<ReturnType<typeof tf.tensor>>;
        let m = ys.length === outputNames.length ? 0 : Infinity;
        let refMax = 0;
        ys.forEach((yt, k) => {
          const expected = ref[outputNames[k]];
          const y = new Float32Array(yt.dataSync());
          const [n, h, w, c] = yt.shape as number[];
          const got = yt.rank === 4 ? nhwcToNchw(y, n, h, w, c) : y;
          if (!expected || got.length !== expected.data.length) m = Infinity;
          for (let i = 0; i < got.length && m !== Infinity; i++) {
            const d = Math.abs(got[i] - expected.data[i]);
            refMax = Math.max(refMax, Math.abs(expected.data[i]));
            m = Number.isNaN(d) ? Infinity : Math.max(m, d); // a NaN anywhere fails the row
          }
        });
        xt.dispose();
        ys.forEach((t) => t.dispose());
        out.push({ opset: form.opset, status: 'ok', maxAbsDiff: m, refMax, seconds: seconds() });
      } finally {
        tfModel.dispose();
      }
    } catch (err) {
      if (err instanceof UnsupportedOnnxOpsError) {
        const ops = [...new Set(err.problems.map((p) => (p.reason ? `${p.op} (${p.reason})` : p.op)))];
        out.push({ opset: form.opset, status: 'unsupported', detail: ops.join(', '), seconds: seconds() });
      } else {
        out.push({ opset: form.opset, status: 'error', detail: err instanceof Error ? err.message.slice(0, 300) : String(err), seconds: seconds() });
      }
    }
  }
  emitResult(MARKER, out);
}

/** Options of {@link runArchitecturesBench}. */
export interface ArchitecturesBenchOptions {
  backends: TfBackendName[];
  archs: ArchitectureName[];
  /** Wall-clock limit of one child, seconds. */
  timeout: number;
}

/** Parent side: one child per backend × architecture; returns the rows (failed children become error rows). */
export function runArchitecturesBench(opts: Partial<ArchitecturesBenchOptions> = {}): { rows: ArchitectureRow[]; report: Record<string, unknown> } {
  const o: ArchitecturesBenchOptions = { backends: ['tensorflow', 'wasm'], archs: [...ARCHITECTURE_NAMES], timeout: 300, ...opts };
  const rows: ArchitectureRow[] = o.archs.flatMap((arch) => FORMS.map((f) => ({ arch, opset: f.opset, backends: {} })));
  for (const backend of o.backends) {
    for (const arch of o.archs) {
      process.stderr.write(`architectures: ${arch} on ${backend} ...\n`);
      const r = runWorker<ConversionOutcome[]>(__filename, ['--worker', arch], MARKER, {
        timeoutS: o.timeout,
        env: { ...process.env, ONNXTUNE_TF_BACKEND: backend },
      });
      for (const row of rows.filter((x) => x.arch === arch)) {
        row.backends[backend] = r.ok
          ? r.value.find((v) => v.opset === row.opset)
          : { opset: row.opset, status: 'error', detail: `process failed: ${r.reason}`, seconds: r.wallSeconds };
      }
    }
  }
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, load: os.loadavg() },
    input: [1, 3, 64, 64],
    tolerance: ARCH_TOLERANCE,
    forms: FORMS,
    backends: o.backends,
    rows,
  };
  writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'architectures.json'), report);
  return { rows, report };
}

/** One cell: `3.1e-6 ✓`, `2.0e-3 ✗`, `unsupported: LRN, Sum`, `error: …`. */
export function formatOutcome(o: ConversionOutcome | undefined): string {
  if (!o) return '-';
  if (o.status === 'ok') {
    const scale = o.refMax === undefined ? '' : ` (outputs up to ${o.refMax.toPrecision(2)})`;
    return `${(o.maxAbsDiff ?? Infinity).toExponential(1)} ${(o.maxAbsDiff ?? Infinity) <= ARCH_TOLERANCE ? '✓' : '✗'}${scale}`;
  }
  return `${o.status}: ${(o.detail ?? '').replace(/\|/g, '/')}`;
}

/** The markdown table: architecture | opset | one column per backend. */
export function formatArchitecturesTable(rows: readonly ArchitectureRow[], backends: readonly TfBackendName[]): string {
  const head = ['architecture', 'opset', ...backends.map((b) => `${b === 'tensorflow' ? 'native' : b} max abs diff`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.arch} | ${r.opset} | ${backends.map((b) => formatOutcome(r.backends[b])).join(' | ')} |`);
  return lines.join('\n');
}

if (require.main === module) {
  const args = new ArgCursor(process.argv.slice(2));
  let workerArch: string | undefined;
  const opts: Partial<ArchitecturesBenchOptions> = {};
  for (let a = args.next(); a !== undefined; a = args.next()) {
    if (a === '--worker') workerArch = args.value(a);
    else if (a === '--backends') opts.backends = args.value(a).split(',') as TfBackendName[];
    else if (a === '--archs') opts.archs = args.value(a).split(',') as ArchitectureName[];
    else if (a === '--timeout') opts.timeout = args.number(a);
    else throw new Error(`unknown argument ${a}; expected --backends, --archs, --timeout`);
  }
  const unknown = [...(opts.archs ?? []), ...(workerArch ? [workerArch] : [])].filter((a) => !(a in ARCHITECTURES));
  if (unknown.length) {
    process.stderr.write(`unknown architecture ${unknown.join(', ')}; expected one of ${ARCHITECTURE_NAMES.join(', ')}\n`);
    process.exit(2);
  }
  if (workerArch) {
    worker(workerArch as ArchitectureName).catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
  } else {
    const { rows, report } = runArchitecturesBench(opts);
    process.stdout.write(formatArchitecturesTable(rows, report.backends as TfBackendName[]) + '\n');
    process.stdout.write(`wrote ${path.join(PROJECT_ROOT, 'bench', 'results', 'architectures.json')}\n`);
  }
}
