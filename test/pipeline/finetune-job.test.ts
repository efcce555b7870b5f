/**
 * Fine-tuning end to end (`encoder.trainable`) on a few MNIST digits and the project's encoder
 * (stem → stage1 → stage2): stage2 becomes TF.js layers, featurize caches at the cut (stage1),
 * and the exported ONNX holds the fine-tuned stage2 weights while every other encoder weight is
 * bit-identical to the input file's; export parity (verify stage, onnxruntime) stays ≤ 1e-4.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../pipeline/runner';
import { ConfigError } from '../../src/errors';
import { loadModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Initializer values by name; the exported model prefixes encoder tensors with `encoder/`. */
function initializers(model: ModelProto, prefix = ''): Map<string, Float32Array> {
  return new Map(
    (model.graph?.initializer ?? []).filter((t) => (t.name as string).startsWith(prefix)).map((t) => [(t.name as string).slice(prefix.length), tensorToFloat32(t)]),
  );
}

describe('encoder.trainable: fine-tuning the last stage', () => {
  it('trains stage2 in TF.js, caches at the cut and exports the fine-tuned weights', async () => {
    const dir = tmpDir();
    const job = quickJob({
      encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'], trainable: { stages: ['stage2'], lr_multiplier: 0.5 } },
      train: { epochs: 1, batch_size: 32, lr: 0.003 },
    });
    const runDir = path.join(dir, 'run');
    await runJob({ jobFile: writeJob(dir, job), outDir: runDir });

    const io = readJson(path.join(runDir, 'encoder', 'io.json'));
    expect(io.finetune.stages).toEqual(['stage2']);
    expect(io.finetune.cut.name).toBe('stage1');
    // stage1 is both a frozen tap and the cut: cached once.
    expect(io.finetune.cached.map((c: { name: string }) => c.name)).toEqual(['stage1']);
    const feat = readJson(path.join(runDir, 'featurize', 'run.json'));
    expect(feat.config).toEqual({ cache_at: { stages: ['stage2'] } });
    expect(feat.summary.cachedAt).toBe('stage1');
    expect(fs.readdirSync(path.join(runDir, 'featurize')).filter((f) => f.startsWith('train.'))).toEqual(['train.0.tap0.npy']);

    const source = initializers(loadModel(MNIST_ENCODER));
    const exportDir = path.join(runDir, 'export');
    const file = fs.readdirSync(exportDir).find((f) => f.endsWith('.onnx')) as string;
    const exported = loadModel(path.join(exportDir, file));
    const enc = initializers(exported, 'encoder/');
    const tuned = ['stage2/kernel', 'stage2/bias'];
    for (const [name, values] of source) {
      const out = enc.get(name);
      expect(out).toBeDefined();
      const same = Buffer.from(out!.buffer, out!.byteOffset, out!.byteLength).equals(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
      expect([name, same]).toEqual([name, !tuned.includes(name)]);
    }
    const meta = Object.fromEntries((exported.metadataProps ?? []).map((p) => [p.key, p.value]));
    expect(JSON.parse(meta['onnxtune.encoder.finetuned_stages'] as string)).toEqual(['stage2']);

    const ft = readJson(path.join(runDir, 'train', 'finetune.json'));
    expect(ft.initializers.sort()).toEqual([...tuned].sort());
    expect(ft.tapParity.maxAbs).toBeLessThanOrEqual(1e-4 * Math.max(1, ft.tapParity.maxRef));
    const parity = readJson(path.join(runDir, 'verify', 'parity.json'));
    expect(parity.passed).toBe(true);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  }, 180000);

  it.each([
    [{ stages: ['stage1'] }, /job\.yaml:\d+:\d+ encoder\.trainable\.stages: fine-tuned stages must be a contiguous run ending at the deepest tap: use \[stage1, stage2\]/],
    [{ last: 2 }, /encoder\.trainable: cannot fine-tune from the first stage 'stage1'.*fine-tune at most 1/],
    [{ stages: ['stage3'] }, /encoder\.trainable\.stages\[0\]: 'stage3' is not a stage up to the deepest tap; stages: stage1, stage2/],
  ])('refuses trainable %j before any stage runs', async (trainable, message) => {
    const dir = tmpDir();
    const job = quickJob({ encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'], trainable } });
    const run = runJob({ jobFile: writeJob(dir, job), outDir: path.join(dir, 'run') });
    await expect(run).rejects.toThrow(ConfigError);
    await expect(run).rejects.toThrow(message);
    expect(fs.existsSync(path.join(dir, 'run', 'data'))).toBe(false);
  });
});
