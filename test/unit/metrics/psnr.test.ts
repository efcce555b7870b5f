/** MSE and PSNR against hand-computed values. */
import { mse } from '../../../src/metrics/mse';
import { batchPsnr, meanPsnr, psnr } from '../../../src/metrics/psnr';

describe('mse', () => {
  it('averages squared differences', () => {
    expect(mse([0, 0, 0, 0], [1, 0, -1, 2])).toBeCloseTo((1 + 0 + 1 + 4) / 4, 12);
    expect(mse(new Float32Array([0.5]), new Float32Array([0.5]))).toBe(0);
  });
  it('rejects mismatched or empty inputs', () => {
    expect(() => mse([1, 2], [1])).toThrow(RangeError);
    expect(() => mse([], [])).toThrow(RangeError);
  });
});

describe('psnr', () => {
  it('is 20 dB for a constant offset of 0.1 (MSE 0.01, peak 1)', () => {
    const clean = new Float64Array(64).fill(0.5);
    const out = clean.map((v) => v + 0.1);
    expect(psnr(out, clean)).toBeCloseTo(20, 10);
    expect(psnr(clean.map((v) => v - 0.1), clean)).toBeCloseTo(20, 10);
  });

  it('is Infinity for identical images', () => {
    const a = new Float32Array([0, 0.25, 1]);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('clips the output (only) to [0, 1] by default', () => {
    const clean = [1, 0, 0.5, 0.5];
    const out = [1.5, -0.5, 0.6, 0.4]; // after clipping: [1, 0, 0.6, 0.4] → MSE = 0.02/4 = 0.005
    expect(psnr(out, clean)).toBeCloseTo(10 * Math.log10(1 / 0.005), 10);
    // without clipping: MSE = (0.25 + 0.25 + 0.01 + 0.01) / 4 = 0.13
    expect(psnr(out, clean, { clip: false })).toBeCloseTo(10 * Math.log10(1 / 0.13), 10);
  });

  it('honours the peak', () => {
    // 0–255 scale, offset 2.55: PSNR = 10·log10(255² / 2.55²) = 40 dB.
    const clean = new Array(10).fill(100);
    const out = clean.map((v) => v + 2.55);
    expect(psnr(out, clean, { peak: 255 })).toBeCloseTo(40, 10);
  });

  it('averages per-image PSNR over an [N, H, W, C] batch', () => {
    const clean = new Float32Array(2 * 2 * 2 * 1).fill(0.5);
    const out = Float32Array.from(clean);
    for (let i = 0; i < 4; i++) out[i] += 0.1; // image 0: 20 dB
    for (let i = 4; i < 8; i++) out[i] += 0.01; // image 1: 40 dB
    const per = batchPsnr(out, clean, [2, 2, 2, 1]);
    // float32 storage of 0.6/0.51 limits agreement to ~1e-5 dB.
    expect(per[0]).toBeCloseTo(20, 4);
    expect(per[1]).toBeCloseTo(40, 4);
    expect(meanPsnr(out, clean, [2, 2, 2, 1])).toBeCloseTo(30, 4);
    expect(() => meanPsnr(out, clean, [3, 2, 2, 1])).toThrow(/does not match/);
  });
});
