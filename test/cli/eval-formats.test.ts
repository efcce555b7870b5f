/**
 * `onnxtune eval <model> --data <folder> --sigma 25` reads the classic test sets in their usual
 * distributions: a folder of BMP files (8-bit gray palette, as classic5/LIVE1 ship; 24-bit colour,
 * as Set14 ships) and one of PGM/PPM files give exactly the numbers of the same pixels saved as PNG.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { GraphBuilder } from '../../src/onnx/builder';
import { saveModel } from '../../src/onnx/model-io';
import { writeBmp, writePnm } from '../helpers/image-files';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

interface Summary {
  method: string;
  sigma: number;
  psnr: number;
  ssim: number;
  noisyPsnr: number;
}

describe('onnxtune eval on BMP and PGM/PPM folders', () => {
  const dir = tmpDir();
  const models = { 1: path.join(dir, 'smooth1.onnx'), 3: path.join(dir, 'smooth3.onnx') };
  const sizes = [
    [33, 27],
    [40, 31],
  ];

  /** A smooth image with an edge, so the 3×3 model and the noise both matter. */
  function image(w: number, h: number, channels: 1 | 3, seed: number): Uint8Array {
    return Uint8Array.from({ length: w * h * channels }, (_, i) => {
      const p = Math.floor(i / channels);
      const x = p % w;
      const y = Math.floor(p / w);
      return Math.round(40 + 150 * (x > w / 2 ? 1 : 0) + 50 * Math.sin((x + y + seed + (i % channels) * 5) / 4)) & 255;
    });
  }

  beforeAll(async () => {
    // A fixed 3×3 box blur per channel with a dynamic input size: a real (if poor) denoiser.
    for (const c of [1, 3] as const) {
      const b = new GraphBuilder();
      b.addInput('x', ['n', c, 'h', 'w']);
      b.addInitializer('k', [c, 1, 3, 3], new Float32Array(9 * c).fill(1 / 9));
      b.addNode('Conv', ['x', 'k'], ['y'], { pads: [1, 1, 1, 1], group: c });
      b.addOutput('y', ['n', c, 'h', 'w']);
      saveModel(b.toModel({ opset: 17 }), models[c]);
    }

    for (const sub of ['bmp', 'bmp-png', 'pnm', 'pnm-png']) fs.mkdirSync(path.join(dir, sub));
    for (const [i, [w, h]] of sizes.entries()) {
      const gray = image(w, h, 1, i);
      const rgb = image(w, h, 3, i + 7);
      const grayPalette = Array.from({ length: 256 }, (_, v) => [v, v, v] as [number, number, number]);
      fs.writeFileSync(path.join(dir, 'bmp', `gray${i}.bmp`), writeBmp({ width: w, height: h, bpp: 8, palette: grayPalette, indices: gray }));
      fs.writeFileSync(path.join(dir, 'bmp', `rgb${i}.bmp`), writeBmp({ width: w, height: h, bpp: 24, rgb }));
      fs.writeFileSync(path.join(dir, 'pnm', `gray${i}.pgm`), writePnm('P5', gray, 255, w, h));
      fs.writeFileSync(path.join(dir, 'pnm', `rgb${i}.ppm`), writePnm('P6', rgb, 255, w, h));
      for (const sub of ['bmp-png', 'pnm-png']) {
        await sharp(gray, { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(dir, sub, `gray${i}.png`));
        await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, sub, `rgb${i}.png`));
      }
    }
  });

  async function evalJson(data: string, channels: 1 | 3): Promise<{ summaries: Summary[]; rows: unknown[] }> {
    const out = path.join(dir, `out-${path.basename(data)}-${channels}`);
    const args = ['eval', models[channels], '--data', data, '--sigma', '25', '--baseline', 'gaussian', '--device', 'cpu', '--out', out];
    const r = await runCli(args);
    if (r.code !== 0) throw new Error(`eval exited ${r.code}: ${r.stderr}`);
    return JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
  }

  for (const [kind, pngDir] of [['bmp', 'bmp-png'], ['pnm', 'pnm-png']] as const) {
    for (const channels of [1, 3] as const) {
      it(`${kind} files give the same --sigma 25 numbers as the same pixels in PNG (${channels}-channel model)`, async () => {
        const a = await evalJson(path.join(dir, kind), channels);
        const b = await evalJson(path.join(dir, pngDir), channels);
        expect(a.rows).toHaveLength(4 * 2); // 4 images × (model + gaussian)
        const strip = (s: Summary[]) => s.map(({ method, sigma, psnr, ssim, noisyPsnr }) => ({ method, sigma, psnr, ssim, noisyPsnr }));
        expect(strip(a.summaries)).toEqual(strip(b.summaries));
        expect(a.summaries.find((s) => s.method === `smooth${channels}.onnx`)!.psnr).toBeGreaterThan(10);
      });
    }
  }
});
