/** Reflect padding matches numpy's 'reflect' mode (hand-computed) and the crop inverts it. */
import { cropNhwc, padAmount, reflectPadNhwc } from '../../../src/tensor/pad';

describe('reflect padding', () => {
  it('pads bottom/right without repeating the edge', () => {
    // 1 image, 2×3, 1 channel: [[1,2,3],[4,5,6]] padded by 1 row and 2 columns.
    const out = reflectPadNhwc(Float32Array.from([1, 2, 3, 4, 5, 6]), 1, 2, 3, 1, 1, 2);
    expect(Array.from(out)).toEqual([1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1]);
  });

  it('crop undoes the pad, per channel and per image', () => {
    const src = Float32Array.from({ length: 2 * 3 * 5 * 2 }, (_, i) => i);
    const padded = reflectPadNhwc(src, 2, 3, 5, 2, 1, 3);
    expect(Array.from(cropNhwc(padded, 2, 4, 8, 2, 3, 5))).toEqual(Array.from(src));
  });

  it('repeats the edge where a side is too short to mirror (the export: reflect min(pad, side − 1), then edge)', () => {
    // Row [1, 2] padded by 2: reflect one ([1, 2, 1]), then the edge ([1, 2, 1, 1]).
    expect(Array.from(reflectPadNhwc(Float32Array.from([1, 2]), 1, 1, 2, 1, 0, 2))).toEqual([1, 2, 1, 1]);
    // A 1×1 image padded by 3 both ways: its value everywhere.
    expect(Array.from(reflectPadNhwc(Float32Array.of(7), 1, 1, 1, 1, 3, 3))).toEqual(new Array(16).fill(7));
    // A 1-row, 2-channel image: each channel on its own.
    expect(Array.from(reflectPadNhwc(Float32Array.from([1, 10, 2, 20]), 1, 1, 2, 2, 1, 0))).toEqual([1, 10, 2, 20, 1, 10, 2, 20]);
  });

  it('padAmount reaches the next multiple', () => {
    expect([28, 30, 321, 481, 1].map((s) => padAmount(s, 4))).toEqual([0, 2, 3, 3, 3]);
  });
});
