/**
 * Mean squared error between two equally long arrays, accumulated in float64.
 * Shared by PSNR and the training/evaluation reports.
 */

/** Any array of numbers (typed arrays included). */
export type NumericArray = ArrayLike<number>;

/** @throws {RangeError} when the lengths differ or are zero */
export function checkSameLength(a: NumericArray, b: NumericArray, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: arrays differ in length (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new RangeError(`${what}: arrays are empty`);
}

/**
 * Mean of (a[i] − b[i])² over all elements.
 * @throws {RangeError} when the lengths differ or are zero
 */
export function mse(a: NumericArray, b: NumericArray): number {
  checkSameLength(a, b, 'mse');
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    sum += d * d;
  }
  return sum / a.length;
}
