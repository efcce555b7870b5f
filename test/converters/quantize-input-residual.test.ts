/**
 * input-residual.ts: a zero-padded 1-channel input (the image) gets its 8-bit rounding error, scaled by F, in the first
 * padding channel, and the Convs reading it the image weights ÷ F. References: the hand-computed factor rule, the int8
 * weights of the new channel (the image channel's ÷ F, rounded), onnxruntime running the int8 model with and without
 * the pass (closer to float with it; every Conv still int8).
 */
import { compareOutputs, optimizedOpCounts, quantizeStatic, residualFactor, MAX_RESIDUAL_FACTOR } from '../../converters/quantize-static';
import type { FloatTensor } from '../../src/backends/ort';
import type { onnx } from '../../src/onnx/proto';
import { tensorDims } from '../../src/onnx/tensor';
import { seeded } from '../onnx/fixtures';
import { residualDenoiser, unetDenoiser } from './quantize-fixtures';

// Noisy images as the protocol makes them (not clipped): values below 0 and above 1.
const feed = (h: number, w: number, seed: number): Record<string, FloatTensor> => ({ noisy: { data: seeded(h * w, seed).map((v) => 0.5 + 0.7 * v), dims: [1, 1, h, w] } });
const calib = [feed(16, 16, 31), feed(16, 16, 32), feed(16, 16, 33), feed(16, 16, 34)];

function int8Weights(model: onnx.ModelProto, conv: string): { dims: number[]; w: Int8Array } {
  const g = model.graph as onnx.GraphProto;
  const n = g.node.find((x) => x.name === conv) as onnx.NodeProto;
  const dq = g.node.find((x) => x.output?.[0] === n.input?.[1]) as onnx.NodeProto;
  const t = g.initializer.find((x) => x.name === dq.input?.[0]) as onnx.TensorProto;
  return { dims: tensorDims(t), w: new Int8Array(new Uint8Array(t.rawData as Uint8Array).slice().buffer) };
}

describe('the image rounding error in a padding channel', () => {
  it('factor: the largest power of two ≤ 16 whose half-range fits on both sides of the zero point', () => {
    expect(MAX_RESIDUAL_FACTOR).toBe(16);
    expect(residualFactor({ scale: 0.007, zeroPoint: 57 })).toBe(16);
    expect(residualFactor({ scale: 0.007, zeroPoint: 3 })).toBe(4); // 4·step/2 = 2 steps ≤ 3 below the zero point
    expect(residualFactor({ scale: 0.007, zeroPoint: 1 })).toBe(2);
    expect(residualFactor({ scale: 0.007, zeroPoint: 0 })).toBe(1); // nothing below 0: not applied
    expect(residualFactor({ scale: 0.007, zeroPoint: 255 })).toBe(1);
  });

  it("fills the first padding channel, sets its int8 weights to the image's ÷ F, and brings int8 closer to float", async () => {
    for (const fp32 of [residualDenoiser(), unetDenoiser()]) {
      const [off, on] = [await quantizeStatic(fp32, calib, { inputResidual: false }), await quantizeStatic(fp32, calib)];
      expect(off.report.inputResiduals).toEqual([]);
      expect(on.report.inputResiduals.length).toBeGreaterThan(0);
      for (const r of on.report.inputResiduals) {
        expect(r.factor).toBe(16);
        for (const conv of r.convs) {
          const { dims, w } = int8Weights(on.model, conv);
          const [cout, cin, kh, kw] = dims;
          const k = kh * kw;
          // The image is one channel of the Conv's input at some offset; the next channel holds its weights ÷ 16.
          const matches = Array.from({ length: cin - 1 }, (_, c) => c).filter((c) => {
            for (let o = 0; o < cout; o++) for (let j = 0; j < k; j++) if (w[(o * cin + c + 1) * k + j] !== Math.round(w[(o * cin + c) * k + j] / 16)) return false;
            return w.some((v, i) => Math.floor(i / k) % cin === c + 1 && v !== 0);
          });
          expect(matches.length).toBeGreaterThan(0);
        }
      }
      // Every Conv still runs on int8 in onnxruntime.
      expect((await optimizedOpCounts(on.model)).Conv ?? 0).toBe(0);
      const test = [feed(24, 20, 77), feed(20, 24, 78)];
      const [dOff, dOn] = [await compareOutputs(fp32, off.model, test), await compareOutputs(fp32, on.model, test)];
      expect(dOn.meanAbs).toBeLessThan(dOff.meanAbs);
    }
  });

  it('adds nothing for a non-negative image (no room below its zero point)', async () => {
    const fp32 = residualDenoiser();
    const clipped = calib.map((f) => ({ noisy: { ...f.noisy, data: f.noisy.data.map((v) => Math.min(1, Math.max(0, v))) } }));
    expect((await quantizeStatic(fp32, clipped)).report.inputResiduals).toEqual([]);
  });
});
