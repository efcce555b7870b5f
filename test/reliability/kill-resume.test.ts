/**
 * kill -9 at random points of every stage, then `--resume`: the CLI runs as a child process
 * (TypeScript through test/helpers/ts-register.js, no build needed) on a small MNIST job and is
 * SIGKILLed ≥ 20 times. Kills land at seeded points: before the Nth file-system operation of a
 * stage (test/helpers/kill-switch.js; between a temp file's write and its rename, between a stage
 * folder's rename and its DONE…), after a random delay into a stage (a signal from this test),
 * and during start-up. After every kill each file in the run directory must be complete; the
 * resumed run must finish with the same metrics, parity, history and exported model bytes as an
 * uninterrupted run with the same seed.
 *
 * ONNXTUNE_KILLS (default 20: one in start-up, the rest spread over the stages) sets the number of
 * kills; ONNXTUNE_KILL_SEED the seed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STAGE_NAMES } from '../../pipeline/types';
import { forkRng } from '../../src/random';
import { quickJob, ROOT, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { checkRunDir } from './run-integrity';

const KILLS = Number(process.env.ONNXTUNE_KILLS ?? 20);
const SEED = Number(process.env.ONNXTUNE_KILL_SEED ?? 20261127);
const NODE_ARGS = [
  '-r', path.join(ROOT, 'test/helpers/ts-register.js'),
  '-r', path.join(ROOT, 'test/helpers/kill-switch.js'),
  path.join(ROOT, 'test/helpers/cli-entry.ts'),
];

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs the CLI in a child; `killAfter` sends SIGKILL that many ms after the line `Running stage <stage>`. */
function runChild(args: string[], env: Record<string, string>, killAfter?: { stage: string; ms: number }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: ROOT,
      env: { ...process.env, ONNXTUNE_LOG_LEVEL: 'info', ONNXTUNE_KILL_STAGE: '', ONNXTUNE_KILL_AT_OP: '', ONNXTUNE_COUNT_OPS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    let armed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killAfter && !armed && stderr.includes(`Running stage ${killAfter.stage} `)) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfter.ms);
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stderr });
    });
  });
}

const TIMING = /seconds|Seconds|perSecond|samplesPerSec|wall|time/;

/** Max abs difference over the numeric leaves of two JSON values, ignoring timings; Infinity on a structural difference. */
function maxDiff(a: unknown, b: unknown, key = ''): number {
  if (TIMING.test(key)) return 0;
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, x, i) => Math.max(m, maxDiff(x, b[i], key)), 0);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    let m = 0;
    for (const k of keys) m = Math.max(m, maxDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], k));
    return m;
  }
  return a === b ? 0 : Infinity;
}

const readJsonFile = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'));

describe('kill -9 and --resume', () => {
  const dir = tmpDir('onnxtune-kill-');
  const refDir = path.join(dir, 'reference');
  const runDir = path.join(dir, 'killed');
  let jobFile: string;

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it(`survives ${KILLS} kills at random points of start-up and every stage and ends identical to an uninterrupted run`, async () => {
    jobFile = writeJob(dir, quickJob({
      data: { source: 'mnist', limit: 300, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 127.5, clip: true } },
      train: { epochs: 2, batch_size: 32 },
      verify: { samples: 16 },
    }));
    const t0 = performance.now();

    // 1. The uninterrupted reference run, counting each stage's file-system operations.
    const countsFile = path.join(dir, 'counts.json');
    const ref = await runChild(['run', jobFile, '--out', refDir], { ONNXTUNE_COUNT_OPS: countsFile });
    expect(ref.stderr).toContain('Stage verify finished');
    expect(ref.code).toBe(0);
    const { counts, doneAt } = readJsonFile(countsFile) as { counts: Record<string, number>; doneAt: Record<string, number> };
    const duration = (s: string) => readJsonFile(path.join(refDir, s, 'run.json')).wallSeconds * 1000;

    // 2. The kill plan: start-up kills, then per stage kills before a seeded file operation and after a seeded delay.
    const rng = forkRng(SEED, 'kill-plan');
    type Kill = { stage: string; mode: 'op' | 'timer'; at: number };
    const plan: Kill[] = [{ stage: 'startup', mode: 'op', at: Math.floor(rng.uniform() * counts.startup) }];
    const inStages = Math.max(KILLS - 1, STAGE_NAMES.length);
    // Training (checkpoints, resume mid-run) gets a double share of the kills.
    const weight = (stage: string) => (stage === 'train' ? 2 : 1);
    const total = STAGE_NAMES.reduce((t, st) => t + weight(st), 0);
    let before = 0;
    STAGE_NAMES.forEach((stage) => {
      const n = Math.floor(((before + weight(stage)) * inStages) / total) - Math.floor((before * inStages) / total);
      before += weight(stage);
      for (let j = 0; j < n; j++) {
        // The last kill of a stage is a timer (except for verify, where the process may exit first).
        const timer = j === n - 1 && n > 1 && stage !== 'verify';
        plan.push(timer
          ? { stage, mode: 'timer', at: rng.uniform() * duration(stage) }
          : { stage, mode: 'op', at: Math.floor(rng.uniform() * (doneAt[stage] + 1)) });
      }
    });

    // 3. Kill, check every file, resume: again and again.
    const landed: Record<string, number> = {};
    let kills = 0;
    let checked = 0;
    for (let i = 0; i < plan.length; i++) {
      const k = plan[i];
      // A timer kill can miss (the run finished first): top the plan up so at least KILLS land.
      if (i === plan.length - 1 && kills + 1 < KILLS) {
        const stage = STAGE_NAMES[Math.floor(rng.uniform() * STAGE_NAMES.length)];
        plan.push({ stage, mode: 'op', at: Math.floor(rng.uniform() * (doneAt[stage] + 1)) });
      }
      const started = fs.existsSync(path.join(runDir, 'job.yaml'));
      const isDone = started && fs.existsSync(path.join(runDir, k.stage, 'DONE'));
      const args = !started ? ['run', jobFile, '--out', runDir] : ['run', '--resume', runDir, ...(isDone ? ['--from', k.stage] : [])];
      const r = k.mode === 'op'
        ? await runChild(args, { ONNXTUNE_KILL_STAGE: k.stage, ONNXTUNE_KILL_AT_OP: String(k.at) })
        : await runChild(args, {}, { stage: k.stage, ms: k.at });
      if (r.signal !== 'SIGKILL') {
        // Only a timer kill can miss (the run finished first); it must then have succeeded.
        expect(r.stderr).not.toMatch(/onnxtune: error/);
        expect(r.code).toBe(0);
        continue;
      }
      kills += 1;
      // An op kill lands in the stage it counts; a timer kill in the last stage the child announced.
      const inStage = k.mode === 'op' ? k.stage : (/Running stage (\w+) [^\n]*\n(?![\s\S]*Running stage)/.exec(r.stderr)?.[1] ?? 'startup');
      landed[inStage] = (landed[inStage] ?? 0) + 1;
      const report = await checkRunDir(runDir);
      checked += report.filesChecked;
      if (report.problems.length) throw new Error(`after kill ${kills} (${k.mode} in ${k.stage} at ${k.at}): ${report.problems.join('; ')}`);
    }

    // 4. The final resume finishes, and everything matches the uninterrupted run.
    const last = await runChild(['run', '--resume', runDir], {});
    expect(last.stderr).not.toMatch(/onnxtune: error/);
    expect(last.code).toBe(0);
    const final = await checkRunDir(runDir);
    expect(final.problems).toEqual([]);
    expect(final.finishedStages.sort()).toEqual([...STAGE_NAMES].sort());

    const diffs = {
      metrics: maxDiff(readJsonFile(path.join(runDir, 'evaluate/metrics.json')), readJsonFile(path.join(refDir, 'evaluate/metrics.json'))),
      parity: maxDiff(readJsonFile(path.join(runDir, 'verify/parity.json')), readJsonFile(path.join(refDir, 'verify/parity.json'))),
      history: maxDiff(readJsonFile(path.join(runDir, 'train/history.json')), readJsonFile(path.join(refDir, 'train/history.json'))),
    };
    const sameBytes = (f: string) => fs.readFileSync(path.join(runDir, f)).equals(fs.readFileSync(path.join(refDir, f)));
    const identical = {
      'export/denoiser.onnx': sameBytes('export/denoiser.onnx'),
      'train/decoder/weights.bin': sameBytes('train/decoder/weights.bin'),
      'data/train.0.noisy.npy': sameBytes('data/train.0.noisy.npy'),
    };
    console.log(
      `kill -9 loop (seed ${SEED}): ${kills} kills survived (${Object.entries(landed).map(([s, n]) => `${s} ${n}`).join(', ')}), ` +
        `${checked} file checks after kills, 0 truncated or half-committed files; final run equals the uninterrupted one: ` +
        `max |Δ| metrics ${diffs.metrics}, parity ${diffs.parity}, history ${diffs.history}; identical bytes: ` +
        `${Object.entries(identical).map(([f, same]) => `${f} ${same}`).join(', ')}; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(diffs.metrics).toBeLessThanOrEqual(1e-6);
    expect(diffs.parity).toBeLessThanOrEqual(1e-6);
    expect(diffs.history).toBeLessThanOrEqual(1e-6);
    expect(identical['data/train.0.noisy.npy']).toBe(true);
  }, 300000);
});
