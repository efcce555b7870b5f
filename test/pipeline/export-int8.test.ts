/**
 * `export.quantize: int8`: the export stage also writes `<file>.int8.onnx`, calibrated on the job's
 * noisy training images; onnxruntime runs every quantized Conv as QLinearConv, the interface is the
 * float model's, and the output stays near the float model's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { formatRunSummary } from '../../src/cli/commands/run';
import { optimizedOpCounts, QUANTIZATION_METADATA_KEY } from '../../converters/quantize-static';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import { runModel, seeded } from '../onnx/fixtures';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

describe('export.quantize: int8', () => {
  it('writes a calibrated QDQ model next to the float export', async () => {
    const dir = tmpDir();
    const jobFile = writeJob(dir, quickJob({ export: { quantize: 'int8', calibration: { samples: 8, method: 'percentile' } } }));
    const r = await runJob({ jobFile, outDir: path.join(dir, 'run') });
    const exp = path.join(r.runDir, 'export');
    const fp32 = loadModel(path.join(exp, 'denoiser.onnx'));
    const int8 = loadModel(path.join(exp, 'denoiser.int8.onnx'));
    expect(fs.statSync(path.join(exp, 'denoiser.int8.onnx')).size).toBeLessThan(fs.statSync(path.join(exp, 'denoiser.onnx')).size);

    const q = JSON.parse(getMetadata(int8)[QUANTIZATION_METADATA_KEY]);
    expect(q).toMatchObject({ method: 'percentile', calibration: { inputs: 8, samples: 8 } });
    expect(q.quantized).toBeGreaterThan(0);
    expect(getMetadata(int8)['onnxtune.task']).toBe('denoise');
    expect((await optimizedOpCounts(int8)).QLinearConv).toBe(q.quantized);
    const names = (m: typeof fp32) => [m.graph?.input?.map((i) => i.name), m.graph?.output?.map((o) => o.name)];
    expect(names(int8)).toEqual(names(fp32));

    const x = { noisy: { data: seeded(28 * 28, 5).map((v) => 0.5 + 0.5 * v), dims: [1, 1, 28, 28] } };
    const [a, b] = [(await runModel(fp32, x)).denoised.data, (await runModel(int8, x)).denoised.data];
    // A seeded uniform-noise input, not a digit: outside the calibrated ranges here and there, so the max is loose;
    // the mean says the int8 model computes the same function.
    const diffs = a.map((v, i) => Math.abs(v - b[i]));
    expect(Math.max(...diffs)).toBeLessThan(0.15);
    expect(diffs.reduce((s, d) => s + d, 0) / diffs.length).toBeLessThan(0.02);

    // The run's summary names both files.
    expect(formatRunSummary(r)).toContain(`int8 model (export.quantize): ${path.join(exp, 'denoiser.int8.onnx')} (`);
    expect(formatRunSummary(r)).toMatch(new RegExp(`${q.quantized} int8 convs, 0 float\\)`));
  }, 300_000);
});
