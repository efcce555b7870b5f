/**
 * pad-outputs: a last narrow Conv gets zero output channels up to onnxruntime's int8 block and a Slice
 * back; exact in float, the input model untouched, a lone Relu kept next to its Conv so the quantizer
 * still folds it, and only Convs with nothing conv-like after them.
 */
import { padOutputConvs, quantizeStatic, optimizedOpCounts } from '../../converters/quantize-static';
import { GraphBuilder } from '../../src/onnx/builder';
import { tensorDims } from '../../src/onnx/tensor';
import { runModel, seeded } from '../onnx/fixtures';
import { residualDenoiser } from './quantize-fixtures';

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('padOutputConvs', () => {
  it('pads only the last conv (8 → 1, no Conv after it) to 16 outputs and gives the same float output', async () => {
    const fp32 = residualDenoiser();
    const before = JSON.stringify(fp32.graph?.node);
    const { model, padded } = padOutputConvs(fp32);
    expect(padded).toEqual([{ node: 'c5/Conv', from: 1, to: 16 }]);
    expect(JSON.stringify(fp32.graph?.node)).toBe(before);
    const conv = model.graph?.node?.find((n) => n.name === 'c5/Conv');
    const w = model.graph?.initializer?.find((t) => t.name === conv?.input?.[1]);
    expect(tensorDims(w as never)).toEqual([16, 8, 3, 3]);
    const slice = model.graph?.node?.find((n) => n.opType === 'Slice');
    expect(slice?.output).toEqual(['c5']);
    // c1–c4 have 8 < 16 outputs too, but Convs read them: left alone.
    for (const c of ['c1', 'c2', 'c3', 'c4']) {
      const n = model.graph?.node?.find((x) => x.name === `${c}/Conv`);
      expect(n?.output).toEqual([c]);
    }
    const x = { noisy: { data: seeded(2 * 20 * 28, 5).map((v) => 0.5 + 0.4 * v), dims: [2, 1, 20, 28] } };
    const [a, b] = [(await runModel(fp32, x)).denoised, (await runModel(model, x)).denoised];
    expect(b.dims).toEqual(a.dims);
    expect(maxAbs(a.data, b.data)).toBeLessThan(1e-6);
  });

  it('keeps a lone Relu before the Slice, so quantization still folds it into the conv', async () => {
    const b = new GraphBuilder('conv-relu');
    b.addInput('x', ['N', 4, 'H', 'W']);
    b.addInitializer('w', [2, 4, 3, 3], seeded(72, 3).map((v) => v * 0.3));
    b.addInitializer('b', [2], Float32Array.of(0.1, -0.1));
    b.addNode('Conv', ['x', 'w', 'b'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv');
    b.addNode('Relu', ['y'], ['r'], {}, 'relu');
    b.addOutput('r', ['N', 2, 'H', 'W']);
    const fp32 = b.toModel({ opset: 17 });
    const { model, padded } = padOutputConvs(fp32);
    expect(padded).toEqual([{ node: 'conv', from: 2, to: 16 }]);
    expect((model.graph?.node ?? []).map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Slice']);
    const feed = { x: { data: seeded(4 * 12 * 12, 9).map((v) => v + 0.2), dims: [1, 4, 12, 12] } };
    expect(maxAbs((await runModel(fp32, feed)).r.data, (await runModel(model, feed)).r.data)).toBeLessThan(1e-6);
    const q = await quantizeStatic(fp32, [feed]);
    expect(q.report.paddedConvs).toEqual(padded);
    expect(q.report.quantized).toEqual([{ node: 'conv', fusedRelu: true }]);
    const ops = await optimizedOpCounts(q.model);
    expect(ops).toMatchObject({ QLinearConv: 1, Slice: 1 });
    expect(ops.Relu ?? 0).toBe(0);
    // off: block 0 or keepFloat other than 'none'.
    expect(padOutputConvs(fp32, { block: 0 }).padded).toEqual([]);
    expect((await quantizeStatic(fp32, [feed], { padOutputs: 0 })).report.paddedConvs).toEqual([]);
  });
});
