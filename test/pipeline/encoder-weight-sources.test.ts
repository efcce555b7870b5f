/**
 * The encoder stage on encoders whose weights live outside initializers: a synthetic ResNet
 * (taps `layer1`, `layer2` by stage name) rewritten with ConstantOfShape, Cast/Reshape chains,
 * int8 DequantizeLinear, Q → DQ activations, IR 3 input-listed initializers and an opset 9 form.
 * The job stops after `encoder`; its io.json names the same taps, channels and strides as for
 * initializer weights, and the written encoder.onnx computes the same taps in onnxruntime
 * (≤ 1e-6; the int8 form ≤ 1e-5 against the same job run on the dequantized weights).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encoderModelFile } from '../../pipeline/artifacts';
import { runJob } from '../../pipeline/runner';
import { loadModel, saveModel } from '../../src/onnx/model-io';
import type { onnx } from '../../src/onnx/proto';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { maxAbsDiff, randomInput, runModel } from '../pretrained/helpers';
import { basicResnet } from '../pretrained/synthetic';
import { rewriteWeights, toOpset9, type WeightSource } from '../pretrained/weight-rewrites';

interface Run {
  taps: Array<{ name: string; stage?: string; channels: number; stride: number }>;
  encoder: onnx.ModelProto;
}

const dir = tmpDir();

async function encoderRun(label: string, model: onnx.ModelProto): Promise<Run> {
  const file = path.join(dir, `${label}.onnx`);
  saveModel(model, file);
  const job = writeJob(dir, quickJob({ name: label, data: { ...(quickJob().data as object), limit: 40 }, encoder: { onnx: file, taps: ['layer1', 'layer2'] } }), `${label}.yaml`);
  const r = await runJob({ jobFile: job, outDir: path.join(dir, `run-${label}`), until: 'encoder' });
  const stageDir = path.join(r.runDir, fs.readdirSync(r.runDir).find((d) => d.startsWith('encoder')) as string);
  const io = JSON.parse(fs.readFileSync(path.join(stageDir, 'io.json'), 'utf8'));
  return { taps: io.taps, encoder: loadModel(encoderModelFile(stageDir)) };
}

async function taps(run: Run): Promise<Array<{ data: Float32Array; dims: number[] }>> {
  const input = run.encoder.graph?.input?.[0]?.name as string;
  const out = await runModel(run.encoder, { [input]: randomInput([1, 1, 28, 28], 5) });
  return run.taps.map((t) => out[t.name]);
}

describe('encoder stage: weights from any source', () => {
  const syn = basicResnet('torch');
  let base: Run;
  beforeAll(async () => {
    base = await encoderRun('initializer', syn.model);
  }, 120_000);

  test('the initializer run cuts at the detected stages', () => {
    expect(base.taps.map((t) => [t.stage, t.channels, t.stride])).toEqual([['layer1', 8, 2], ['layer2', 16, 4]]);
  });

  const cases: Array<[string, () => onnx.ModelProto, WeightSource]> = [
    ['constant-of-shape', () => syn.model, 'constant-of-shape'],
    ['chain', () => syn.model, 'chain'],
    ['int8', () => syn.model, 'int8'],
    ['qdq', () => syn.model, 'qdq'],
    ['ir3-inputs', () => syn.model, 'ir3-inputs'],
    ['opset9-constant', () => toOpset9(syn.model), 'constant'],
  ];
  for (const [label, source, way] of cases) {
    test(`${label}: same taps in io.json, same tap values from encoder.onnx`, async () => {
      const { model, reference } = rewriteWeights(source(), way, syn.input);
      const run = await encoderRun(label, model);
      expect(run.taps).toEqual(base.taps);
      const got = await taps(run);
      // int8: against the same job on the dequantized weights; qdq: fake quantization changes the values, so shapes only.
      const ref = way === 'int8' ? await taps(await encoderRun(`${label}-reference`, reference)) : await taps(base);
      got.forEach((g, i) => {
        expect(g.dims).toEqual(ref[i].dims);
        // int8: onnxruntime runs DequantizeLinear weights through unpacked conv kernels (another summation order).
        const tol = way === 'int8' ? 1e-5 : 1e-6;
        if (way !== 'qdq') expect([run.taps[i].name, maxAbsDiff(g.data, ref[i].data) <= tol]).toEqual([run.taps[i].name, true]);
      });
    }, 120_000);
  }
});
