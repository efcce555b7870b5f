/**
 * Crash safety of fine-tuning through the CLI: `onnxtune run` with `encoder.trainable` (stage2
 * from epoch 2 at 0.5 × lr) is SIGKILLed (kill -9) after a mid-epoch checkpoint taken while the
 * encoder trains; `--resume` must end with the same loss curve, decoder weights, fine-tuned
 * encoder.onnx and test metrics as an uninterrupted run: the encoder's weights and its own
 * optimizer state are in the checkpoint. Runs the TypeScript CLI through test/helpers/ts-register.js.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MNIST_ENCODER, quickJob, ROOT, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

const REGISTER = path.join(ROOT, 'test', 'helpers', 'ts-register.js');
const ENTRY = path.join(ROOT, 'test', 'helpers', 'cli-entry.ts');
const cliArgs = (args: string[]) => ['-r', REGISTER, ENTRY, ...args];
const env = { ...process.env, CI: 'true' };
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Global step of the train stage's latest checkpoint, or undefined. */
function checkpointStep(runDir: string): number | undefined {
  try {
    const work = fs.readdirSync(runDir).find((d) => d.startsWith('.work-train-'));
    if (!work) return undefined;
    const latest = fs.readFileSync(path.join(runDir, work, 'latest'), 'utf8').trim();
    return readJson(path.join(runDir, work, latest, 'state.json')).globalStep;
  } catch {
    return undefined; // between writes
  }
}

function runAndKill(args: string[], runDir: string, atStep: number): Promise<{ signal: NodeJS.Signals | null; step?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { cwd: ROOT, env, stdio: 'ignore' });
    let step: number | undefined;
    const timer = setInterval(() => {
      const s = checkpointStep(runDir);
      if (step === undefined && s !== undefined && s >= atStep) {
        step = s;
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      resolve({ signal, step });
    });
  });
}

describe('kill -9 while fine-tuning, then --resume', () => {
  it('ends with the same weights and metrics as an uninterrupted run', async () => {
    const dir = tmpDir();
    // 640 training digits at batch 32: 20 steps per epoch; the encoder trains from step 21 on.
    const job = quickJob({
      data: { source: 'mnist', limit: 800, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 127.5, clip: true } },
      encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'], trainable: { stages: ['stage2'], at_epoch: 1, lr_multiplier: 0.5 } },
      train: { epochs: 3, batch_size: 32, checkpoint_every: 3, lr: 0.003, tensorboard: false },
    });
    const jobFile = writeJob(dir, job);
    const straightDir = path.join(dir, 'straight');
    const straight = spawnSync(process.execPath, cliArgs(['run', jobFile, '--out', straightDir, '--until', 'evaluate']), { cwd: ROOT, env, encoding: 'utf8' });
    expect(straight.status).toBe(0);

    const runDir = path.join(dir, 'killed');
    const killed = await runAndKill(['run', jobFile, '--out', runDir, '--until', 'evaluate'], runDir, 24);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.step).toBeLessThan(60);
    expect(fs.existsSync(path.join(runDir, 'train', 'DONE'))).toBe(false);
    const resumed = spawnSync(process.execPath, cliArgs(['run', '--resume', runDir, '--until', 'evaluate']), { cwd: ROOT, env, encoding: 'utf8' });
    expect(resumed.status).toBe(0);
    expect(fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8')).toMatch(/Resuming training after step \d+ of epoch 2/);

    const curve = (d: string) => readJson(path.join(d, 'train', 'history.json')).map((e: { loss: number; valLoss: number }) => [e.loss, e.valLoss]);
    expect(curve(runDir)).toEqual(curve(straightDir));
    const bytes = (d: string, f: string) => fs.readFileSync(path.join(d, 'train', f));
    expect(bytes(runDir, 'decoder/weights.bin').equals(bytes(straightDir, 'decoder/weights.bin'))).toBe(true);
    expect(bytes(runDir, 'encoder.onnx').equals(bytes(straightDir, 'encoder.onnx'))).toBe(true);
    const metrics = (d: string) => readJson(path.join(d, 'evaluate', 'metrics.json')).denoised;
    expect(metrics(runDir)).toEqual(metrics(straightDir));
    // The fine-tuned stage did train (its weights left the input file's values).
    expect(bytes(runDir, 'encoder.onnx').equals(fs.readFileSync(path.join(runDir, 'encoder', 'encoder.onnx')))).toBe(false);
  }, 240000);
});
