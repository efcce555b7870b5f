/**
 * `expect(actual).toBeCloseToArray(expected, { atol, rtol })`: checks length, then values,
 * and on failure reports the first bad index, max abs/rel error and how many exceed tolerance.
 */
type NumArray = ArrayLike<number>;

export interface Tolerance {
  atol: number;
  rtol?: number;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      toBeCloseToArray(expected: NumArray, tol: Tolerance): R;
    }
  }
}

expect.extend({
  toBeCloseToArray(actual: NumArray, expected: NumArray, tol: Tolerance) {
    const rtol = tol.rtol ?? 0;
    if (actual.length !== expected.length) {
      return { pass: false, message: () => `length ${actual.length} != expected ${expected.length}` };
    }
    let maxAbs = 0;
    let maxRel = 0;
    let bad = 0;
    let firstBad = -1;
    for (let i = 0; i < actual.length; i++) {
      const a = actual[i];
      const e = expected[i];
      const d = Math.abs(a - e);
      if (!(d <= tol.atol + rtol * Math.abs(e))) {
        bad += 1;
        if (firstBad < 0) firstBad = i;
      }
      if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Infinity : d;
      const r = d / Math.max(Math.abs(e), 1e-12);
      if (r > maxRel) maxRel = r;
    }
    const summary = `max abs ${maxAbs.toExponential(3)}, max rel ${maxRel.toExponential(3)}, ${bad}/${actual.length} above atol ${tol.atol} rtol ${rtol}`;
    return {
      pass: bad === 0,
      message: () =>
        bad === 0
          ? `expected arrays to differ, but ${summary}`
          : `first bad index ${firstBad}: ${actual[firstBad]} vs ${expected[firstBad]}; ${summary}`,
    };
  },
});

export {};
