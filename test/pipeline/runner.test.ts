/**
 * The runner end to end on a quick MNIST job: every stage runs once, a resume loads all of
 * them, a crash leftover is redone, a changed config is refused unless --from asks for it,
 * and the exported model matches the two-part pipeline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { STAGE_NAMES } from '../../pipeline/types';
import { ConfigError } from '../../src/errors';
import { tmpDir } from '../helpers/tmp';
import { quickJob, writeJob } from '../helpers/jobs';

describe('runJob', () => {
  const dir = tmpDir();
  const runDir = path.join(dir, 'run');
  let jobFile: string;

  beforeAll(() => {
    jobFile = writeJob(dir, quickJob());
  });

  it('runs every stage and writes its artifacts', async () => {
    const r = await runJob({ jobFile, outDir: runDir });
    expect(r.executed).toEqual([...STAGE_NAMES]);
    for (const s of STAGE_NAMES) {
      expect(fs.existsSync(path.join(runDir, s, 'DONE'))).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(runDir, s, 'run.json'), 'utf8')).status).toBe('done');
    }
    for (const f of ['job.yaml', 'log.txt', 'evaluate/metrics.json', 'evaluate/grid.png', 'export/denoiser.onnx', 'verify/parity.json', 'train/decoder/model.json']) {
      expect(fs.existsSync(path.join(runDir, f))).toBe(true);
    }
    const parity = JSON.parse(fs.readFileSync(path.join(runDir, 'verify/parity.json'), 'utf8'));
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'evaluate/metrics.json'), 'utf8'));
    expect(metrics.samples).toBe(40);
    expect(metrics.denoised.mse).toBeLessThan(metrics.noisy.mse);
  });

  it('resumes without redoing finished stages', async () => {
    const r = await runJob({ resume: runDir });
    expect(r.executed).toEqual([]);
    expect(r.loaded).toEqual([...STAGE_NAMES]);
  });

  it('redoes a stage whose folder has no DONE marker (crash leftover) and nothing else', async () => {
    fs.rmSync(path.join(runDir, 'verify', 'DONE'));
    const r = await runJob({ resume: runDir });
    expect(r.executed).toEqual(['verify']);
  });

  it('refuses to reuse a finished stage whose config changed, and keeps everything', async () => {
    const before = fs.readdirSync(runDir).sort();
    await expect(runJob({ resume: runDir, overrides: ['train.epochs=2'] })).rejects.toThrow(ConfigError);
    await expect(runJob({ resume: runDir, overrides: ['train.epochs=2'] })).rejects.toThrow(/--from train/);
    expect(fs.readdirSync(runDir).sort()).toEqual(before);
  });

  it('--from redoes a stage and the later ones, keeping the old results aside', async () => {
    const r = await runJob({ resume: runDir, from: 'evaluate' });
    expect(r.executed).toEqual(['evaluate', 'export', 'verify']);
    expect(r.loaded).toEqual(['data', 'encoder', 'featurize', 'train']);
    expect(fs.readdirSync(runDir).filter((d) => d.startsWith('evaluate.replaced-'))).toHaveLength(1);
  });

  it('refuses to start a new run in a non-empty folder', async () => {
    await expect(runJob({ jobFile, outDir: runDir })).rejects.toThrow(/--resume/);
  });
});
