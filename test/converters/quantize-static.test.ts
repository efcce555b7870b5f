/**
 * Static int8 quantization (QDQ): range selection on hand-made histograms, the QDQ pattern on
 * a small residual denoiser built here (every int8 Conv reads DQ(activation) and DQ(int8 weight),
 * and its output — or its Relu's — feeds a Q alone), onnxruntime fusing exactly those Convs into
 * QLinearConv, the interface left unchanged, and a 1×1 conv checked against a hand computation
 * of the QDQ arithmetic. DnCNN from ../shared runs when present.
 */
import * as fs from 'node:fs';
import type { FloatTensor } from '../../src/backends/ort';
import { InputError } from '../../src/errors';
import { GraphBuilder } from '../../src/onnx/builder';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel } from '../../src/onnx/model-io';
import { DataType, toNumber, type onnx } from '../../src/onnx/proto';
import {
  activationParams, chooseRange, entropyThreshold, optimizedOpCounts, percentileThreshold, planQuantization, quantizeStatic,
  QUANTIZATION_METADATA_KEY, type StaticQuantizationReport, type TensorRange,
} from '../../converters/quantize-static';
import { runModel, seeded } from '../onnx/fixtures';
import { residualDenoiser, stridedShortcutDenoiser } from './quantize-fixtures';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { listImages, loadImageAs } from '../../src/data/folder';
import { noisyImage } from '../../src/eval/evaluate';

function feeds(n: number, size = 16): Record<string, FloatTensor>[] {
  return Array.from({ length: n }, (_, i) => ({ noisy: { data: seeded(size * size, 7 + i).map((v) => 0.5 + 0.4 * v), dims: [1, 1, size, size] } }));
}

const producers = (g: onnx.GraphProto) => new Map(g.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
const readersOf = (g: onnx.GraphProto, t: string) => g.node.filter((n) => (n.input ?? []).includes(t));
const io = (vis: onnx.IValueInfoProto[] | null | undefined) =>
  (vis ?? []).map((v) => ({
    name: v.name,
    type: v.type?.tensorType?.elemType,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || toNumber(d.dimValue)),
  }));

/**
 * Every quantized Conv: DQ(Q(x)) input, DQ(int8 weight, axis 0), DQ(int32 bias), and a Q as the only reader of its output
 * (or its Relu's); every quantized Add: two DQ inputs and a Q after it (or its Relu).
 */
function expectCompleteQdq(model: onnx.ModelProto, report: StaticQuantizationReport): void {
  const g = model.graph as onnx.GraphProto;
  const prod = producers(g);
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const convs = g.node.filter((n) => n.opType === 'Conv');
  for (const name of report.quantized.map((q) => q.node)) {
    const c = convs.find((n) => n.name === name) as onnx.NodeProto;
    expect(c).toBeDefined();
    const [x, w, bias] = (c.input ?? []).map((i) => prod.get(i));
    const first = (n: onnx.INodeProto | undefined) => (n?.input ?? [])[0] ?? '';
    expect(x?.opType).toBe('DequantizeLinear');
    expect(prod.get(first(x))?.opType).toBe('QuantizeLinear');
    expect(w?.opType).toBe('DequantizeLinear');
    expect(inits.get(first(w))?.dataType).toBe(DataType.INT8);
    expect((w?.attribute ?? []).find((a) => a.name === 'axis')?.i).toBe(0);
    expect(bias?.opType).toBe('DequantizeLinear');
    expect(inits.get(first(bias))?.dataType).toBe(DataType.INT32);
    let out = readersOf(g, (c.output ?? [])[0]);
    if (out.length === 1 && out[0].opType === 'Relu') out = readersOf(g, (out[0].output ?? [])[0]);
    expect(out.map((n) => n.opType)).toEqual(['QuantizeLinear']);
  }
  for (const name of report.adds.map((a) => a.node)) {
    const add = g.node.find((n) => n.name === name) as onnx.NodeProto;
    expect((add.input ?? []).map((i) => prod.get(i)?.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear']);
    let out = readersOf(g, (add.output ?? [])[0]);
    if (out.length === 1 && out[0].opType === 'Relu') out = readersOf(g, (out[0].output ?? [])[0]);
    expect(out.map((n) => n.opType)).toEqual(['QuantizeLinear']);
  }
  for (const k of report.keptFloat) expect(convs.some((n) => n.name === k.node)).toBe(true);
}

describe('range selection', () => {
  it('percentile and entropy clip a far outlier; min/max keeps it', () => {
    const counts = new Float64Array(2048);
    for (let i = 0; i < 200; i++) counts[i] = 1000 - 4 * i;
    counts[2047] = 1;
    const h = { counts, limit: 2048 };
    expect(percentileThreshold(h, 99.999)).toBeLessThanOrEqual(200);
    const t = entropyThreshold(h, 128);
    expect(t).toBeGreaterThanOrEqual(128);
    expect(t).toBeLessThan(400);
    const seen = { min: -5, max: 2048 };
    expect(chooseRange(seen, 'minmax')).toEqual({ min: -5, max: 2048 });
    expect(chooseRange(seen, 'entropy', h).max).toBe(t);
  });

  it("entropy is not pulled down by a Relu's spike of exact zeros", () => {
    // Relu-like: a spike of exact zeros in bin 0 (as many as all other values together, 50 times bin 1) over
    // an exponential tail that reaches the end of the range, where nothing is worth clipping (threshold 1 without the
    // spike). Counting the spike as data put the threshold at a quarter of the range, as for every Relu output of
    // gray-s25 (−5 dB on BSD68).
    const counts = new Float64Array(2048);
    for (let i = 1; i < 2048; i++) counts[i] = Math.round(1e5 * Math.exp(-i / 200));
    expect(entropyThreshold({ counts: counts.slice(), limit: 1 }, 256)).toBeGreaterThan(0.9);
    counts[0] = 5e6;
    const t = entropyThreshold({ counts, limit: 1 }, 256);
    expect(t).toBeGreaterThan(0.9);
  });

  it('8-bit parameters represent 0 exactly; a non-negative range gets the lowest zero point', () => {
    expect(activationParams({ min: 0, max: 2.55 }, 'uint8')).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    expect(activationParams({ min: 0, max: 2.55 }, 'int8').zeroPoint).toBe(-128);
    const p = activationParams({ min: -1, max: 3 }, 'uint8');
    expect((0 - p.zeroPoint) * p.scale).toBeLessThanOrEqual(-1 + p.scale);
    expect((255 - p.zeroPoint) * p.scale).toBeGreaterThanOrEqual(3 - p.scale);
    expect(p.zeroPoint).toBe(64);
  });
});

describe('quantizeStatic on a small residual denoiser', () => {
  const fp32 = residualDenoiser();

  it('quantizes every conv by default; output-convs keeps the last (8 → 1, nothing after it) float; image-convs keeps the image-facing ones float; fuses Relu after conv', () => {
    expect(planQuantization(fp32).convs.map((c) => c.node)).toEqual(['c1/Conv', 'c2/Conv', 'c3/Conv', 'c4/Conv', 'c5/Conv']);
    expect(planQuantization(fp32).keptFloat).toEqual([]);
    const out = planQuantization(fp32, { keepFloat: 'output-convs' });
    expect(out.convs.map((c) => c.node)).toEqual(['c1/Conv', 'c2/Conv', 'c3/Conv', 'c4/Conv']);
    expect(out.keptFloat).toEqual([{ node: 'c5/Conv', reason: expect.stringMatching(/^last conv \(8 → 1 channels/) }]);
    const plan = planQuantization(fp32, { keepFloat: 'image-convs' });
    expect(plan.convs.map((c) => [c.node, c.fusedRelu])).toEqual([['c2/Conv', true], ['c3/Conv', false], ['c4/Conv', true]]);
    expect(plan.keptFloat.map((k) => k.node)).toEqual(['c1/Conv', 'c5/Conv']);
    // Adds stay float by default; asked for, the residual Add reads two quantized tensors (c3's output, c2's input),
    // so it runs on int8 with its Relu folded.
    expect(plan.adds).toEqual([]);
    expect(planQuantization(fp32, { keepFloat: 'image-convs', quantizeAdd: true }).adds).toEqual([
      { node: 'skip/Add', inputs: ['c3', 'c1_relu'], output: 'skip_relu', fusedRelu: true },
    ]);
  });

  for (const [keepFloat, quantizeAdd] of [['image-convs', true], ['none', false], ['none', true]] as const) {
    it(`keepFloat '${keepFloat}', quantizeAdd ${quantizeAdd}: complete QDQ pattern, same interface, every quantized Conv is a QLinearConv`, async () => {
      const { model, report } = await quantizeStatic(fp32, feeds(4), { keepFloat, quantizeAdd, calibration: { source: 'seeded' } });
      expect(report.quantized.length).toBe(keepFloat === 'none' ? 5 : 3);
      expectCompleteQdq(model, report);
      expect(io(model.graph?.input)).toEqual(io(fp32.graph?.input));
      expect(io(model.graph?.output)).toEqual(io(fp32.graph?.output));
      const ops = await optimizedOpCounts(model);
      expect(ops.QLinearConv).toBe(report.quantized.length);
      expect(ops.Conv ?? 0).toBe(5 - report.quantized.length);
      expect(report.adds).toHaveLength(quantizeAdd ? 1 : 0);
      // Planned, the Add is a QLinearAdd. Not planned, it may still become one: with every conv quantized both its
      // inputs come from DQs and the next conv's Q follows its Relu, which onnxruntime fuses on its own.
      if (quantizeAdd) {
        expect(ops).toMatchObject({ QLinearAdd: 1 });
        // One scale for the Add's inputs and output: onnxruntime's QLinearAdd then adds integers exactly (scale
        // ratios of 1), in every build. The output after the folded Relu keeps zero point 0.
        const t = (name: string) => report.tensors.find((u) => u.name === name);
        const scales = ['c3', 'c1_relu', 'skip_relu'].map((n) => t(n)?.scale);
        expect(scales[0]).toBeGreaterThan(0);
        expect(new Set(scales).size).toBe(1);
        expect(scales[0]).toBe(Math.max(...['c3', 'c1_relu', 'skip_relu'].map((n) => activationParams(t(n)?.range as TensorRange, 'uint8').scale)));
        expect(t('skip_relu')?.zeroPoint).toBe(0);
      }
      const meta = getMetadata(model);
      expect(meta['onnxtune.task']).toBe('denoise');
      expect(JSON.parse(meta[QUANTIZATION_METADATA_KEY])).toMatchObject({ method: 'percentile', activations: 'uint8', calibration: { inputs: 4, source: 'seeded' } });
      // Another size than calibrated (dynamic H/W): close to float32, at 8-bit resolution.
      const x = { noisy: { data: seeded(2 * 24 * 40, 99).map((v) => 0.5 + 0.4 * v), dims: [2, 1, 24, 40] } };
      const [a, b] = [(await runModel(fp32, x)).denoised, (await runModel(model, x)).denoised];
      expect(b.dims).toEqual([2, 1, 24, 40]);
      const err = a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(0.05);
    });
  }

  for (const method of ['percentile', 'entropy'] as const) {
    it(`method '${method}' gives ranges inside min/max and records itself`, async () => {
      const mm = await quantizeStatic(fp32, feeds(3), { method: 'minmax' });
      const r = await quantizeStatic(fp32, feeds(3), { method });
      for (const t of r.report.tensors) {
        const m = mm.report.tensors.find((u) => u.name === t.name);
        expect(t.range.max).toBeLessThanOrEqual((m?.range.max ?? 0) + 1e-9);
        expect(t.range.min).toBeGreaterThanOrEqual((m?.range.min ?? 0) - 1e-9);
      }
      expect(JSON.parse(getMetadata(r.model)[QUANTIZATION_METADATA_KEY]).method).toBe(method);
    });
  }

  it('refuses opset < 13 and an empty calibration set with InputError', async () => {
    await expect(quantizeStatic(residualDenoiser(11), feeds(1))).rejects.toThrow(/opset 11.*--opset 13/);
    await expect(quantizeStatic(fp32, [])).rejects.toThrow(InputError);
  });
});

describe('quantizeStatic on a CIFAR ResNet downsampling block (strided Slice + zero Pad shortcut)', () => {
  it('quantizes the shortcut and runs the block Add on int8; a Pad with another constant stays float', async () => {
    const fp32 = stridedShortcutDenoiser();
    const plan = planQuantization(fp32, { quantizeAdd: true });
    expect(plan.adds).toEqual([{ node: 'block/Add', inputs: ['c3', 'sc'], output: 'block_relu', fusedRelu: true }]);
    expect(plan.activations).toContain('sc');
    expect(planQuantization(fp32, { quantizeAdd: false }).adds).toEqual([]);
    expect(planQuantization(stridedShortcutDenoiser(0.25), { quantizeAdd: true }).adds).toEqual([]);

    const { model, report } = await quantizeStatic(fp32, feeds(4, 16));
    expectCompleteQdq(model, report);
    const ops = await optimizedOpCounts(model);
    expect(ops).toMatchObject({ QLinearConv: 4, QLinearAdd: 1 });
    expect(ops.Conv ?? 0).toBe(0);
    expect(ops.Add ?? 0).toBe(0);
    const t = (name: string) => report.tensors.find((u) => u.name === name);
    expect(new Set(['c3', 'sc', 'block_relu'].map((n) => t(n)?.scale)).size).toBe(1);
    const x = { noisy: { data: seeded(2 * 24 * 40, 98).map((v) => 0.5 + 0.4 * v), dims: [2, 1, 24, 40] } };
    const [a, b] = [(await runModel(fp32, x)).denoised, (await runModel(model, x)).denoised];
    const err = a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.05);
  });
});

describe('QDQ arithmetic of one int8 1×1 conv + Relu against a hand computation', () => {
  it('matches within one output step', async () => {
    const [cin, cout, hw] = [8, 8, 36];
    const w = seeded(cout * cin, 11);
    const bias = seeded(cout, 12).map((v) => v * 0.2);
    const b = new GraphBuilder('one-conv');
    b.addInput('x', ['N', cin, 'H', 'W']);
    b.addInitializer('w', [cout, cin, 1, 1], w);
    b.addInitializer('b', [cout], bias);
    b.addNode('Conv', ['x', 'w', 'b'], ['y'], { kernel_shape: [1, 1] }, 'conv');
    b.addNode('Relu', ['y'], ['r']);
    b.addNode('Identity', ['r'], ['out']);
    b.addOutput('out', ['N', cout, 'H', 'W']);
    const fp32 = b.toModel({ opset: 17 });
    const x = seeded(cin * hw, 13);
    const feed = { x: { data: x, dims: [1, cin, 6, 6] } };
    // padOutputs 0: the conv keeps its cout outputs, so the Q sits on 'r' (pad-outputs has its own test).
    const { model, report } = await quantizeStatic(fp32, [feed], { keepFloat: 'none', padOutputs: 0 });
    expect((await optimizedOpCounts(model)).QLinearConv).toBe(1);
    const got = (await runModel(model, feed)).out.data;

    // Reference: uint8 input from its min/max, int8 symmetric weights per output channel, int32 bias, uint8 output.
    const q8 = (v: number, s: number, z: number) => Math.max(0, Math.min(255, Math.round(v / s) + z));
    const xMin = Math.min(0, ...x);
    const xMax = Math.max(0, ...x);
    const sx = Math.fround((xMax - xMin) / 255);
    const zx = Math.round(-xMin / sx);
    const xd = Array.from(x, (v) => (q8(v, sx, zx) - zx) * sx);
    const ref = new Float32Array(cout * hw);
    let rMax = 0;
    for (let o = 0; o < cout; o++) {
      const row = w.subarray(o * cin, (o + 1) * cin);
      const sw = Math.fround(Math.max(...Array.from(row, Math.abs)) / 127);
      const bd = Math.round(bias[o] / Math.fround(sx * sw)) * Math.fround(sx * sw);
      for (let p = 0; p < hw; p++) {
        let acc = bd;
        for (let c = 0; c < cin; c++) acc += Math.round(row[c] / sw) * sw * xd[c * hw + p];
        ref[o * hw + p] = Math.max(0, acc);
        rMax = Math.max(rMax, ref[o * hw + p]);
      }
    }
    const so = report.tensors.find((t) => t.name === 'r')?.scale as number;
    expect(so).toBeCloseTo(rMax / 255, 3);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - q8(ref[i], so, 0) * so)).toBeLessThanOrEqual(so * 1.01);
  });
});

describeIfShared('DnCNN-25 static int8', ['models/dncnn_25.onnx', 'data/train400'], () => {
  it('runs all 17 convs as QLinearConv (the last padded 1 → 16 output channels; 16 with output-convs, 15 with image-convs) and stays near float32 on a noisy Train400 image', async () => {
    const fp32 = loadModel(sharedPath('models/dncnn_25.onnx'));
    const files = listImages(sharedPath('data/train400')).slice(0, 4);
    const calib: Record<string, FloatTensor>[] = [];
    for (const f of files) {
      const img = await loadImageAs(f, 1);
      calib.push({ input: { data: noisyImage(img, 25, 0), dims: [1, 1, img.height, img.width] } });
    }
    const { model, report } = await quantizeStatic(fp32, calib);
    expect(report.quantized).toHaveLength(17);
    expect(report.paddedConvs).toEqual([{ node: expect.any(String), from: 1, to: 16 }]);
    expectCompleteQdq(model, report);
    expect(io(model.graph?.input)).toEqual(io(fp32.graph?.input));
    expect(io(model.graph?.output)).toEqual(io(fp32.graph?.output));
    const ops = await optimizedOpCounts(model);
    expect(ops.QLinearConv).toBe(17);
    expect(ops.Conv ?? 0).toBe(0);
    const outConvs = await quantizeStatic(fp32, calib, { keepFloat: 'output-convs' });
    expect(await optimizedOpCounts(outConvs.model)).toMatchObject({ QLinearConv: 16, Conv: 1 });
    const mixed = await quantizeStatic(fp32, calib, { keepFloat: 'image-convs' });
    expect(await optimizedOpCounts(mixed.model)).toMatchObject({ QLinearConv: 15, Conv: 2 });
    // Near float32: with min/max ranges no value is clipped (max error < 0.05); the default percentile ranges clip the
    // rarest values (larger max error) for finer steps everywhere else (smaller RMS error, better PSNR).
    const held = { input: calib[3].input };
    const minmax = await quantizeStatic(fp32, calib, { method: 'minmax' });
    const [a, b, c] = [fp32, model, minmax.model].map(async (m) => (await runModel(m, held)).output.data);
    const [ref, pct, mm] = await Promise.all([a, b, c]);
    const maxErr = (x: Float32Array) => ref.reduce((m, v, i) => Math.max(m, Math.abs(v - x[i])), 0);
    const rms = (x: Float32Array) => Math.sqrt(ref.reduce((s, v, i) => s + (v - x[i]) ** 2, 0) / ref.length);
    expect(maxErr(mm)).toBeLessThan(0.05);
    expect(maxErr(pct)).toBeLessThan(0.15);
    expect(rms(pct)).toBeLessThan(rms(mm));
    expect(rms(pct)).toBeLessThan(0.01);
    expect(fs.statSync(sharedPath('models/dncnn_25.onnx')).size / (model.graph?.initializer ?? []).reduce((s, t) => s + (t.rawData?.length ?? 0), 0)).toBeGreaterThan(3);
  }, 120_000);
});
