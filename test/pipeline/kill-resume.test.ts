/**
 * Crash safety of training, end to end through the CLI: `onnxtune run` in a child process is
 * killed with SIGKILL (kill -9) in the middle of training, right after a mid-epoch checkpoint;
 * `onnxtune run --resume` then finishes the run, and its final metrics, loss curve and decoder
 * weights equal those of an uninterrupted run (same backend, same seed). The CLI runs from the
 * TypeScript sources through test/helpers/ts-register.js, so no build is needed.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonl } from '../../pipeline/train/jsonl-logger';
import { decodeEvent, readTfRecords } from '../../pipeline/train/tensorboard';
import { quickJob, ROOT, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

const REGISTER = path.join(ROOT, 'test', 'helpers', 'ts-register.js');
const ENTRY = path.join(ROOT, 'test', 'helpers', 'cli-entry.ts');
const cliArgs = (args: string[]) => ['-r', REGISTER, ENTRY, ...args];
const env = { ...process.env, CI: 'true' };

/** The train stage's work folder (checkpoints, JSONL log) while it runs. */
function trainWork(runDir: string): string | undefined {
  const work = fs.existsSync(runDir) ? fs.readdirSync(runDir).find((d) => d.startsWith('.work-train-')) : undefined;
  return work && path.join(runDir, work);
}

/** Global step of the latest checkpoint and the last step logged to metrics.jsonl (either may be missing). */
function progress(runDir: string): { ckptStep?: number; loggedStep?: number } {
  const work = trainWork(runDir);
  if (!work) return {};
  try {
    const latest = fs.readFileSync(path.join(work, 'latest'), 'utf8').trim();
    const state = JSON.parse(fs.readFileSync(path.join(work, latest, 'state.json'), 'utf8'));
    const records = readJsonl(path.join(work, 'metrics.jsonl'));
    return { ckptStep: state.globalStep, loggedStep: records[records.length - 1]?.step };
  } catch {
    return {}; // between writes: look again
  }
}

/** Runs the CLI and SIGKILLs it once `shouldKill(progress)` holds; resolves with how it ended. */
function runAndKill(
  args: string[], runDir: string, shouldKill: (p: { ckptStep?: number; loggedStep?: number }) => boolean,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; killedAt?: { ckptStep?: number; loggedStep?: number } }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { cwd: ROOT, env, stdio: 'ignore' });
    let killedAt: { ckptStep?: number; loggedStep?: number } | undefined;
    const timer = setInterval(() => {
      const p = progress(runDir);
      if (!killedAt && shouldKill(p)) {
        killedAt = p;
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, killedAt });
    });
  });
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('kill -9 during training, then --resume', () => {
  it('ends with the same final metrics as an uninterrupted run', async () => {
    const dir = tmpDir();
    // 640 training digits at batch 32: 20 steps per epoch; a checkpoint every 3 steps.
    const job = quickJob({
      data: { source: 'mnist', limit: 800, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 127.5, clip: true } },
      train: { epochs: 3, batch_size: 32, checkpoint_every: 3, log_every: 2, lr_schedule: { type: 'cosine', warmup_steps: 5 } },
    });
    const jobFile = writeJob(dir, job);

    const straightDir = path.join(dir, 'straight');
    const straight = spawnSync(process.execPath, cliArgs(['run', jobFile, '--out', straightDir, '--until', 'evaluate']), { cwd: ROOT, env, encoding: 'utf8' });
    expect(straight.stderr).not.toMatch(/Error/);
    expect(straight.status).toBe(0);

    const runDir = path.join(dir, 'killed');
    // Kill in epoch 2, after the checkpoint at step 24 or later and after more steps were logged:
    // the steps since the checkpoint are lost and must be redone.
    const killed = await runAndKill(['run', jobFile, '--out', runDir, '--until', 'evaluate'], runDir, (p) =>
      p.ckptStep !== undefined && p.loggedStep !== undefined && p.ckptStep >= 24 && p.loggedStep > p.ckptStep);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.killedAt?.ckptStep).toBeLessThan(40);
    expect(fs.existsSync(path.join(runDir, 'train', 'DONE'))).toBe(false);

    const resumed = spawnSync(process.execPath, cliArgs(['run', '--resume', runDir, '--until', 'evaluate']), { cwd: ROOT, env, encoding: 'utf8' });
    expect(resumed.status).toBe(0);
    const logText = fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8');
    expect(logText).toMatch(/Loaded stage featurize from the run directory/);
    expect(logText).toMatch(/Resuming training after step \d+ of epoch \d+ \(global step \d+\)/);

    const trainA = readJson(path.join(straightDir, 'train', 'run.json')).summary;
    const trainB = readJson(path.join(runDir, 'train', 'run.json')).summary;
    expect(trainB.resumedFromStep).toBeGreaterThanOrEqual(killed.killedAt?.ckptStep as number);
    expect(trainB.steps).toBe(trainA.steps);
    const curve = (d: string) => readJson(path.join(d, 'train', 'history.json')).map((e: { loss: number; valLoss: number; valPsnr: number; lr: number }) => [e.loss, e.valLoss, e.valPsnr, e.lr]);
    expect(curve(runDir)).toEqual(curve(straightDir));
    const weights = (d: string) => fs.readFileSync(path.join(d, 'train', 'decoder', 'weights.bin'));
    expect(weights(runDir).equals(weights(straightDir))).toBe(true);
    const metrics = (d: string) => {
      const m = readJson(path.join(d, 'evaluate', 'metrics.json'));
      return { noisy: m.noisy, denoised: m.denoised, samples: m.samples };
    };
    expect(metrics(runDir)).toEqual(metrics(straightDir));

    // The JSONL log has each step once, as if nothing had happened.
    const steps = (d: string) => readJsonl(path.join(d, 'train', 'metrics.jsonl')).map((r) => `${r.event}@${r.step}:${String(r.loss)}`);
    expect(steps(runDir)).toEqual(steps(straightDir));
    // So do the TensorBoard scalars: one file, every tag at the same steps with the same values.
    const scalars = (d: string) => {
      const tb = path.join(d, 'tensorboard', 'train');
      const files = fs.readdirSync(tb).filter((f) => f.includes('tfevents'));
      expect(files).toHaveLength(1);
      return readTfRecords(fs.readFileSync(path.join(tb, files[0])))
        .map(decodeEvent)
        .flatMap((e) => (e.summary?.value ?? []).map((v) => `${v.tag}@${e.step}` + ('simple_value' in v && !v.tag.includes('samples') ? `=${v.simple_value}` : '')));
    };
    expect(scalars(runDir)).toEqual(scalars(straightDir));
  }, 240000);
});
