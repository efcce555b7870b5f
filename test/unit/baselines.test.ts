/** Baseline filters against hand-computed values. */
import { gaussianBlur, medianFilter } from '../../src/baselines/filters';

describe('baseline filters', () => {
  it('gaussian blur keeps constants and mass, and matches a hand-computed 1-D case', () => {
    const flat = new Float32Array(5 * 4).fill(0.7);
    expect(Array.from(gaussianBlur(flat, 5, 4, 1, 1.2))).toEqual(Array.from(flat).map(() => expect.closeTo(0.7, 6)));
    // A single bright pixel in a 1-row image: the centre weight is 1 / Σ exp(-(i²)/2σ²), i = -3..3 for σ = 1.
    const img = new Float32Array(9);
    img[4] = 1;
    const w = [-3, -2, -1, 0, 1, 2, 3].map((i) => Math.exp(-(i * i) / 2));
    const total = w.reduce((a, b) => a + b, 0);
    const out = gaussianBlur(img, 9, 1, 1, 1); // vertical pass on 1 row reflects onto itself: Σ weights = 1
    expect(out[4]).toBeCloseTo(1 / total, 6);
    expect(out[5]).toBeCloseTo(Math.exp(-0.5) / total, 6);
  });

  it('median removes an impulse and keeps edges', () => {
    const img = Float32Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(medianFilter(img, 3, 3, 1, 3)[4]).toBe(0);
    const edge = Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(medianFilter(edge, 4, 3, 1, 3))).toEqual(Array.from(edge));
    expect(() => medianFilter(img, 3, 3, 1, 4)).toThrow(/odd/);
  });
});
