/**
 * Benchmark: the default job (configs/mnist-dae.yaml) end to end in a temporary run folder —
 * test MSE/PSNR/SSIM of noisy vs denoised, wall time per stage, featurizing and training
 * throughput, export parity — printed as a table and written to bench/results/demo.json.
 *   node dist/bench/demo-quality.js [--set key=value ...]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runJob } from '../pipeline/runner';
import { STAGE_NAMES, type StageRecord } from '../pipeline/types';
import { writeJsonAtomic, readJson } from '../src/io/atomic';
import { PROJECT_ROOT } from '../src/version';

export async function runDemoBench(overrides: string[] = []): Promise<Record<string, unknown>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-bench-demo-'));
  const t0 = performance.now();
  try {
    const r = await runJob({ jobFile: path.join(PROJECT_ROOT, 'configs', 'mnist-dae.yaml'), overrides, outDir: path.join(out, 'run') });
    const stages = Object.fromEntries(
      STAGE_NAMES.map((s) => [s, readJson<StageRecord>(path.join(r.runDir, s, 'run.json')).wallSeconds]),
    );
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg() },
      overrides,
      wallSeconds: (performance.now() - t0) / 1000,
      stages,
      evaluate: r.summaries.evaluate,
      train: r.summaries.train,
      featurize: r.summaries.featurize,
      verify: r.summaries.verify,
    };
    writeJsonAtomic(path.join(PROJECT_ROOT, 'bench', 'results', 'demo.json'), report);
    return report;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

export function formatDemoBench(r: Record<string, unknown>): string {
  const ev = r.evaluate as { noisy: Record<string, number>; denoised: Record<string, number>; samples: number };
  const tr = r.train as { backend: string; samplesPerSecond: number };
  const stages = r.stages as Record<string, number>;
  return [
    `demo job (configs/mnist-dae.yaml), ${ev.samples} test digits, TF.js ${tr.backend}`,
    `  noisy    MSE ${ev.noisy.mse.toFixed(4)}  PSNR ${ev.noisy.psnr.toFixed(2)} dB  SSIM ${ev.noisy.ssim.toFixed(3)}`,
    `  denoised MSE ${ev.denoised.mse.toFixed(4)}  PSNR ${ev.denoised.psnr.toFixed(2)} dB  SSIM ${ev.denoised.ssim.toFixed(3)}`,
    `  training ${tr.samplesPerSecond.toFixed(0)} samples/s (last epoch); wall ${(r.wallSeconds as number).toFixed(1)} s: ` +
      Object.entries(stages).map(([s, t]) => `${s} ${t.toFixed(1)} s`).join(', '),
  ].join('\n');
}

if (require.main === module) {
  const overrides: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--set' && argv[i + 1]) overrides.push(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}; expected --set key=value`);
  }
  runDemoBench(overrides).then((r) => process.stdout.write(formatDemoBench(r) + '\nwrote bench/results/demo.json\n'));
}
