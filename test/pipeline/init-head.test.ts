/**
 * `decoder.init_from` (pipeline/train/init-head.ts): a head built from the job's decoder block
 * and given an export's weights computes what that export's head computes in onnxruntime-node
 * (float32 and float16-stored weights); other designs, other taps and foreign models are refused
 * by name; a job started from an export with a vanishing learning rate exports that model again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runJob } from '../../pipeline/runner';
import { splitDenoiser } from '../../pipeline/finetune/split';
import { buildDecoder, type TapShape } from '../../pipeline/train/decoder';
import { initHeadFrom } from '../../pipeline/train/init-head';
import { float16Weights } from '../../converters/fp16-weights';
import type { Tf } from '../../src/backends/tf';
import { createSession } from '../../src/backends/ort';
import { loadJobConfig } from '../../src/config/load';
import type { decoderSchema } from '../../src/config/schema';
import type { z } from 'zod';
import { ConfigError, InputError } from '../../src/errors';
import { decodeModel, encodeModel, loadModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { nchwToNhwc } from '../../src/tensor/layout';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';
import { quietCpu } from '../helpers/tf-cpu';
import { tinyDenoiser } from '../helpers/web';
import { seeded } from '../helpers/seeded';

const tfm = tf as unknown as Tf;
const DESIGN: z.input<typeof decoderSchema> = { widths: [12, 8, 8], image_skip: 'every_level', output: 'residual' };
const SIDE = 16;

/** The split head's output in onnxruntime-node and the tfjs head's prediction on the same random inputs (NCHW). */
async function bothHeads(model: ModelProto, head: tf.LayersModel, taps: readonly TapShape[]): Promise<[Float32Array, Float32Array]> {
  const split = splitDenoiser(model, 'base');
  let seed = 3;
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  const nhwc: tf.Tensor[] = [];
  const add = (name: string, c: number, side: number) => {
    const data = seeded(c * side * side, seed++).map((v) => 0.5 + 0.5 * v);
    feeds[name] = { data, dims: [1, c, side, side] };
    nhwc.push(tf.tensor4d(nchwToNhwc(data, 1, c, side, side), [1, side, side, c]));
  };
  taps.forEach((t, k) => add(`tap${k}`, t.channels, SIDE / t.stride));
  add('image', 1, SIDE);
  const session = await createSession(encodeModel(split.decoder), { device: 'cpu' });
  try {
    const out = await session.run(feeds);
    const ort = Object.values(out)[0].data;
    const mine = tf.tidy(() => (head.predict(nhwc) as tf.Tensor).transpose([0, 3, 1, 2]).dataSync() as Float32Array);
    tf.dispose(nhwc);
    return [ort, mine];
  } finally {
    await session.release();
  }
}

describe('decoder.init_from: a head started from an export', () => {
  let dir: string;
  let baseFile: string;
  let base: ModelProto;
  let taps: TapShape[];

  beforeAll(async () => {
    await quietCpu();
    dir = tmpDir('onnxtune-init-head-');
    const run = await runJob({ jobFile: writeJob(dir, quickJob({ name: 'init-base', decoder: DESIGN })), outDir: path.join(dir, 'base'), until: 'export' });
    baseFile = path.join(run.runDir, 'export', run.job.export.file);
    base = loadModel(baseFile);
    taps = splitDenoiser(base, 'base').io.taps.map((t) => ({ channels: t.channels, stride: t.stride }));
  }, 180_000);

  it.each([
    ['float32 weights', (m: ModelProto) => m, 1e-5],
    ['float16-stored weights (Cast)', (m: ModelProto) => float16Weights(m, { minElements: 1 }).model as ModelProto, 1e-5],
  ])('copies every layer so the head computes the export\'s head (%s)', async (_label, convert, tol) => {
    const model = convert(base);
    // Another seed and no tap standardization given: everything must come from the export.
    const head = buildDecoder(tfm, taps, 1, DESIGN, 99, { tapNorms: taps.map((t) => ({ mean: new Array<number>(t.channels).fill(0.3), scale: new Array<number>(t.channels).fill(2) })) });
    const [before, fresh] = await bothHeads(model, head, taps);
    expect(fresh).not.toBeCloseToArray(before, { atol: 1e-3 });
    const init = initHeadFrom(tfm, head, model, taps, 'base.onnx');
    expect(init.layers).toBe(head.layers.filter((l) => l.getWeights().length > 0).length);
    expect(init.finetunedStages).toEqual([]);
    const [ort, mine] = await bothHeads(model, head, taps);
    expect(mine).toBeCloseToArray(ort, { atol: tol });
    head.dispose();
  });

  it('refuses another design, other taps and a model onnxtune did not export, naming the model', () => {
    const norms = (ts: readonly TapShape[]) => ({ tapNorms: ts.map((t) => ({ mean: new Array<number>(t.channels).fill(0), scale: new Array<number>(t.channels).fill(1) })) });
    const wider = buildDecoder(tfm, taps, 1, { ...DESIGN, widths: [16, 8, 8] }, 1, norms(taps));
    expect(() => initHeadFrom(tfm, wider, base, taps, 'base.onnx')).toThrow(/base\.onnx.*decoder\.init_from: layer conv0 has kernel \[12,/s);
    const deeper = buildDecoder(tfm, taps, 1, { ...DESIGN, convs_per_level: 2 }, 1, norms(taps));
    expect(() => initHeadFrom(tfm, deeper, base, taps, 'base.onnx')).toThrow(/another design; it lacks layer\(s\) conv0_1, conv1_1, conv2_1/);
    const otherTaps = taps.map((t) => ({ ...t, channels: t.channels + 1 }));
    const forOther = buildDecoder(tfm, otherTaps, 1, DESIGN, 1, norms(otherTaps));
    // A job with normalize_taps: false builds no tap standardization layers; the export has them.
    const raw = buildDecoder(tfm, taps, 1, DESIGN, 1);
    expect(() => initHeadFrom(tfm, raw, base, taps, 'base.onnx')).toThrow(/it has layer\(s\) tap\d_norm, tap\d_norm this decoder lacks.*normalize_taps/s);
    expect(() => initHeadFrom(tfm, forOther, base, otherTaps, 'base.onnx')).toThrow(/its head reads taps .* this job's encoder gives/);
    expect(() => initHeadFrom(tfm, wider, decodeModel(tinyDenoiser(), 'tiny.onnx'), taps, 'tiny.onnx')).toThrow(InputError);
    expect(() => initHeadFrom(tfm, wider, decodeModel(tinyDenoiser(), 'tiny.onnx'), taps, 'tiny.onnx')).toThrow(/tiny\.onnx.*no onnxtune\.encoder\.taps metadata/s);
    for (const m of [wider, deeper, forOther, raw]) m.dispose();
  });

  it('resolves a path relative to the job file, keeps a shipped name, and names a missing file', () => {
    const rel = path.relative(dir, baseFile);
    const job = (init: string) => writeJob(dir, quickJob({ name: 'init-cfg', decoder: { ...DESIGN, init_from: init } }), 'cfg.yaml');
    expect(loadJobConfig(job(rel)).decoder.init_from).toBe(baseFile);
    expect(loadJobConfig(job('color-blind')).decoder.init_from).toBe('color-blind');
    expect(() => loadJobConfig(job('nope/missing.onnx'))).toThrow(ConfigError);
    expect(() => loadJobConfig(job('nope/missing.onnx'))).toThrow(/decoder\.init_from.*file not found: .*missing\.onnx/s);
    // On the command line a path is relative to the current folder, a name stays a name.
    const fromCli = loadJobConfig(job('color-blind'), { overrides: [`decoder.init_from=${rel}`], cwd: dir });
    expect(fromCli.decoder.init_from).toBe(baseFile);
  });

  it('a job started from an export, trained with a vanishing learning rate, exports the same model', async () => {
    const jobFile = writeJob(
      dir,
      quickJob({ name: 'init-run', seed: 11, decoder: { ...DESIGN, init_from: path.relative(dir, baseFile) }, train: { epochs: 1, batch_size: 32, lr: 1e-12 } }),
      'warm.yaml',
    );
    const run = await runJob({ jobFile, outDir: path.join(dir, 'warm'), until: 'export' });
    expect(run.summaries.train).toMatchObject({ initFrom: { layers: expect.any(Number) } });
    const warm = loadModel(path.join(run.runDir, 'export', run.job.export.file));
    const img = Float32Array.from({ length: 28 * 28 }, (_, i) => 0.5 + 0.4 * Math.sin(i / 7));
    const outs: Float32Array[] = [];
    for (const m of [base, warm]) {
      const s = await createSession(encodeModel(m), { device: 'cpu' });
      const feeds = { [s.inputNames[0]]: { data: img, dims: [1, 1, 28, 28] } };
      outs.push(Object.values(await s.run(feeds))[0].data);
      await s.release();
    }
    expect(outs[1]).toBeCloseToArray(outs[0], { atol: 1e-5 });
    expect(fs.existsSync(path.join(run.runDir, 'train', 'decoder'))).toBe(true);
  }, 180_000);
});
