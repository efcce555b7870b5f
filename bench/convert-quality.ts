/**
 * Benchmark: what float16 and int8 weights cost the exported denoiser of a finished run —
 * mean test PSNR (src/metrics/psnr.ts, per image, output clipped) of the float32, float16 and
 * int8 models in onnxruntime CPU, the drops, max |diff| against float32, and file sizes.
 * Prints a table and writes bench/results/convert-quality.json.
 *   node dist/bench/convert-quality.js <run dir> [--out file.json]
 * (a run dir comes from e.g. `node bin/onnxtune.js demo --out /tmp/demo-for-conv`)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession } from '../src/backends/ort';
import { writeJsonAtomic } from '../src/io/atomic';
import { readNpy } from '../src/io/npy';
import { meanPsnr } from '../src/metrics/psnr';
import { encodeModel, loadModel } from '../src/onnx/model-io';
import type { ModelProto } from '../src/onnx/proto';
import { nchwToNhwc, nhwcToNchw } from '../src/tensor/layout';
import { PROJECT_ROOT } from '../src/version';
import { convertToFloat16 } from '../converters/fp16';
import { quantizeWeightsInt8 } from '../converters/quantize';

interface Variant {
  name: string;
  bytes: number;
  psnr: number;
  psnrDrop: number;
  maxAbsDiff: number;
  seconds: number;
}

/** Runs `model` on NHWC images [N, H, W, C] in batches; returns NHWC outputs. */
async function denoise(model: ModelProto, noisy: Float32Array, dims: number[]): Promise<{ out: Float32Array; seconds: number }> {
  const [n, h, w, c] = dims;
  const session = await createSession(encodeModel(model), { device: 'cpu' });
  const input = session.inputNames[0];
  const out = new Float32Array(noisy.length);
  const t0 = performance.now();
  try {
    const per = h * w * c;
    for (let i = 0; i < n; i += 100) {
      const m = Math.min(100, n - i);
      const x = nhwcToNchw(noisy.subarray(i * per, (i + m) * per), m, h, w, c);
      const y = (await session.run({ [input]: { data: x, dims: [m, c, h, w] } }))[session.outputNames[0]];
      out.set(nchwToNhwc(y.data, m, c, h, w), i * per);
    }
  } finally {
    await session.release();
  }
  return { out, seconds: (performance.now() - t0) / 1000 };
}

/** Measures float32 / float16 / int8 variants of the run's exported model on its test split. */
export async function runConvertQualityBench(runDir: string): Promise<Record<string, unknown>> {
  const exportDir = path.join(runDir, 'export');
  const file = fs.readdirSync(exportDir).find((f) => f.endsWith('.onnx'));
  if (!file) throw new Error(`${exportDir}: no .onnx file (is the run finished?)`);
  const fp32 = loadModel(path.join(exportDir, file));
  const dataDir = path.join(runDir, 'data');
  const groups = fs.readdirSync(dataDir).filter((f) => /^test\..+\.noisy\.npy$/.test(f)).sort();
  if (!groups.length) throw new Error(`${dataDir}: no test.*.noisy.npy`);
  const variants: Array<[string, ModelProto]> = [
    ['float32', fp32],
    ['float16', convertToFloat16(fp32).model],
    ['int8', quantizeWeightsInt8(fp32).model],
  ];
  const sums = variants.map(() => ({ psnr: 0, maxAbs: 0, seconds: 0 }));
  let images = 0;
  for (const g of groups) {
    const noisy = readNpy(path.join(dataDir, g));
    const clean = readNpy(path.join(dataDir, g.replace('.noisy.', '.clean.')));
    const shape = noisy.dims as [number, number, number, number];
    let ref: Float32Array | undefined;
    for (let v = 0; v < variants.length; v++) {
      const { out, seconds } = await denoise(variants[v][1], noisy.data, noisy.dims);
      ref ??= out;
      for (let k = 0; k < out.length; k++) sums[v].maxAbs = Math.max(sums[v].maxAbs, Math.abs(out[k] - ref[k]));
      sums[v].psnr += meanPsnr(out, clean.data, shape) * shape[0];
      sums[v].seconds += seconds;
    }
    images += shape[0];
  }
  const base = sums[0].psnr / images;
  const results: Variant[] = variants.map(([name, model], v) => ({
    name,
    bytes: encodeModel(model).length,
    psnr: sums[v].psnr / images,
    psnrDrop: base - sums[v].psnr / images,
    maxAbsDiff: sums[v].maxAbs,
    seconds: sums[v].seconds,
  }));
  return {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg() },
    model: path.join(exportDir, file),
    testImages: images,
    targets: { float16MaxDropDb: 0.05, int8MaxDropDb: 0.3 },
    variants: results,
  };
}

export function formatConvertQuality(r: Record<string, unknown>): string {
  const vs = r.variants as Variant[];
  const lines = [`${String(r.model)} on ${String(r.testImages)} test images (onnxruntime CPU)`];
  lines.push('variant   size        PSNR dB   drop dB   max |diff| vs fp32   time s');
  for (const v of vs) {
    lines.push(
      `${v.name.padEnd(9)} ${(v.bytes / 1024).toFixed(1).padStart(7)} KiB ${v.psnr.toFixed(3).padStart(9)} ${v.psnrDrop.toFixed(4).padStart(9)} ` +
        `${v.maxAbsDiff.toExponential(2).padStart(20)} ${v.seconds.toFixed(2).padStart(8)}`,
    );
  }
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const runDir = argv.find((a) => !a.startsWith('--'));
  const outIdx = argv.indexOf('--out');
  const out = outIdx >= 0 ? argv[outIdx + 1] : path.join(PROJECT_ROOT, 'bench', 'results', 'convert-quality.json');
  if (!runDir) {
    process.stderr.write('usage: node dist/bench/convert-quality.js <run dir> [--out file.json]\n');
    process.exit(2);
  }
  runConvertQualityBench(runDir)
    .then((r) => {
      writeJsonAtomic(out, r);
      process.stdout.write(formatConvertQuality(r) + `\nwrote ${out}\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
