/** float16 packing against hand-computed bit patterns and round-trip error bounds. */
import { float16ToFloat32, float32ToFloat16, fromHalf, toHalf } from '../../../src/tensor/fp16';

describe('fp16', () => {
  it.each([
    [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [0, 0x0000], [Infinity, 0x7c00], [1e6, 0x7c00],
    [1 / 3, 0x3555], [2 ** -14, 0x0400],
  ])('toHalf(%p) = 0x%s', (value, bits) => {
    expect(toHalf(value)).toBe(bits);
    if (Number.isFinite(value) && value < 65520) expect(Math.abs(fromHalf(bits) - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -11);
  });

  it('rounds half to even', () => {
    // 1 + 2^-11 is exactly between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1).
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('NaN stays NaN', () => {
    expect(fromHalf(toHalf(NaN))).toBeNaN();
  });

  it('array round trip keeps relative error below 2^-11 in the normal range', () => {
    const src = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 100);
    const back = float16ToFloat32(float32ToFloat16(src));
    for (let i = 0; i < src.length; i++) {
      expect(Math.abs(back[i] - src[i])).toBeLessThanOrEqual(Math.max(Math.abs(src[i]) * 2 ** -11, 2 ** -24));
    }
  });
});
