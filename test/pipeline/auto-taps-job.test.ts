/**
 * A quick MNIST job with `encoder.taps: auto`: the encoder stage cuts at the last main-path tensor of
 * each stride (the MNIST encoder's /1, /2 and /4 feature maps), the decoder trains on the three taps,
 * and the exported model matches the two-part pipeline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readEncoderIo } from '../../pipeline/artifacts';
import { runJob } from '../../pipeline/runner';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

test('taps: auto runs a whole job on the auto taps, recorded in the export metadata', async () => {
  const dir = tmpDir();
  const runDir = path.join(dir, 'run');
  const job = quickJob({ encoder: { onnx: MNIST_ENCODER, taps: 'auto' } });
  await runJob({ jobFile: writeJob(dir, job), outDir: runDir });
  const io = readEncoderIo(path.join(runDir, 'encoder'));
  expect(io.taps.map((t) => [t.name, t.stride, t.channels])).toEqual([['stem', 1, 16], ['stage1', 2, 32], ['stage2', 4, 64]]);
  expect(io.taps.map((t) => t.stage)).toEqual(['auto/1', 'auto/2', 'auto/4']);
  const meta = getMetadata(loadModel(path.join(runDir, 'export', 'denoiser.onnx')));
  expect(JSON.parse(meta['onnxtune.encoder.taps']).map((t: { stride: number }) => t.stride)).toEqual([1, 2, 4]);
  const parity = JSON.parse(fs.readFileSync(path.join(runDir, 'verify', 'parity.json'), 'utf8'));
  expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
});
