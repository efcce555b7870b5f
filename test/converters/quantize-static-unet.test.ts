/**
 * Static int8 on the shape of onnxtune's own exports (U-Net head over encoder taps, the noisy image concatenated at
 * full resolution, float16 weight storage): every Conv found and quantized whatever stores its weights, the
 * mixed-range Concat equalized (the float model is unchanged by it, and the int8 error drops), nearest Resize kept
 * on its input's 8-bit grid and the Concat on 8 bits (what onnxruntime then runs).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import { float16Weights } from '../../converters/fp16-weights';
import {
  materializeConvWeights, optimizedOpCounts, planQuantization, quantizeStatic, splitMixedRangeConcats,
} from '../../converters/quantize-static';
import type { onnx } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { runModel, seeded } from '../onnx/fixtures';
import { unetDenoiser } from './quantize-fixtures';

/** The layout tests below are about the unfolded U-Net (a Resize and Concat that stay): quantize-fold-upsample.test.ts covers the fold. */
const unfolded = (model: onnx.ModelProto, calib: Record<string, FloatTensor>[], opts: Parameters<typeof quantizeStatic>[2] = {}) => quantizeStatic(model, calib, { foldUpsample: false, ...opts });

function feeds(n: number, size = 16): Record<string, FloatTensor>[] {
  return Array.from({ length: n }, (_, i) => ({ noisy: { data: seeded(size * size, 31 + i).map((v) => 0.5 + 0.45 * v), dims: [1, 1, size, size] } }));
}

async function maxDiff(a: onnx.ModelProto, b: onnx.ModelProto, feed: Record<string, FloatTensor>): Promise<{ max: number; mean: number }> {
  const [x, y] = [(await runModel(a, feed)).denoised.data, (await runModel(b, feed)).denoised.data];
  let max = 0;
  let sum = 0;
  x.forEach((v, i) => {
    const d = Math.abs(v - y[i]);
    max = Math.max(max, d);
    sum += d;
  });
  return { max, mean: sum / x.length };
}

async function optimizedGraph(model: onnx.ModelProto): Promise<onnx.GraphProto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-unet-'));
  try {
    const file = path.join(dir, 'optimized.onnx');
    const s = await createSession(encodeModel(model), { device: 'cpu', threads: 1, optimizedModelPath: file, label: 'int8 model' });
    await s.release();
    return loadModel(file).graph as onnx.GraphProto;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** [scale, zero point] of the QuantizeLinear reading `tensor`. */
function quantParams(model: onnx.ModelProto, tensor: string): [number, number | undefined] {
  const g = model.graph as onnx.GraphProto;
  const init = new Map(g.initializer.map((t) => [t.name, t]));
  const q = g.node.find((n) => n.opType === 'QuantizeLinear' && n.input?.[0] === tensor) as onnx.NodeProto;
  return [tensorToFloat32(init.get(q.input?.[1] as string) as onnx.TensorProto)[0], (init.get(q.input?.[2] as string) as onnx.TensorProto).rawData?.[0]];
}

const testFeed = feeds(1, 24).map((f) => ({ noisy: { ...f.noisy, data: seeded(24 * 24, 77).map((v) => 0.5 + 0.45 * v) } }))[0];

describe('static int8 on a U-Net denoiser like onnxtune exports', () => {
  const fp32 = unetDenoiser();

  it('finds Conv weights stored as float16 behind Casts and quantizes every Conv', async () => {
    const half = float16Weights(fp32, { minElements: 1 }).model;
    // The planner alone sees Cast outputs, not weights.
    expect(() => planQuantization(half)).toThrow(/no Conv that static int8 quantization can run on int8 \(4 kept float\)/);
    const { model: mat, materialized } = materializeConvWeights(half);
    expect(materialized).toBe(8); // 4 weights + 4 biases
    // No Conv reads a Cast any more (the Resize scales keep theirs: not a Conv weight).
    const casts = new Set((mat.graph?.node ?? []).filter((n) => n.opType === 'Cast').flatMap((n) => n.output ?? []));
    expect((mat.graph?.node ?? []).filter((n) => n.opType === 'Conv' && (n.input ?? []).some((i) => casts.has(i)))).toEqual([]);
    expect(casts.size).toBe(1);
    // Values are the float16-rounded weights, as the Cast made them.
    const [a, b] = [(await runModel(half, testFeed)).denoised.data, (await runModel(mat, testFeed)).denoised.data];
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
    const { report } = await unfolded(half, feeds(4));
    expect(report.materializedWeights).toBe(8);
    expect(report.quantized).toHaveLength(4); // the last conv (8 → 1) too, padded to 16 output channels
    expect(report.keptFloat).toEqual([]);
    expect(report.paddedConvs).toEqual([{ node: 'c4/Conv', from: 1, to: 16 }]);
  });

  it('equalizes the mixed-range Concat by powers of two without changing the float model', async () => {
    const { model, splits } = await splitMixedRangeConcats(fp32, feeds(4));
    expect(splits).toHaveLength(1);
    expect(splits[0]).toMatchObject({ conv: 'c3/Conv', mode: 'scale' });
    const factors = Object.values(splits[0].factors ?? {});
    expect(factors.length).toBeGreaterThan(0);
    for (const f of factors) expect(Math.log2(f) % 1).toBe(0);
    expect(splits[0].factors).toHaveProperty('noisy');
    // The image (read by c1 and the final Add too) and c1's features (read by c2) are scaled by a Mul for the Concat
    // only; a narrow input made by a Conv only the Concat reads would take the factor into that Conv instead.
    expect(model.graph?.node?.filter((n) => n.opType === 'Mul')).toHaveLength(factors.length);
    expect((await maxDiff(fp32, model, testFeed)).max).toBeLessThan(1e-5);
    // The caller's model is untouched.
    expect(fp32.graph?.node?.find((n) => n.opType === 'Concat')?.input).toEqual(['up', 'c1_relu', 'noisy']);
    // Split mode: one Conv per range group, summed, same float output.
    const split = await splitMixedRangeConcats(fp32, feeds(4), { mode: 'split' });
    expect(split.model.graph?.node?.filter((n) => n.opType === 'Conv').length).toBeGreaterThan(4);
    expect((await maxDiff(fp32, split.model, testFeed)).max).toBeLessThan(1e-5);
  });

  it('int8 error drops with the equalized Concat', async () => {
    const plain = await unfolded(fp32, feeds(4), { splitConcat: false });
    const eq = await unfolded(fp32, feeds(4));
    const [dPlain, dEq] = [await maxDiff(fp32, plain.model, testFeed), await maxDiff(fp32, eq.model, testFeed)];
    expect(eq.report.splitConvs).toHaveLength(1);
    expect(dEq.mean).toBeLessThan(dPlain.mean / 2);
  });

  it('keeps the nearest Resize on its input 8-bit grid and the Concat on 8 bits, as onnxruntime fuses them', async () => {
    const { model, report } = await unfolded(fp32, feeds(4));
    expect(report.resizes).toEqual(['up']);
    expect(report.concats).toEqual(['cat/Concat']);
    const g = model.graph as onnx.GraphProto;
    expect(quantParams(model, 'up')).toEqual(quantParams(model, 'c2_relu'));
    // Every Concat input is a DequantizeLinear.
    const prod = new Map(g.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const cat = g.node.find((n) => n.opType === 'Concat') as onnx.NodeProto;
    expect((cat.input ?? []).map((i) => prod.get(i)?.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear', 'DequantizeLinear']);
    const ops = await optimizedOpCounts(model);
    expect(ops).toMatchObject({ QLinearConv: 4, QLinearConcat: 1, Resize: 1 });
    expect(ops.Conv ?? 0).toBe(0);
    // The Resize reads 8-bit data: in onnxruntime's optimized graph it reads a QLinearConv's output, not a DequantizeLinear.
    const opt = await optimizedGraph(model);
    const optProd = new Map(opt.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const resize = opt.node.find((n) => n.opType === 'Resize') as onnx.NodeProto;
    expect(optProd.get(resize.input?.[0] as string)?.opType).toBe('QLinearConv');
    // Without the option the Concat and Resize stay float.
    const off = await unfolded(fp32, feeds(4), { quantizeLayout: false });
    expect(off.report.concats).toEqual([]);
    expect((await optimizedOpCounts(off.model)).QLinearConcat ?? 0).toBe(0);
  });

  it("quantizes the Concat's sole-reader inputs onto its grid (QLinearConcat copies them), keeping every Relu folded", async () => {
    // Without the image's NHWC layout hint (quantize-layout-hints.test.ts), each Concat input is DQ(Q(tensor)).
    const { model, report } = await unfolded(fp32, feeds(4), { layoutHints: false });
    const g = model.graph as onnx.GraphProto;
    const qParams = (t: string) => quantParams(model, t);
    // The equalized inputs (c1's features scaled for the Concat only, the image scaled and channel-padded) are read by
    // the Concat alone; the Relu'd upsampled features keep their own grid (zero point 0: onnxruntime still drops the Relu).
    const prod = new Map(g.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const cat = g.node.find((n) => n.opType === 'Concat' && n.output?.[0] === 'cat') as onnx.NodeProto;
    const catInputs = (cat.input ?? []).map((dq) => prod.get(prod.get(dq)?.input?.[0] as string)?.input?.[0] as string);
    expect(catInputs).toEqual(['up', 'c1_relu_equalized', 'noisy_channel_padded']);
    expect(report.concatGrid).toEqual(catInputs.slice(1));
    for (const t of catInputs.slice(1)) expect(qParams(t)).toEqual(qParams('cat'));
    expect(qParams('up')).toEqual(qParams('c2_relu'));
    expect(qParams('c2_relu')[1]).toBe(0);
    expect(await optimizedOpCounts(model)).toMatchObject({ QLinearConv: 4, QLinearConcat: 1 });
    // One rounding instead of two: the int8 error is no larger than with each input on its own grid.
    const own = await unfolded(fp32, feeds(4), { shareConcatGrid: false });
    expect(own.report.concatGrid).toEqual([]);
    const [dShared, dOwn] = [await maxDiff(fp32, model, testFeed), await maxDiff(fp32, own.model, testFeed)];
    expect(dShared.mean).toBeLessThanOrEqual(dOwn.mean * 1.02);
    // Without the Relu before the Resize, its source moves onto the Concat's grid too, and the Resize output with it.
    const g32 = fp32.graph as onnx.GraphProto;
    const noRelu = { ...fp32, graph: { ...g32, node: g32.node.filter((n) => !(n.opType === 'Relu' && n.input?.[0] === 'c2')).map((n) => (n.opType === 'Resize' ? { ...n, input: ['c2', ...(n.input ?? []).slice(1)] } : n)) } } as onnx.ModelProto;
    const linear = await unfolded(noRelu, feeds(4));
    expect(linear.report.concatGrid).toContain('c2');
    const lq = (t: string) => quantParams(linear.model, t);
    expect(lq('c2')).toEqual(lq('cat'));
    expect(lq('up')).toEqual(lq('cat'));
    expect(await optimizedOpCounts(linear.model)).toMatchObject({ QLinearConv: 4, QLinearConcat: 1 });
  });
});
