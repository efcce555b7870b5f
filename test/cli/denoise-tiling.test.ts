/**
 * Tiled vs untiled `onnxtune denoise` on a 512×512 image: the tiled output (the default 256/64/16
 * and a small 128/32) may differ from one whole-image run by at most 1e-3 max abs. The model is a real
 * export of the project's pipeline (the quick MNIST job: frozen conv encoder with stride 4 and a
 * U-Net head, so each output pixel sees a neighbourhood and tile borders matter). The image is the
 * tiling bench's seeded picture: smooth gradients, a sinusoid, hard-edged shapes and Gaussian noise. Measured through
 * `openDenoiser().run`, what `denoise` calls per image, and through the CLI on a 16-bit PNG; the
 * measured values are printed on stderr.
 */
import * as path from 'node:path';
import { structuredImage } from '../../bench/denoise-large';
import { runJob } from '../../pipeline/runner';
import { readImage } from '../../src/images/png';
import { writeImage } from '../../src/images/write';
import { openDenoiser, type OnnxDenoiser } from '../../src/inference/onnx-denoiser';
import { runCli } from '../helpers/cli';
import { quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

const SIZE = 512;
const TOLERANCE = 1e-3;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function report(line: string): void {
  process.stderr.write(`denoise tiling, ${SIZE}×${SIZE}: ${line}\n`);
}

describe('onnxtune denoise: tiled vs untiled', () => {
  const dir = tmpDir('onnxtune-tiling-');
  const image = structuredImage(SIZE, SIZE, 1, 1); // gray
  let model: string;
  let d: OnnxDenoiser;
  let untiled: Float32Array;

  beforeAll(async () => {
    const r = await runJob({ jobFile: writeJob(dir, quickJob()), outDir: path.join(dir, 'run'), until: 'export' });
    model = path.join(r.runDir, 'export', 'denoiser.onnx');
    d = await openDenoiser(model, { device: 'cpu' });
    // One tile as large as the image: the whole image in one model call.
    untiled = await d.run(image, SIZE, SIZE, { tile: SIZE });
    expect(d.lastTiles()).toBe(1);
  });

  afterAll(async () => {
    await d?.release();
  });

  it('uses a model whose output depends on neighbours (a tile run alone differs from the whole image at its inner border)', async () => {
    const T = 256;
    const tile = new Float32Array(T * T);
    for (let y = 0; y < T; y++) tile.set(image.subarray(y * SIZE, y * SIZE + T), y * T);
    const alone = await d.run(tile, T, T, { tile: T });
    let border = 0;
    for (let y = 0; y < T - 16; y++) border = Math.max(border, Math.abs(alone[y * T + T - 1] - untiled[y * SIZE + T - 1]));
    report(`a 256×256 tile run alone vs the whole image on its inner border column: max abs ${border.toExponential(3)}`);
    expect(border).toBeGreaterThan(TOLERANCE);
  });

  it.each([
    ['the default tiling (256, overlap 64, margin 16)', undefined, 9],
    ['tile 128, overlap 32 (margin 15)', { tile: 128, overlap: 32 }, 25],
  ] as const)('%s stays within 1e-3 max abs of the untiled result', async (name, opts, tiles) => {
    const tiled = await d.run(image, SIZE, SIZE, opts);
    expect(d.lastTiles()).toBe(tiles);
    const maxAbs = maxAbsDiff(tiled, untiled);
    report(`${name}, ${tiles} tiles: max abs ${maxAbs.toExponential(3)} (limit ${TOLERANCE})`);
    expect(maxAbs).toBeLessThanOrEqual(TOLERANCE);
  });

  it('without a context margin (tile edges that saw padding keep weight) the same tiling misses 1e-3: the margin is what holds it', async () => {
    const tiled = await d.run(image, SIZE, SIZE, { tile: 128, overlap: 32, margin: 0 });
    const maxAbs = maxAbsDiff(tiled, untiled);
    report(`tile 128, overlap 32, margin 0: max abs ${maxAbs.toExponential(3)} (expected above ${TOLERANCE})`);
    expect(maxAbs).toBeGreaterThan(TOLERANCE);
  });

  it('the CLI with default tiling matches the CLI with one whole-image tile within 1e-3 (16-bit PNG in and out)', async () => {
    const input = path.join(dir, 'structured.png');
    await writeImage(input, image, SIZE, SIZE, 1, 16);
    const outs: Float32Array[] = [];
    for (const [out, extra] of [['whole', ['--tile', String(SIZE)]], ['tiled', []]] as const) {
      const r = await runCli(['denoise', model, input, '--out', path.join(dir, out), '--device', 'cpu', ...extra]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`structured\\.png\\s+512×512×1\\s+${out === 'whole' ? 1 : 9}\\s`));
      const img = await readImage(path.join(dir, out, 'structured.png'));
      expect([img.width, img.height, img.channels]).toEqual([SIZE, SIZE, 1]);
      outs.push(img.data);
    }
    const maxAbs = maxAbsDiff(outs[1], outs[0]);
    report(`CLI default tiling vs --tile ${SIZE} (16-bit files): max abs ${maxAbs.toExponential(3)} (limit ${TOLERANCE} + 1/65535)`);
    expect(maxAbs).toBeLessThanOrEqual(TOLERANCE + 1 / 65535);
  });
});
