/** Inference bench helpers: finding exported models under runs/ and the speed ratio against DnCNN. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findExportedModels, withDncnnRatios, type InferenceResult } from '../../../bench/inference';
import { putFileWithMtime, tmpDir } from '../../helpers/tmp';

describe('findExportedModels', () => {
  it('lists <run>/export/*.onnx, keeping the newest of files with the same name', () => {
    const runs = tmpDir();
    const put = (rel: string, mtime: number) => putFileWithMtime(runs, rel, mtime);
    put('mnist-dae-1/export/mnist-denoiser.onnx', 1000);
    const newer = put('mnist-dae-2/export/mnist-denoiser.onnx', 2000);
    const other = put('bsd68-1/export/bsd68.onnx', 1500);
    put('bsd68-1/export/run.json', 1500);
    put('bsd68-1/encoder/encoder.onnx', 1500);
    expect(findExportedModels(runs)).toEqual([other, newer].sort());
  });

  it('is empty when the folder does not exist', () => {
    expect(findExportedModels(path.join(tmpDir(), 'missing'))).toEqual([]);
  });
});

describe('withDncnnRatios', () => {
  const row = (model: string, size: string, msBest: number): InferenceResult => ({ model, size, msBest, msMedian: msBest, megapixelsPerSecond: 1 });

  it('divides the reference time by each model time of the same size', () => {
    const rows = [row('a.onnx', '256×256', 100), row('a.onnx', '512×512', 400), row('dncnn_25.onnx', '256×256', 800), row('dncnn_25.onnx', '512×512', 2000)];
    const out = withDncnnRatios(rows, 'dncnn_25.onnx');
    expect(out.map((r) => r.speedVsDncnn)).toEqual([8, 5, undefined, undefined]);
  });

  it('leaves rows alone without a reference or a matching size', () => {
    const rows = [row('a.onnx', '256×256', 100), row('dncnn_25.onnx', '512×512', 2000)];
    expect(withDncnnRatios(rows, undefined)).toEqual(rows);
    expect(withDncnnRatios(rows, 'dncnn_25.onnx')[0].speedVsDncnn).toBeUndefined();
  });
});
