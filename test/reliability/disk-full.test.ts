/**
 * A full disk in the middle of a run, simulated by making every write fail with ENOSPC from a
 * chosen moment on (log lines included): while training writes its second epoch checkpoint,
 * while evaluate writes its results, and before the run has written anything. Each fails with
 * one clear line that says the disk is full and how to continue; finished stages and the last
 * good training checkpoint stay intact, and after "freeing space" `--resume` finishes with the
 * same metrics as a run that never failed.
 */
import type { PathLike } from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { OnnxtuneError, StageError } from '../../src/errors';
import { addFileSink } from '../../src/io/log-file';
import { log, setConsoleSink } from '../../src/log';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { checkRunDir } from './run-integrity';

// The fs module object itself (not a namespace copy), so spies reach every module that uses it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs: typeof import('node:fs') = require('node:fs');

/** From the first open of a file matching `trigger`, every write fails with ENOSPC until `restore()`. */
function diskFullAfter(trigger: (file: string) => boolean) {
  let full = false;
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const { openSync, writeSync, writeFileSync, appendFileSync } = nodeFs;
  const spies = [
    jest.spyOn(nodeFs, 'openSync').mockImplementation(((file: PathLike, ...rest: unknown[]) => {
      if (!full && typeof file === 'string' && trigger(file)) full = true;
      return (openSync as (...a: unknown[]) => number)(file, ...rest);
    }) as typeof nodeFs.openSync),
    jest.spyOn(nodeFs, 'writeSync').mockImplementation(((...args: unknown[]) => {
      if (full) throw enospc();
      return (writeSync as (...a: unknown[]) => number)(...args);
    }) as typeof nodeFs.writeSync),
    jest.spyOn(nodeFs, 'writeFileSync').mockImplementation(((...args: unknown[]) => {
      if (full) throw enospc();
      return (writeFileSync as (...a: unknown[]) => void)(...args);
    }) as typeof nodeFs.writeFileSync),
    jest.spyOn(nodeFs, 'appendFileSync').mockImplementation(((...args: unknown[]) => {
      if (full) throw enospc();
      return (appendFileSync as (...a: unknown[]) => void)(...args);
    }) as typeof nodeFs.appendFileSync),
  ];
  return {
    get triggered() {
      return full;
    },
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

/** Relative path → bytes of every file in the given folders of a run. */
function snapshot(runDir: string, stages: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of nodeFs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(runDir, p), nodeFs.readFileSync(p));
    }
  };
  for (const s of stages) walk(path.join(runDir, s));
  return out;
}

const readJson = (f: string) => JSON.parse(nodeFs.readFileSync(f, 'utf8'));
const DISK_FULL = /the disk is full \(ENOSPC: no space left on device, write\); finished stages and the last training checkpoint are kept in .*\. Free some space, then continue with: onnxtune run --resume /;

describe('disk full during a run', () => {
  const dir = tmpDir('onnxtune-disk-full-');
  const job = quickJob({
    data: { source: 'mnist', limit: 300, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 127.5, clip: true } },
    train: { epochs: 2, batch_size: 32 },
  });
  let jobFile: string;
  let reference: Record<string, unknown>;
  let lines: string[] = [];
  let restoreSink: () => void;

  beforeAll(async () => {
    jobFile = writeJob(dir, job);
    restoreSink = setConsoleSink((_level, line) => lines.push(line));
    await runJob({ jobFile, outDir: path.join(dir, 'reference') });
    reference = readJson(path.join(dir, 'reference', 'evaluate', 'metrics.json'));
  });
  afterAll(() => restoreSink());
  beforeEach(() => {
    lines = [];
  });

  it('while training writes its second checkpoint: a clear failure, the epoch-1 checkpoint kept, resume finishes identically', async () => {
    const runDir = path.join(dir, 'full-in-train');
    const fault = diskFullAfter((f) => f.includes(`${path.sep}ckpt-0001${path.sep}`));
    const err = await runJob({ jobFile, outDir: runDir }).catch((e: unknown) => e).finally(() => fault.restore());
    expect(fault.triggered).toBe(true);
    expect(err).toBeInstanceOf(StageError);
    expect((err as Error).message).toMatch(new RegExp(`^stage train failed: ${DISK_FULL.source}`));
    expect((err as Error).message).not.toContain('\n');

    // Finished stages are intact; the last good checkpoint is the one after epoch 1.
    const integrity = await checkRunDir(runDir);
    expect(integrity.problems).toEqual([]);
    expect(integrity.finishedStages.sort()).toEqual(['data', 'encoder', 'featurize']);
    const work = nodeFs.readdirSync(runDir).find((d) => d.startsWith('.work-train-')) as string;
    expect(nodeFs.readFileSync(path.join(runDir, work, 'latest'), 'utf8').trim()).toBe('ckpt-0000');
    const before = snapshot(runDir, ['data', 'encoder', 'featurize', path.join(work, 'ckpt-0000')]);

    lines = [];
    const r = await runJob({ resume: runDir });
    expect(r.loaded).toEqual(['data', 'encoder', 'featurize']);
    expect(lines.join('\n')).toMatch(/Resuming training after epoch 1/);
    for (const [f, bytes] of snapshot(runDir, ['data', 'encoder', 'featurize'])) expect(bytes.equals(before.get(f) as Buffer)).toBe(true);
    const metrics = readJson(path.join(runDir, 'evaluate', 'metrics.json'));
    for (const k of ['noisy', 'denoised'] as const) {
      for (const [m, v] of Object.entries(metrics[k] as Record<string, number>)) {
        expect(Math.abs(v - (reference[k] as Record<string, number>)[m])).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it('while evaluate writes its results: earlier stages untouched, no half-written files, resume finishes', async () => {
    const runDir = path.join(dir, 'full-in-evaluate');
    const fault = diskFullAfter((f) => f.includes(`${path.sep}.tmp-evaluate${path.sep}`));
    const err = await runJob({ jobFile, outDir: runDir }).catch((e: unknown) => e).finally(() => fault.restore());
    expect(fault.triggered).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`^stage evaluate failed: ${DISK_FULL.source}`));
    const integrity = await checkRunDir(runDir);
    expect(integrity.problems).toEqual([]);
    expect(integrity.finishedStages.sort()).toEqual(['data', 'encoder', 'featurize', 'train']);
    const before = snapshot(runDir, ['data', 'encoder', 'featurize', 'train']);
    const r = await runJob({ resume: runDir });
    expect(r.executed).toEqual(['evaluate', 'export', 'verify']);
    for (const [f, bytes] of snapshot(runDir, ['data', 'encoder', 'featurize', 'train'])) expect(bytes.equals(before.get(f) as Buffer)).toBe(true);
    expect(readJson(path.join(runDir, 'evaluate', 'metrics.json')).denoised).toEqual(reference.denoised);
  });

  it('a log line that cannot be written is not an error: the file sink stops with one warning', () => {
    const close = addFileSink(path.join(dir, 'log.txt'));
    const writes = jest.spyOn(nodeFs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      expect(() => {
        log.info('first line');
        log.info('second line');
      }).not.toThrow();
    } finally {
      writes.mockRestore();
      close();
    }
    expect(lines.filter((l) => /cannot write the log file \(ENOSPC\); logging to the console only/.test(l))).toHaveLength(1);
    expect(lines).toContain('second line');
  });

  it('before anything is written: a clear failure, an empty run folder, and the same command then works', async () => {
    const runDir = path.join(dir, 'full-at-start');
    const fault = diskFullAfter(() => true);
    const err = await runJob({ jobFile, outDir: runDir, until: 'data' }).catch((e: unknown) => e).finally(() => fault.restore());
    expect(err).toBeInstanceOf(OnnxtuneError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot write .*job\\.yaml: ${DISK_FULL.source}`));
    expect(nodeFs.readdirSync(runDir)).toEqual([]);
    const r = await runJob({ jobFile, outDir: runDir, until: 'data' });
    expect(r.executed).toEqual(['data']);
  });
});
