/**
 * pad-inputs: a Conv reading 1–3 channels gets zero input channels up to 4 by a float Pad; exact in float, the
 * input model untouched, one Pad shared by the Convs that read the same tensor, and on int8 the same integers
 * (the zeros sit inside the calibrated range, so the scale is unchanged and the extra channels add 0).
 */
import { optimizedOpCounts, padInputConvs, quantizeStatic } from '../../converters/quantize-static';
import { GraphBuilder } from '../../src/onnx/builder';
import { tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';
import { runModel, seeded } from '../onnx/fixtures';
import { addConv, residualDenoiser } from './quantize-fixtures';

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** x [N,3,H,W] → conv a 3→8 and conv b 3→8 stride 2 (both read x) → upsampled b + a → conv 8→3. */
function twoReaders() {
  const b = new GraphBuilder('two-readers');
  b.addInput('x', ['N', 3, 'H', 'W']);
  addConv(b, 'a', 'x', 3, 8, 1);
  addConv(b, 'b', 'x', 3, 8, 2, 2);
  b.addInitializer('up.scales', [4], Float32Array.of(1, 1, 2, 2));
  b.addNode('Resize', ['b', '', 'up.scales'], ['up'], { mode: 'nearest' }, 'up/Resize');
  b.addNode('Add', ['a', 'up'], ['sum']);
  b.addNode('Relu', ['sum'], ['r']);
  addConv(b, 'c', 'r', 8, 3, 3);
  b.addOutput('c', ['N', 3, 'H', 'W']);
  return b.toModel({ opset: 17 });
}

describe('padInputConvs', () => {
  it('pads the 1-channel first conv to 4 inputs with zero weights and gives the same float output', async () => {
    const fp32 = residualDenoiser();
    const before = JSON.stringify(fp32);
    const { model, padded } = padInputConvs(fp32);
    expect(padded).toEqual([{ node: 'c1/Conv', from: 1, to: 4 }]);
    expect(JSON.stringify(fp32)).toBe(before);
    const conv = model.graph?.node?.find((n) => n.name === 'c1/Conv');
    const pad = model.graph?.node?.find((n) => n.opType === 'Pad');
    expect(pad?.input?.[0]).toBe('noisy');
    expect(conv?.input?.[0]).toBe(pad?.output?.[0]);
    const w = model.graph?.initializer?.find((t) => t.name === conv?.input?.[1]);
    expect(tensorDims(w as never)).toEqual([8, 4, 3, 3]);
    const wv = tensorToFloat32(w as never);
    const orig = tensorToFloat32(fp32.graph?.initializer?.find((t) => t.name === 'c1.w') as never);
    for (let o = 0; o < 8; o++) {
      expect(Array.from(wv.subarray(o * 36, o * 36 + 9))).toEqual(Array.from(orig.subarray(o * 9, o * 9 + 9)));
      expect(Array.from(wv.subarray(o * 36 + 9, o * 36 + 36)).every((v) => v === 0)).toBe(true);
    }
    const x = { noisy: { data: seeded(2 * 20 * 28, 5).map((v) => 0.5 + 0.4 * v), dims: [2, 1, 20, 28] } };
    const [a, b] = [(await runModel(fp32, x)).denoised, (await runModel(model, x)).denoised];
    expect(b.dims).toEqual(a.dims);
    expect(maxAbs(a.data, b.data)).toBeLessThan(1e-6);
  });

  it('shares one Pad between the convs that read the same tensor; wider convs are left alone', async () => {
    const fp32 = twoReaders();
    const { model, padded } = padInputConvs(fp32);
    expect(padded).toEqual([
      { node: 'a/Conv', from: 3, to: 4 },
      { node: 'b/Conv', from: 3, to: 4 },
    ]);
    expect((model.graph?.node ?? []).filter((n) => n.opType === 'Pad')).toHaveLength(1);
    expect(model.graph?.node?.find((n) => n.name === 'c/Conv')?.input?.[0]).toBe('r');
    const feed = { x: { data: seeded(3 * 16 * 12, 7).map((v) => 0.5 + 0.5 * v), dims: [1, 3, 16, 12] } };
    expect(maxAbs((await runModel(fp32, feed)).c.data, (await runModel(model, feed)).c.data)).toBeLessThan(1e-6);
  });

  it('quantizeStatic pads by default: every Conv still on int8, the same int8 output as without padding', async () => {
    const fp32 = residualDenoiser();
    const feeds = [0, 1, 2].map((s) => ({ noisy: { data: seeded(24 * 24, 30 + s).map((v) => 0.5 + 0.5 * v), dims: [1, 1, 24, 24] } }));
    const on = await quantizeStatic(fp32, feeds);
    const off = await quantizeStatic(fp32, feeds, { padInputs: 0 });
    expect(on.report.paddedInputs).toEqual([{ node: 'c1/Conv', from: 1, to: 4 }]);
    expect(off.report.paddedInputs).toEqual([]);
    const ops = await optimizedOpCounts(on.model);
    expect(ops.QLinearConv).toBe(5);
    expect(ops.Conv ?? 0).toBe(0);
    // The padded zeros lie inside the input's calibrated range: same scale, and zero weights add nothing.
    const x = { noisy: { data: seeded(2 * 20 * 28, 9).map((v) => 0.5 + 0.45 * v), dims: [2, 1, 20, 28] } };
    expect(maxAbs((await runModel(on.model, x)).denoised.data, (await runModel(off.model, x)).denoised.data)).toBeLessThan(1e-6);
    // Not with float image convs.
    expect((await quantizeStatic(fp32, feeds, { keepFloat: 'image-convs' })).report.paddedInputs).toEqual([]);
  });
});
