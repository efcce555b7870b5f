/**
 * Encoder scale robustness (issue 12, item 5): per-channel tap statistics equal a direct
 * computation, the head's fixed input affine standardizes the taps (so a tap scaled by 1000
 * trains like the unscaled one), jobs export it into the ONNX graph with parity ≤ 1e-4,
 * `decoder.normalize_taps: false` gives the old head, `decoder.tap_gate` makes the affine trainable from
 * gate × the standardization (0: the taps start shut) and exports what it learned, and a run that cannot learn is warned
 * about after epoch 1 and marked "learned nothing" in metrics.json and report.html.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { readManifest } from '../../pipeline/artifacts';
import { runJob } from '../../pipeline/runner';
import { loadGroup } from '../../pipeline/stages/split-inputs';
import { buildDecoder, tapNormLayerName } from '../../pipeline/train/decoder';
import { LearningCheck, learningWarning, noisyInputPsnr } from '../../pipeline/train/learning-check';
import { fit, type TrainSplit } from '../../pipeline/train/loop';
import { channelStats, deadChannels, tapNorm, type ChannelStats } from '../../pipeline/train/tap-stats';
import { initTf, type Tf } from '../../src/backends/tf';
import { formatRunSummary } from '../../src/cli/commands/run';
import { loadLayersModel } from '../../src/backends/tf-io';
import { loadJobConfig } from '../../src/config/load';
import { learnedNothing } from '../../src/metrics/learned-nothing';
import { ConfigError } from '../../src/errors';
import { setConsoleSink } from '../../src/log';
import { loadModel } from '../../src/onnx/model-io';
import { forkRng } from '../../src/random';
import { quickJob, writeJob } from '../helpers/jobs';
import { syntheticSplit } from '../helpers/synthetic-split';
import { tmpDir } from '../helpers/tmp';

let tf: Tf;
beforeAll(async () => {
  tf = (await initTf()).tf;
});

/** Two-pass float64 mean/std per channel: the reference the streaming stats must match. */
function directStats(data: Float32Array, c: number): { mean: number[]; std: number[] } {
  const n = data.length / c;
  const mean = Array.from({ length: c }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i * c + k];
    return s / n;
  });
  const std = mean.map((m, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (data[i * c + k] - m) ** 2;
    return Math.sqrt(s / n);
  });
  return { mean, std };
}

/** The split with its tap (input 0) multiplied by `factor`. */
/** Captures warning lines (without the `warn: ` prefix) until `stop()`; other lines are dropped. */
function captureWarnings(): { lines: string[]; stop: () => void } {
  const lines: string[] = [];
  const stop = setConsoleSink((level, line) => {
    if (level === 'warn') lines.push(line.replace(/^warn: /, ''));
  });
  return { lines, stop };
}

function scaledTap(split: TrainSplit, factor: number): TrainSplit {
  const [tap, ...rest] = split.inputs;
  return { ...split, inputs: [{ data: tap.data.map((v) => v * factor), shape: tap.shape }, ...rest] };
}

describe('tap statistics', () => {
  it('equal a direct two-pass computation, also with a large offset (no cancellation)', () => {
    const rng = forkRng(3, 'tap-stats');
    const shape: [number, number, number] = [5, 3, 4];
    const rows = 7;
    const data = new Float32Array(rows * 5 * 3 * 4).map((_, i) => 1000 * (i % 4) + (1 + (i % 4)) * rng.normal());
    const s = channelStats({ data, shape });
    const ref = directStats(data, 4);
    expect(s.count).toBe(rows * 15);
    for (let k = 0; k < 4; k++) {
      expect(s.mean[k]).toBeCloseTo(ref.mean[k], 9);
      expect(Math.abs(s.std[k] - ref.std[k]) / ref.std[k]).toBeLessThan(1e-9);
    }
  });

  it('guard dead channels: a constant channel is only centred (scale 1), the others get 1/std', () => {
    const data = new Float32Array(2 * 2 * 2 * 3);
    for (let i = 0; i < data.length / 3; i++) {
      data[i * 3] = i; // live
      data[i * 3 + 1] = 0; // dead ReLU
      data[i * 3 + 2] = 5; // constant, non-zero
    }
    const s = channelStats({ data, shape: [2, 2, 3] });
    expect(deadChannels(s)).toBe(2);
    const norm = tapNorm(s);
    expect(norm.scale[0]).toBeCloseTo(1 / s.std[0], 12);
    expect(norm.scale.slice(1)).toEqual([1, 1]);
    expect(norm.mean[2]).toBeCloseTo(5, 12);
    const allDead: ChannelStats = { mean: [0, 0], std: [0, 0], count: 4 };
    expect(tapNorm(allDead).scale).toEqual([1, 1]);
  });
});

describe('the head standardizes its tap inputs', () => {
  const taps = [{ channels: 3, stride: 2 }];
  const cfg = { widths: [6, 4], output: 'residual' as const };

  it('the normalization layer output is ~N(0,1) per channel, the same for a tap scaled by 1000', () => {
    const split = syntheticSplit(24, 5);
    for (const factor of [1, 1000]) {
      const s = scaledTap(split, factor);
      const stats = channelStats(s.inputs[0]);
      const m = buildDecoder(tf, taps, 1, cfg, 1, { tapNorms: [tapNorm(stats)] });
      const layer = m.getLayer(tapNormLayerName(0));
      expect(layer.trainable).toBe(false);
      const x = tf.tensor4d(s.inputs[0].data, [48, 4, 4, 3]);
      const y = (layer.apply(x) as TfModule.Tensor).dataSync() as Float32Array;
      const out = channelStats({ data: y, shape: [4, 4, 3] });
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(out.mean[k])).toBeLessThan(1e-5);
        expect(out.std[k]).toBeCloseTo(1, 5);
      }
      x.dispose();
      m.dispose();
    }
  });

  it('normalize_taps off (no tapNorms) is the old head: same layers and weights minus the fixed affine', () => {
    const plain = buildDecoder(tf, taps, 1, cfg, 4);
    const normed = buildDecoder(tf, taps, 1, cfg, 4, { tapNorms: [{ mean: [1, 2, 3], scale: [1, 1, 1] }] });
    expect(plain.layers.some((l) => l.name === tapNormLayerName(0))).toBe(false);
    expect(normed.layers.map((l) => l.name).filter((n) => n !== tapNormLayerName(0))).toEqual(plain.layers.map((l) => l.name));
    for (const l of plain.layers) {
      const a = l.getWeights();
      const b = normed.getLayer(l.name).getWeights();
      a.forEach((w, i) => expect(b[i].dataSync()).toEqual(w.dataSync()));
    }
    // The frozen affine is not something the optimizer updates.
    expect(normed.trainableWeights.length).toBe(plain.trainableWeights.length);
    plain.dispose();
    normed.dispose();
  });

  it('tap_gate: the affine trains, starting at gate × the standardization; gate 0 starts as the head without taps', () => {
    const norm = { mean: [1, 2, 3], scale: [2, 0.5, 4] };
    const fixed = buildDecoder(tf, taps, 1, cfg, 4, { tapNorms: [norm] });
    const half = buildDecoder(tf, taps, 1, { ...cfg, tap_gate: 0.5 }, 4, { tapNorms: [norm] });
    const layer = half.getLayer(tapNormLayerName(0));
    expect(layer.trainable).toBe(true);
    expect(half.trainableWeights.length).toBe(fixed.trainableWeights.length + 2);
    const [k, b] = layer.getWeights().map((w) => Array.from(w.dataSync()));
    expect(k).toBeCloseToArray([1, 0.25, 2], { atol: 1e-7 });
    expect(b).toBeCloseToArray([-1, -0.5, -6], { atol: 1e-6 });
    // Gate 0: the output does not depend on the taps at all (whatever their values).
    const shut = buildDecoder(tf, taps, 1, { ...cfg, image_skip: 'every_level', tap_gate: 0 }, 4, { tapNorms: [norm] });
    expect(() => buildDecoder(tf, taps, 1, { ...cfg, tap_gate: 0 }, 4)).toThrow(/tap_gate.*image_skip: every_level/s);
    const image = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 5);
    const outFor = (scale: number) => {
      const tap = tf.randomNormal([2, 4, 4, 3], 0, scale, 'float32', 6);
      const y = shut.predict([tap, image]) as TfModule.Tensor;
      const v = Array.from(y.dataSync());
      tf.dispose([tap, y]);
      return v;
    };
    expect(outFor(1)).toEqual(outFor(100));
    // Raw taps (no standardization) with a gate get an identity affine × gate.
    const raw = buildDecoder(tf, taps, 1, { ...cfg, tap_gate: 1 }, 4);
    expect(Array.from(raw.getLayer(tapNormLayerName(0)).getWeights()[0].dataSync())).toEqual([1, 1, 1]);
    tf.dispose([image]);
    for (const m of [fixed, half, shut, raw]) m.dispose();
  });

  it('a tap scaled by 1000 trains like the unscaled one with normalization, and not without', async () => {
    // The target depends on the tap, so the head has to use it.
    const base = syntheticSplit(64, 9);
    const tap = base.inputs[0].data;
    const target = new Float32Array(base.target.data.length);
    for (let r = 0; r < base.count; r++) for (let p = 0; p < 64; p++) target[r * 64 + p] = 0.5 + 0.1 * tap[(r * 16 + (Math.floor(p / 16) * 4 + Math.floor((p % 8) / 2))) * 3];
    const split: TrainSplit = { ...base, target: { data: target, shape: base.target.shape } };
    const train = { epochs: 3, batch_size: 16, lr: 1e-3, tensorboard: false };
    const finalLoss = async (s: TrainSplit, normalize: boolean) => {
      const m = buildDecoder(tf, taps, 1, { widths: [8, 8], output: 'direct' }, 2, normalize ? { tapNorms: [tapNorm(channelStats(s.inputs[0]))] } : {});
      const r = await fit(tf, m, s, null, train, { seed: 1 });
      m.dispose();
      return r.history[r.history.length - 1].loss;
    };
    const unscaled = await finalLoss(split, true);
    const scaledNorm = await finalLoss(scaledTap(split, 1000), true);
    const scaledRaw = await finalLoss(scaledTap(split, 1000), false);
    expect(Math.abs(scaledNorm - unscaled) / unscaled).toBeLessThan(1e-3);
    expect(scaledRaw).toBeGreaterThan(10 * unscaled);
  });
});

describe('learning checks', () => {
  const diagnosis = { taps: 'layer1 std 2.3–20 (median 7.5), 0/16 channels dead', deadFraction: 0.25, normalized: false, lr: 0.001 };

  it('warn when epoch 1 has not beaten the noisy input, naming tap scale, dead ReLUs and the learning rate', async () => {
    const w = learningWarning(20.35, 20.32, 1, diagnosis);
    expect(w).toMatch(/20\.35 dB, not above the noisy input's 20\.32 dB/);
    expect(w).toMatch(/tap scale \(layer1 std 2\.3–20.*normalize_taps: true/);
    expect(w).toMatch(/dead ReLUs \(25\.0% of tap channels/);
    expect(w).toMatch(/train\.lr 0\.001; a usual value/);
    expect(learningWarning(21, 20.32, 1, diagnosis)).toBeNull();
    expect(learningWarning(null, 20.32, 1, diagnosis)).toBeNull();

    const warn = captureWarnings();
    const check = new LearningCheck(20.32, diagnosis);
    await check.onEpochEnd(0, { val_psnr: 20.3 });
    expect(warn.lines).toHaveLength(1);
    await check.onEpochEnd(1, { val_psnr: 20.3 }); // only after the first epoch
    expect(warn.lines).toHaveLength(1);
    const fine = new LearningCheck(20.32, diagnosis);
    await fine.onEpochEnd(0, { val_psnr: 25 });
    expect(fine.warning).toBeNull();
    expect(warn.lines).toHaveLength(1);
    warn.stop();
  });

  it('noisyInputPsnr is what an identity head scores', () => {
    const s = syntheticSplit(6, 2);
    const split: TrainSplit = { ...s, inputs: [s.inputs[1]] };
    const pix = 64;
    let ref = 0;
    for (let r = 0; r < 6; r++) {
      let sum = 0;
      for (let i = 0; i < pix; i++) sum += (Math.min(1, Math.max(0, split.inputs[0].data[r * pix + i])) - split.target.data[r * pix + i]) ** 2;
      ref += 10 * Math.log10(pix / sum);
    }
    expect(noisyInputPsnr(split, 0)).toBeCloseTo(ref / 6, 10);
  });

  it('learnedNothing: within 0.1 dB of the noisy input, or an output equal to the input', () => {
    expect(learnedNothing(20.32, 20.32, 0.01, 0.01)).toBe(true);
    expect(learnedNothing(20.32, 20.4, 0.005, 0.01)).toBe(true);
    expect(learnedNothing(20.32, 27.6, 1e-6, 0.01)).toBe(true);
    expect(learnedNothing(20.32, 27.6, 0.008, 0.01)).toBe(false);
    expect(learnedNothing(20.32, 27.6)).toBe(false); // onnxtune eval: PSNRs only
  });
});

describe('decoder.normalize_taps in the schema', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'enc.onnx'), 'not checked by the schema');
  const base = 'name: t\ndata:\n  source: mnist\n  noise: { type: gaussian, sigma: 25 }\nencoder:\n  onnx: enc.onnx\n  taps: [a]\n';
  const load = (text: string) => {
    fs.writeFileSync(path.join(dir, 'job.yaml'), text);
    return loadJobConfig(path.join(dir, 'job.yaml'));
  };

  it('defaults to true (old configs get normalization) and rejects a non-boolean with its path and line', () => {
    expect(load(base).decoder.normalize_taps).toBe(true);
    expect(load(`${base}decoder:\n  normalize_taps: false\n`).decoder.normalize_taps).toBe(false);
    expect(() => load(`${base}decoder:\n  normalize_taps: yes please\n`)).toThrow(ConfigError);
    expect(() => load(`${base}decoder:\n  normalize_taps: yes please\n`)).toThrow(/job\.yaml:9:\d+ decoder\.normalize_taps: expected true or false, got "yes please"/);
  });
});

describe('jobs', () => {
  const dir = tmpDir();

  it('normalizes by default: tap-stats.json equals the cached features, the export carries it, parity ≤ 1e-4', async () => {
    const runDir = path.join(dir, 'norm');
    await runJob({ jobFile: writeJob(dir, quickJob({ name: 'norm' }), 'norm.yaml'), outDir: runDir });
    const stats = JSON.parse(fs.readFileSync(path.join(runDir, 'train', 'tap-stats.json'), 'utf8'));
    expect(stats.normalized).toBe(true);
    const manifest = readManifest(path.join(runDir, 'data'));
    const io = JSON.parse(fs.readFileSync(path.join(runDir, 'encoder', 'io.json'), 'utf8'));
    const g = loadGroup(path.join(runDir, 'data'), path.join(runDir, 'featurize'), manifest, io, 'train', manifest.splits.train[0]);
    stats.taps.forEach((t: { mean: number[]; std: number[] }, k: number) => {
      const ref = directStats(g.inputs[k].data, g.inputs[k].shape[2]);
      t.mean.forEach((m, c) => expect(Math.abs(m - ref.mean[c])).toBeLessThan(1e-9 * (1 + Math.abs(ref.mean[c]))));
      t.std.forEach((s, c) => expect(Math.abs(s - ref.std[c])).toBeLessThan(1e-9 * (1 + ref.std[c])));
    });
    const decoder = await loadLayersModel(tf, path.join(runDir, 'train', 'decoder'));
    expect(decoder.layers.filter((l) => /^tap\d+_norm$/.test(l.name)).length).toBe(io.taps.length);
    decoder.dispose();
    const exported = loadModel(path.join(runDir, 'export', 'denoiser.onnx'));
    expect(exported.graph!.input!.map((i) => i.name).filter((n) => !(exported.graph!.initializer ?? []).some((t) => t.name === n))).toEqual(['noisy']);
    expect((exported.graph!.node ?? []).filter((n) => n.opType === 'Conv' && /tap\d+_norm/.test(n.name ?? '')).length).toBe(io.taps.length);
    const parity = JSON.parse(fs.readFileSync(path.join(runDir, 'verify', 'parity.json'), 'utf8'));
    expect(parity.passed).toBe(true);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('resuming a run made before normalize_taps existed is refused with a message naming the stage and the new field', async () => {
    // An older run: train's run.json has no normalize_taps and its key was computed without it.
    const runDir = path.join(dir, 'norm');
    const record = path.join(runDir, 'train', 'run.json');
    const old = JSON.parse(fs.readFileSync(record, 'utf8'));
    delete old.config.decoder.normalize_taps;
    fs.writeFileSync(record, JSON.stringify(old));
    fs.writeFileSync(path.join(runDir, 'train', 'DONE'), '0123456789ab');
    await expect(runJob({ resume: runDir })).rejects.toThrow(ConfigError);
    await expect(runJob({ resume: runDir })).rejects.toThrow(
      /stage train was finished with a different configuration \(key 0123456789ab, now \w+\); changed: decoder\.normalize_taps: \(absent\) → true \(a field added since this run was made takes its default\); use --from train/,
    );
  });

  it('tap_gate: 0 opens the gate in training and the export carries the learned affine (parity ≤ 1e-4)', async () => {
    const runDir = path.join(dir, 'gate');
    await runJob({ jobFile: writeJob(dir, quickJob({ name: 'gate', decoder: { widths: [8, 8, 8], output: 'residual', image_skip: 'every_level', tap_gate: 0 } }), 'gate.yaml'), outDir: runDir });
    const decoder = await loadLayersModel(tf, path.join(runDir, 'train', 'decoder'));
    const learned = decoder.layers.filter((l) => /^tap\d+_norm$/.test(l.name)).map((l) => Array.from(l.getWeights()[0].dataSync()));
    decoder.dispose();
    expect(learned.length).toBeGreaterThan(0);
    for (const k of learned) expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(1e-4); // started at exactly 0
    const parity = JSON.parse(fs.readFileSync(path.join(runDir, 'verify', 'parity.json'), 'utf8'));
    expect(parity.passed).toBe(true);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(1e-4);
  });

  it('normalize_taps: false trains the old head (no affine layer, no extra nodes)', async () => {
    const runDir = path.join(dir, 'raw');
    await runJob({ jobFile: writeJob(dir, quickJob({ name: 'raw', decoder: { widths: [8, 8, 8], normalize_taps: false } }), 'raw.yaml'), outDir: runDir, until: 'export' });
    const decoder = await loadLayersModel(tf, path.join(runDir, 'train', 'decoder'));
    expect(decoder.layers.some((l) => /_norm$/.test(l.name))).toBe(false);
    decoder.dispose();
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'train', 'tap-stats.json'), 'utf8')).normalized).toBe(false);
    const exported = loadModel(path.join(runDir, 'export', 'denoiser.onnx'));
    expect((exported.graph!.node ?? []).some((n) => /tap\d+_norm/.test(n.name ?? ''))).toBe(false);
  });

  it('a run that cannot learn (lr ≈ 0) is warned about after epoch 1 and marked "learned nothing"', async () => {
    const runDir = path.join(dir, 'stuck');
    const job = quickJob({ name: 'stuck', decoder: { widths: [8, 8, 8], output: 'residual' }, train: { epochs: 1, batch_size: 32, lr: 1e-12 } });
    const warn = captureWarnings();
    try {
      await runJob({ jobFile: writeJob(dir, job, 'stuck.yaml'), outDir: runDir, until: 'evaluate' });
    } finally {
      warn.stop();
    }
    expect(warn.lines.some((m) => /not above the noisy input's .*Likely causes: tap scale/.test(m))).toBe(true);
    expect(warn.lines.some((m) => /^Learned nothing/.test(m))).toBe(true);
    const history = JSON.parse(fs.readFileSync(path.join(runDir, 'train', 'history.json'), 'utf8'));
    expect(history[0].warning).toMatch(/learned nothing yet.*dead ReLUs.*train\.lr 1e-12; raise it toward 1e-3/);
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, 'evaluate', 'metrics.json'), 'utf8'));
    expect(metrics.learnedNothing).toBe(true);
    expect(metrics.outputVsInputMse).toBeLessThan(1e-6);
    const summary = formatRunSummary({ runDir, executed: [], loaded: [], summaries: { evaluate: JSON.parse(fs.readFileSync(path.join(runDir, 'evaluate', 'run.json'), 'utf8')).summary } } as unknown as Parameters<typeof formatRunSummary>[0]);
    expect(summary).toMatch(/LEARNED NOTHING: the denoised output is \(nearly\) the noisy input/);
    const html = fs.readFileSync(path.join(runDir, 'evaluate', 'report.html'), 'utf8');
    expect(html).toMatch(/class="notice">Learned nothing/);
    expect(html).toMatch(/Training, epoch 1: validation PSNR/);
  });
});
