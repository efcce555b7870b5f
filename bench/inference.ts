/**
 * Benchmark: onnxruntime-node inference time of exported denoisers next to the DnCNN reference
 * (../shared/models/dncnn_25.onnx, skipped when absent) at 256×256 and 512×512: best-of-N ms per
 * image, MPix/s and the process's peak RSS. Writes bench/results/inference.json.
 *   node dist/bench/inference.js [model.onnx ...] [--repeats 5] [--threads 2]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDenoiser } from '../src/inference/onnx-denoiser';
import { writeJsonAtomic } from '../src/io/atomic';
import { forkRng } from '../src/random';
import { PROJECT_ROOT } from '../src/version';

export interface InferenceResult {
  model: string;
  size: string;
  msBest: number;
  msMedian: number;
  megapixelsPerSecond: number;
}

export async function benchInference(models: string[], sizes = [256, 512], repeats = 5, threads = 0): Promise<InferenceResult[]> {
  const results: InferenceResult[] = [];
  for (const file of models) {
    const d = await openDenoiser(file, { device: 'cpu', threads: threads || undefined });
    try {
      for (const s of sizes) {
        const rng = forkRng(1, 'bench', s);
        const img = Float32Array.from({ length: s * s * d.channels }, () => rng.uniform());
        await d.run(img, s, s, { tile: s }); // warm-up
        const times: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          await d.run(img, s, s, { tile: s });
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        results.push({
          model: path.basename(file), size: `${s}×${s}`, msBest: times[0], msMedian: times[Math.floor(times.length / 2)],
          megapixelsPerSecond: (s * s) / 1e6 / (times[0] / 1000),
        });
      }
    } finally {
      await d.release();
    }
  }
  return results;
}

export function formatInference(rows: InferenceResult[], rssMb: number): string {
  const lines = ['| model | size | best ms | median ms | MPix/s |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.model} | ${r.size} | ${r.msBest.toFixed(1)} | ${r.msMedian.toFixed(1)} | ${r.megapixelsPerSecond.toFixed(2)} |`);
  lines.push('', `peak RSS ${rssMb.toFixed(0)} MB`);
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const models: string[] = [];
  let repeats = 5;
  let threads = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeats') repeats = Number(argv[++i]);
    else if (argv[i] === '--threads') threads = Number(argv[++i]);
    else models.push(argv[i]);
  }
  const dncnn = path.resolve(PROJECT_ROOT, '..', 'shared', 'models', 'dncnn_25.onnx');
  if (fs.existsSync(dncnn)) models.push(dncnn);
  else process.stderr.write(`DnCNN reference not found at ${dncnn}; benchmarking only the given models\n`);
  if (!models.length) {
    process.stderr.write('usage: node dist/bench/inference.js <exported.onnx ...> (e.g. runs/<job>/export/*.onnx)\n');
    process.exit(2);
  }
  benchInference(models, [256, 512], repeats, threads).then((rows) => {
    const rssMb = process.resourceUsage().maxRSS / 1024;
    writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'inference.json'), {
      date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, repeats, threads, rows, peakRssMb: rssMb,
    });
    process.stdout.write(formatInference(rows, rssMb) + '\nwrote bench/results/inference.json\n');
  });
}
