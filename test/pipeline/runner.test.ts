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
import { createSession } from '../../src/backends/ort';
import { initTf } from '../../src/backends/tf';
import { loadLayersModel } from '../../src/backends/tf-io';
import { checkModel } from '../../src/onnx/check';
import { modelInfo } from '../../src/onnx/info';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import { forkRng } from '../../src/random';
import { decoderDir, encoderModelFile, readEncoderIo } from '../../pipeline/artifacts';
import { denoiseTwoPart } from '../../pipeline/stages/verify';
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

  it('exports one self-describing model that matches the two-part pipeline on any image size', async () => {
    const file = path.join(runDir, 'export', 'denoiser.onnx');
    const model = loadModel(file);
    expect(checkModel(model)).toEqual([]);
    const meta = getMetadata(model);
    expect(meta).toMatchObject({ 'onnxtune.input': 'noisy', 'onnxtune.output': 'denoised', 'onnxtune.layout': 'NCHW', 'onnxtune.channels': '1', 'onnxtune.stride_multiple': '4' });
    expect(JSON.parse(meta['onnxtune.encoder.taps']).map((t: { name: string }) => t.name)).toEqual(['stage1', 'stage2']);
    expect(modelInfo(model).opCounts.Transpose ?? 0).toBe(0);

    const { tf } = await initTf();
    const io = readEncoderIo(path.join(runDir, 'encoder'));
    const [n, H, W] = [2, 30, 26]; // not multiples of the stride: the graph pads and crops
    const rng = forkRng(1, 'any-size');
    const x = Float32Array.from({ length: n * H * W }, () => rng.uniform());
    const combined = await createSession(file);
    const y = (await combined.run({ noisy: { data: x, dims: [n, 1, H, W] } })).denoised;
    expect(y.dims).toEqual([n, 1, H, W]);
    const encoder = await createSession(encoderModelFile(path.join(runDir, 'encoder')));
    const decoder = await loadLayersModel(tf, decoderDir(path.join(runDir, 'train')));
    const parts = await denoiseTwoPart(tf, encoder, decoder, io, x, n, H, W, 1);
    expect(y.data).toBeCloseToArray(parts, { atol: 1e-4 });
    await combined.release();
    await encoder.release();
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
