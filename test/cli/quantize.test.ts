/**
 * `onnxtune quantize` end to end on a tiny residual denoiser and a folder of small images written
 * here, then `eval --reference` (PSNR delta and max abs int8 vs float32) and `verify --image`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, saveModel } from '../../src/onnx/model-io';
import { getMetadata } from '../../src/onnx/metadata';
import { runCli } from '../helpers/cli';
import { writePnm } from '../helpers/image-files';
import { tmpDir } from '../helpers/tmp';
import { residualDenoiser } from '../converters/quantize-fixtures';

describe('onnxtune quantize', () => {
  const dir = tmpDir();
  const images = path.join(dir, 'images');
  const fp32 = path.join(dir, 'tiny.onnx');
  const int8 = path.join(dir, 'tiny.int8.onnx');
  beforeAll(() => {
    fs.mkdirSync(images);
    for (let k = 0; k < 4; k++) {
      const px = Array.from({ length: 32 * 24 }, (_, i) => Math.round(127 + 100 * Math.sin((i % 32) / (3 + k)) * Math.cos(Math.floor(i / 32) / 5)));
      fs.writeFileSync(path.join(images, `im${k}.pgm`), writePnm('P5', px, 255, 32, 24));
    }
    saveModel(residualDenoiser(), fp32);
  });

  it('writes a QDQ model calibrated on noisy images and reports what runs on int8', async () => {
    const r = await runCli(['quantize', fp32, '--calibrate', images, '--sigma', '25', '--keep-float', 'image-convs', '--out', int8, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.method).toBe('percentile');
    expect(rep.quantized).toHaveLength(3);
    expect(rep.keptFloat.map((k: { node: string }) => k.node)).toEqual(['c1/Conv', 'c5/Conv']);
    expect(rep.onnxruntimeOps.QLinearConv).toBe(3);
    expect(rep.diff.maxAbs).toBeGreaterThan(0);
    expect(rep.diff.maxAbs).toBeLessThan(0.05);
    const meta = JSON.parse(getMetadata(loadModel(int8))['onnxtune.quantization']);
    expect(meta.calibration).toMatchObject({ inputs: 4, images: ['im0.pgm', 'im1.pgm', 'im2.pgm', 'im3.pgm'], noise: 'gaussian sigma 25 seed 0' });
  });

  it('eval --reference reports the PSNR delta and max abs output difference against the float model', async () => {
    const r = await runCli(['eval', int8, '--reference', fp32, '--data', images, '--sigma', '25', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const [m, ref] = out.summaries;
    expect(out.reference.perSigma).toHaveLength(1);
    expect(out.reference.perSigma[0].psnrDelta).toBeCloseTo(m.psnr - ref.psnr, 10);
    expect(out.reference.perSigma[0].maxAbs).toBeGreaterThan(0);
    expect(out.reference.perSigma[0].maxAbs).toBeLessThan(0.05);
  });

  it('verify --image compares the two models on a noisy image', async () => {
    const r = await runCli(['verify', fp32, int8, '--image', path.join(images, 'im0.pgm'), '--sigma', '25', '--atol', '0.05', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.inputs[0].dims).toEqual([1, 1, 24, 32]);
    expect(out.outputs[0].maxAbs).toBeGreaterThan(0);
  });

  it('refuses --sigma with --pairs (usage error)', async () => {
    const r = await runCli(['quantize', fp32, '--calibrate', images, '--sigma', '25', '--pairs', '--out', int8]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sigma and --pairs/);
  });
});
