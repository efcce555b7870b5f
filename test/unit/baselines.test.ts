/** Baseline filters against hand-computed values. */
import { bilateralFilter, gaussianBlur, medianFilter, nonLocalMeans } from '../../src/baselines/filters';

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

describe('bilateral and non-local means', () => {
  const W = 32;
  const H = 24;
  const clean = Float32Array.from({ length: W * H }, (_, i) => ((i % W) < 16 ? 0.2 : 0.8)); // a vertical edge
  const rng = (() => {
    let s = 12345;
    return () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
  })();
  const noisy = clean.map((v) => v + 0.2 * rng());
  const mse = (a: Float32Array) => a.reduce((acc, v, i) => acc + (v - clean[i]) ** 2, 0) / a.length;

  it('keep constants and reduce noise while keeping the edge', () => {
    const flat = new Float32Array(W * H).fill(0.4);
    expect(Math.max(...Array.from(bilateralFilter(flat, W, H, 1, 0.1), (v) => Math.abs(v - 0.4)))).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(nonLocalMeans(flat, W, H, 1, 0.05), (v) => Math.abs(v - 0.4)))).toBeLessThan(1e-6);
    const b = bilateralFilter(noisy, W, H, 1, 0.2);
    const n = nonLocalMeans(noisy, W, H, 1, 0.2 / Math.sqrt(12), 0.6);
    expect(mse(b)).toBeLessThan(mse(noisy) / 2);
    expect(mse(n)).toBeLessThan(mse(noisy) / 2);
    // The edge survives: columns either side of it stay apart.
    for (const out of [b, n]) expect(out[5 * W + 17] - out[5 * W + 14]).toBeGreaterThan(0.4);
  });

  it('NLM with a tiny h is the identity (only the pixel itself gets weight)', () => {
    const out = nonLocalMeans(noisy, W, H, 1, 1e-6, 1e-3, 1, 2);
    expect(out).toBeCloseToArray(noisy, { atol: 1e-6 });
  });
});
