/** `onnxtune run <job.yaml>`: run or resume a staged job. */
import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { runJob, type RunJobResult } from '../../../pipeline/runner';
import { STAGE_NAMES, type StageName } from '../../../pipeline/types';
import { printResult, table } from '../output';
import type { GlobalArgs } from '../main';

export interface RunArgs extends GlobalArgs {
  job?: string;
  set?: string[];
  out?: string;
  resume?: string;
  from?: StageName;
  until?: StageName;
}

/** Options shared by `run` and `demo`. */
export function runOptions<T>(y: Argv<T>) {
  return y
    .option('set', {
      type: 'string',
      array: true,
      describe: 'override a job field, e.g. --set train.epochs=1 --set data.noise.sigma=50 (value parsed as YAML; a path here is relative to the current folder, in the job file to the job file)',
    })
    .option('out', { type: 'string', describe: 'run directory to create (default runs/<job name>-<timestamp>)' })
    .option('resume', {
      type: 'string',
      describe: 'continue an existing run directory: finished stages are loaded, an interrupted training resumes from its last epoch checkpoint',
    })
    .option('from', {
      choices: STAGE_NAMES,
      describe: 'redo this stage and all later ones (with --resume); the old results are kept aside as <stage>.replaced-<key>',
    })
    .option('until', { choices: STAGE_NAMES, describe: 'stop after this stage' });
}

const f = (x: unknown, d = 4) => (typeof x === 'number' ? x.toFixed(d) : '-');

/** The human summary printed at the end of a run. */
export function formatRunSummary(r: RunJobResult): string {
  const lines = [`Run directory: ${r.runDir}`];
  lines.push(`Stages run: ${r.executed.join(', ') || 'none'}${r.loaded.length ? `; loaded: ${r.loaded.join(', ')}` : ''}`);
  const ev = r.summaries.evaluate as { samples: number; noisy: Record<string, number>; denoised: Record<string, number>; learnedNothing?: boolean } | undefined;
  if (ev) {
    lines.push('', `Test split (${ev.samples} images):`);
    lines.push(
      table(
        ['', 'MSE', 'PSNR (dB)', 'SSIM'],
        [
          ['noisy input', f(ev.noisy.mse), f(ev.noisy.psnr, 2), f(ev.noisy.ssim, 3)],
          ['denoised', f(ev.denoised.mse), f(ev.denoised.psnr, 2), f(ev.denoised.ssim, 3)],
        ],
      ),
    );
    if (ev.learnedNothing) lines.push('LEARNED NOTHING: the denoised output is (nearly) the noisy input; see the train stage\'s warning in the log');
    lines.push(`Before/after grid: ${path.join(r.runDir, 'evaluate', 'grid.png')}`);
  }
  const ex = r.summaries.export as { file: string; bytes: number; int8?: { file: string; bytes: number; int8Convs: number; floatConvs: number } } | undefined;
  if (ex) lines.push(`Exported model: ${path.join(r.runDir, 'export', ex.file)} (${(ex.bytes / 1024).toFixed(0)} KiB)`);
  if (ex?.int8) {
    const q = ex.int8;
    lines.push(`int8 model (export.quantize): ${path.join(r.runDir, 'export', q.file)} (${(q.bytes / 1024).toFixed(0)} KiB, ${q.int8Convs} int8 convs, ${q.floatConvs} float)`);
  }
  const ve = r.summaries.verify as { maxAbsDiff: number; tolerance: number; samples: number } | undefined;
  if (ve) lines.push(`Parity (combined ONNX vs encoder + tfjs decoder, ${ve.samples} images): max abs diff ${ve.maxAbsDiff.toExponential(2)} ≤ ${ve.tolerance}`);
  return lines.join('\n');
}

export async function handleRun(args: RunArgs, jobFile: string | undefined): Promise<void> {
  const result = await runJob({
    jobFile,
    overrides: args.set,
    outDir: args.out,
    resume: args.resume,
    from: args.from,
    until: args.until,
  });
  printResult(formatRunSummary(result), {
    runDir: result.runDir,
    executed: result.executed,
    loaded: result.loaded,
    summaries: result.summaries,
  });
}

export const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: 'run [job]',
  describe: 'Run a YAML job: data → encoder → featurize → train → evaluate → export → verify',
  builder: (y) =>
    runOptions(y)
      .positional('job', { type: 'string', describe: 'the YAML job file (see configs/); optional with --resume' })
      .example('$0 run configs/mnist-dae.yaml', 'train and export the MNIST denoiser')
      .example('$0 run configs/mnist-dae.yaml --set train.epochs=1 --set data.limit=2000', 'a quick run')
      .example('$0 run --resume runs/mnist-dae-20261127-101500', 'finish an interrupted run')
      .check((a) => {
        if (!a.job && !a.resume) throw new Error('give a job file, or --resume DIR');
        if (a.from && !a.resume) throw new Error('--from needs --resume DIR (a new run does every stage)');
        return true;
      }) as Argv<RunArgs>,
  handler: (args) => handleRun(args, args.job),
};
