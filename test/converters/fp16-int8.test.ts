/**
 * float16 and int8 weight transforms on small models built here (no /tmp, no downloads): a
 * U-Net-like denoiser exported with tfjsToOnnx (Conv, Relu, Resize, Concat, Clip, Pad) and a
 * classifier head (BatchNormalization, GlobalAveragePool, Gemm). float16 results must stay
 * within the 'any/fp16' tolerance (atol 1e-2) of float32 in onnxruntime CPU; int8 results
 * within an error bound derived from the per-channel scales (see the int8 tests).
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { FloatTensor } from '../../src/backends/ort';
import type { Tf } from '../../src/backends/tf';
import { floatAttr, GraphBuilder } from '../../src/onnx/builder';
import { checkModel } from '../../src/onnx/check';
import { encodeModel } from '../../src/onnx/model-io';
import { DataType, type onnx } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { convertToFloat16, quantizeSymmetric, quantizeWeightsInt8, tfjsToOnnx } from '../../converters';
import { runModel, seeded } from '../onnx/fixtures';
import { maxAbsDiff, randomInput } from './onnx-parity';
import { getTf, randomizeWeights } from './parity-helpers';

type Sym = TfModule.SymbolicTensor;
const FP16_TOL = { atol: 1e-2, rtol: 1e-2 };

/** A small denoiser: stride-2 conv encoder, nearest upsampling, skip concat, clip to [0, 1]. */
function denoiser(tf: Tf): onnx.ModelProto {
  const L = tf.layers;
  const x = tf.input({ shape: [null, null, 1], name: 'noisy' });
  const e1 = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'e1' }).apply(x) as Sym;
  const e2 = L.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'e2' }).apply(e1) as Sym;
  const up = L.upSampling2d({ size: [2, 2], name: 'up' }).apply(e2) as Sym;
  const cat = L.concatenate({ name: 'cat' }).apply([up, e1]) as Sym;
  const padded = L.zeroPadding2d({ padding: 1, name: 'pad' }).apply(cat) as Sym;
  const d = L.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'd' }).apply(padded) as Sym;
  const head = L.conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'head' }).apply(d) as Sym;
  const out = L.reLU({ maxValue: 1, name: 'clip' }).apply(head) as Sym;
  const model = tf.model({ inputs: x, outputs: out, name: 'denoiser' });
  randomizeWeights(tf, model, 7);
  const onnxModel = tfjsToOnnx(model, { optimize: false });
  model.dispose();
  return onnxModel;
}

/** Conv → BatchNormalization → Relu → GlobalAveragePool → Flatten → Gemm, and a MatMul. */
function classifier(): onnx.ModelProto {
  const b = new GraphBuilder('classifier');
  b.addInput('x', ['N', 3, 'H', 'W']);
  b.addInitializer('w', [8, 3, 3, 3], seeded(216, 1).map((v) => v * 0.4));
  b.addInitializer('bias', [8], seeded(8, 2));
  for (const [k, s, o] of [['gamma', 3, 1], ['beta', 4, 0], ['mean', 5, 0], ['var', 6, 1.2]] as const) {
    b.addInitializer(k, [8], seeded(8, s).map((v) => v * 0.3 + o));
  }
  b.addInitializer('fc', [5, 8], seeded(40, 7));
  b.addInitializer('fc_b', [5], seeded(5, 8));
  b.addInitializer('proj', [5, 4], seeded(20, 9));
  b.addNode('Conv', ['x', 'w', 'bias'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], ['bn'], { epsilon: floatAttr(1e-5) });
  b.addNode('Relu', ['bn'], ['r']);
  b.addNode('GlobalAveragePool', ['r'], ['g']);
  b.addNode('Flatten', ['g'], ['f'], { axis: 1 });
  b.addNode('Gemm', ['f', 'fc', 'fc_b'], ['logits'], { transB: 1 });
  b.addNode('MatMul', ['logits', 'proj'], ['y']);
  b.addOutput('y', ['N', 4]);
  return b.toModel({ opset: 17 });
}

async function run(model: onnx.ModelProto, x: FloatTensor): Promise<FloatTensor[]> {
  const input = (model.graph?.input ?? [])[0].name as string;
  const out = await runModel(model, { [input]: x });
  return (model.graph?.output ?? []).map((o) => out[o.name as string]);
}

const initializer = (m: onnx.ModelProto, name: string) => (m.graph?.initializer ?? []).find((t) => t.name === name);
const size = (m: onnx.ModelProto) => encodeModel(m).length;

describe('float16 conversion', () => {
  let tf: Tf;
  let model: onnx.ModelProto;
  const x = randomInput([2, 1, 16, 20], 5, 0.5);
  beforeAll(async () => {
    tf = await getTf();
    model = denoiser(tf);
  });

  test('float16 weights and compute, float32 inputs/outputs; within atol 1e-2 of float32; about half the size', async () => {
    const { model: half, report } = convertToFloat16(model);
    expect(checkModel(half)).toEqual([]);
    expect(report.initializers).toBeGreaterThanOrEqual(8);
    // Weights are float16; Resize scales must stay float32 (the ONNX schema types them so).
    const resize = (half.graph?.node ?? []).find((n) => n.opType === 'Resize') as onnx.NodeProto;
    expect(initializer(half, resize.input[2])?.dataType).toBe(DataType.FLOAT);
    const conv = (half.graph?.node ?? []).find((n) => n.opType === 'Conv') as onnx.NodeProto;
    expect(initializer(half, conv.input[1])?.dataType).toBe(DataType.FLOAT16);
    expect(half.graph?.input?.[0].type?.tensorType?.elemType).toBe(DataType.FLOAT);
    expect(half.graph?.output?.[0].type?.tensorType?.elemType).toBe(DataType.FLOAT);
    expect((half.graph?.node ?? []).filter((n) => n.opType === 'Cast')).toHaveLength(2);
    const [ref, got] = [await run(model, x), await run(half, x)];
    expect(got[0].data).toBeCloseToArray(ref[0].data, FP16_TOL);
    expect(size(half) / size(model)).toBeLessThan(0.6);
    process.stdout.write(`fp16 denoiser: max |diff| ${maxAbsDiff(got, ref).toExponential(2)}, ${size(model)} → ${size(half)} bytes\n`);
  });

  test('the classifier head (BatchNormalization, Gemm, MatMul) runs in float16 within tolerance', async () => {
    const m = classifier();
    const { model: half } = convertToFloat16(m);
    const xi = randomInput([2, 3, 8, 9], 3);
    const [ref, got] = [await run(m, xi), await run(half, xi)];
    expect(got[0].data).toBeCloseToArray(ref[0].data, FP16_TOL);
  });

  test('fp32Ops keeps chosen ops in float32 with Casts around them; Constant values and Cast targets follow', async () => {
    const { model: half, report } = convertToFloat16(model, { fp32Ops: ['Resize', 'Concat'] });
    expect(report.fp32Nodes).toBe(2);
    const casts = (half.graph?.node ?? []).filter((n) => n.opType === 'Cast');
    expect(casts.length).toBeGreaterThan(2);
    const got = await run(half, x);
    expect(got[0].data).toBeCloseToArray((await run(model, x))[0].data, FP16_TOL);

    const b = new GraphBuilder('consts');
    b.addInput('x', ['N', 2]);
    b.addNode('Constant', [], ['k'], { value: { name: 'k', dims: [2], dataType: DataType.FLOAT, rawData: new Uint8Array(new Float32Array([0.5, 2]).buffer) } as onnx.TensorProto });
    b.addNode('Mul', ['x', 'k'], ['m']);
    b.addNode('Cast', ['m'], ['y'], { to: DataType.FLOAT });
    b.addOutput('y', ['N', 2]);
    const small = b.toModel({ opset: 17 });
    const { model: small16 } = convertToFloat16(small);
    expect((small16.graph?.node ?? []).some((n) => n.opType === 'Constant')).toBe(false);
    const xi = randomInput([3, 2], 4);
    expect((await run(small16, xi))[0].data).toBeCloseToArray((await run(small, xi))[0].data, FP16_TOL);
  });

  test('keepIoTypes: false makes the graph inputs and outputs float16', () => {
    const { model: half } = convertToFloat16(model, { keepIoTypes: false });
    expect(half.graph?.input?.[0].type?.tensorType?.elemType).toBe(DataType.FLOAT16);
    expect(half.graph?.output?.[0].type?.tensorType?.elemType).toBe(DataType.FLOAT16);
    expect((half.graph?.node ?? []).filter((n) => n.opType === 'Cast')).toHaveLength(0);
    expect(checkModel(half)).toEqual([]);
  });
});

describe('int8 weight quantization', () => {
  test('quantizeSymmetric: per-channel scales max|w|/127, error ≤ scale/2, zero channels stay zero', () => {
    const data = Float32Array.from([0.5, -1, 0.25, 0, 0, 0, 3, -0.03, 0.1]);
    const { q, scales, maxError } = quantizeSymmetric(data, [3, 3], 0);
    expect(Array.from(scales)).toEqual([1 / 127, 1, 3 / 127].map((v) => Math.fround(v)));
    expect(Array.from(q.slice(0, 3))).toEqual([64, -127, 32]);
    expect(Array.from(q.slice(3, 6))).toEqual([0, 0, 0]);
    expect(maxError).toBeLessThanOrEqual(Math.max(...scales) / 2 + 1e-7);
    const t = quantizeSymmetric(data, [3, 3], null);
    expect(t.scales).toHaveLength(1);
    expect(t.scales[0]).toBeCloseTo(3 / 127, 7);
  });

  test('Conv per output channel (axis 0), ConvTranspose per channel on axis 1, Gemm/MatMul per tensor; per tensor below opset 13', () => {
    const m = classifier();
    const b = new GraphBuilder('deconv');
    b.addInput('x', ['N', 4, 'H', 'W']);
    b.addInitializer('wt', [4, 6, 2, 2], seeded(96, 3));
    b.addNode('ConvTranspose', ['x', 'wt'], ['y'], { kernel_shape: [2, 2], strides: [2, 2] });
    b.addOutput('y');
    const { report: r1, model: q1 } = quantizeWeightsInt8(m);
    expect(r1.weights.map((w) => [w.name, w.axis])).toEqual([['w', 0], ['fc', null], ['proj', null]]);
    expect(checkModel(q1)).toEqual([]);
    expect(initializer(q1, 'w_quantized')?.dataType).toBe(DataType.INT8);
    expect(initializer(q1, 'w_scale')?.dims?.map(Number)).toEqual([8]);
    expect(initializer(q1, 'w')).toBeUndefined();
    expect((q1.graph?.node ?? []).filter((n) => n.opType === 'DequantizeLinear')).toHaveLength(3);
    expect(initializer(q1, 'bias')?.dataType).toBe(DataType.FLOAT); // biases (8 values < minElements) stay float
    const { report: r2 } = quantizeWeightsInt8(b.toModel({ opset: 17 }));
    expect(r2.weights[0].axis).toBe(1);
    const { report: r3 } = quantizeWeightsInt8(m, { perChannel: false });
    expect(r3.weights.every((w) => w.axis === null)).toBe(true);
    const { report: r4 } = quantizeWeightsInt8({ ...m, opsetImport: [{ domain: '', version: 12 }] });
    expect(r4.weights.every((w) => w.axis === null)).toBe(true);
  });

  test('one Conv: the output error is within the analytic bound Σ_window |x| · scale_c / 2 per channel', async () => {
    const [cout, cin, k] = [6, 4, 3];
    const b = new GraphBuilder('conv');
    b.addInput('x', ['N', cin, 'H', 'W']);
    // Channels of very different magnitude: per-channel scales matter.
    const w = seeded(cout * cin * k * k, 11).map((v, i) => v * 10 ** (Math.floor(i / (cin * k * k)) - 3));
    b.addInitializer('w', [cout, cin, k, k], w);
    b.addNode('Conv', ['x', 'w'], ['y'], { kernel_shape: [k, k], pads: [1, 1, 1, 1] });
    b.addOutput('y', ['N', cout, 'H', 'W']);
    const m = b.toModel({ opset: 17 });
    const { model: q } = quantizeWeightsInt8(m);
    const x = randomInput([2, cin, 7, 8], 12);
    const [ref, got] = [await run(m, x), await run(q, x)];
    const scales = tensorToFloat32(initializer(q, 'w_scale') as onnx.TensorProto);
    // |Δy| = |Σ Δw·x| ≤ max|Δw| · Σ|x| ≤ (scale_c / 2) · (k·k·cin · max|x|), plus float32 rounding.
    const maxX = x.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const plane = 7 * 8;
    let worstRatio = 0;
    for (let i = 0; i < got[0].data.length; i++) {
      const c = Math.floor(i / plane) % cout;
      const bound = (scales[c] / 2) * k * k * cin * maxX + 1e-6;
      const err = Math.abs(got[0].data[i] - ref[0].data[i]);
      expect(err).toBeLessThanOrEqual(bound);
      worstRatio = Math.max(worstRatio, err / bound);
    }
    // Per-tensor scales would make the small channels' error as large as the big channel's.
    const { model: qt } = quantizeWeightsInt8(m, { perChannel: false });
    const perTensor = await run(qt, x);
    const smallChannel = (o: FloatTensor[]) => {
      let e = 0;
      for (let i = 0; i < o[0].data.length; i++) if (Math.floor(i / plane) % cout === 0) e = Math.max(e, Math.abs(o[0].data[i] - ref[0].data[i]));
      return e;
    };
    expect(smallChannel(got)).toBeLessThan(smallChannel(perTensor) / 10);
    process.stdout.write(`int8 conv: worst error / bound ${worstRatio.toFixed(3)}\n`);
  });

  test('the denoiser: int8 weights within 3e-2 of float32 (outputs in [0, 1]), under 45% of the size', async () => {
    const tf = await getTf();
    const m = denoiser(tf);
    const { model: q, report } = quantizeWeightsInt8(m);
    expect(report.weights.length).toBe(4);
    const x = randomInput([2, 1, 16, 20], 5, 0.5);
    const [ref, got] = [await run(m, x), await run(q, x)];
    expect(got[0].data).toBeCloseToArray(ref[0].data, { atol: 3e-2 });
    expect(size(q) / size(m)).toBeLessThan(0.45);
    process.stdout.write(`int8 denoiser: max |diff| ${maxAbsDiff(got, ref).toExponential(2)}, ${size(m)} → ${size(q)} bytes\n`);
  });
});
