/** denoise-large bench helpers: `/usr/bin/time -v` parsing, the newest exported model, the seeded test picture. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newestExportedModel, parseTimeVerbose, structuredImage } from '../../../bench/denoise-large';
import { putFileWithMtime, tmpDir } from '../../helpers/tmp';

describe('parseTimeVerbose', () => {
  it('reads peak RSS, exit status and wall time (m:ss and h:mm:ss)', () => {
    const text = [
      'Command exited with non-zero status 2',
      '\tCommand being timed: "node bin/onnxtune.js denoise m.onnx a.jpg --out o"',
      '\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50',
      '\tMaximum resident set size (kbytes): 812345',
      '\tExit status: 2',
    ].join('\n');
    expect(parseTimeVerbose(text)).toEqual({ maxRssKb: 812345, exitStatus: 2, wallSeconds: 62.5 });
    expect(parseTimeVerbose('\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:00:03\n').wallSeconds).toBe(3603);
    expect(parseTimeVerbose('no time output')).toEqual({ maxRssKb: undefined, exitStatus: undefined, wallSeconds: undefined });
  });
});

describe('newestExportedModel', () => {
  it('picks the most recently written runs/<run>/export/*.onnx, or undefined', () => {
    const runs = tmpDir();
    expect(newestExportedModel(runs)).toBeUndefined();
    const put = (rel: string, mtime: number) => putFileWithMtime(runs, rel, mtime);
    put('a/export/mnist-denoiser.onnx', 1000);
    const newest = put('b/export/bsd68.onnx', 3000);
    put('c/export/color.onnx', 2000);
    put('d/encoder/encoder.onnx', 4000);
    expect(newestExportedModel(runs)).toBe(newest);
  });
});

describe('structuredImage', () => {
  it('is seeded, in [0, 1], and has both smooth and noisy structure', () => {
    const a = structuredImage(64, 48, 3, 1);
    expect(a).toHaveLength(64 * 48 * 3);
    expect(structuredImage(64, 48, 3, 1)).toEqual(a);
    expect(structuredImage(64, 48, 3, 2)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    // Channels differ (per-channel gradients), and neighbours differ by noise.
    expect(a[0]).not.toBe(a[1]);
    expect(a[3]).not.toBe(a[0]);
  });
});
