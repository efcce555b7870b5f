/** NCHW ↔ NHWC, row gathering and concatenation against hand-written arrays. */
import { concatBytes, concatFloat32, gatherRows, nchwToNhwc, nhwcToNchw } from '../../../src/tensor/layout';

describe('tensor layout helpers', () => {
  it('NCHW → NHWC puts channels last, and back', () => {
    // 1 image, 2 channels, 1×3: channel 0 = [0, 1, 2], channel 1 = [10, 11, 12].
    const nchw = Float32Array.from([0, 1, 2, 10, 11, 12]);
    const nhwc = nchwToNhwc(nchw, 1, 2, 1, 3);
    expect(Array.from(nhwc)).toEqual([0, 10, 1, 11, 2, 12]);
    expect(Array.from(nhwcToNchw(nhwc, 1, 1, 3, 2))).toEqual(Array.from(nchw));
  });

  it('gathers rows in the given order, repeats allowed', () => {
    const rows = Float32Array.from([0, 1, 10, 11, 20, 21]);
    expect(Array.from(gatherRows(rows, 2, [2, 0, 2]))).toEqual([20, 21, 0, 1, 20, 21]);
  });

  it('concatenates float and byte arrays in order, empty parts included', () => {
    expect(Array.from(concatFloat32([Float32Array.of(1.5), new Float32Array(0), Float32Array.of(2, 3)]))).toEqual([1.5, 2, 3]);
    expect(Array.from(concatBytes([Uint8Array.of(255), Uint8Array.of(0, 7)]))).toEqual([255, 0, 7]);
    expect(concatBytes([]).length).toBe(0);
  });
});
