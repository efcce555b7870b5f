/** PNG write/read round trips (8/16-bit, gray/RGB, alpha) and error reporting. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../../src/errors';
import { encodePng, readImage, toUint8, writePng } from '../../../src/images/png';
import { writeImage } from '../../../src/images/write';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-png-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('toUint8', () => {
  it('clips, rounds to the nearest 1/255 step and maps NaN to 0', () => {
    expect(Array.from(toUint8([-0.2, 0, 0.5, 1 / 255, 0.999, 1, 3, NaN]))).toEqual([0, 0, 128, 1, 255, 255, 255, 0]);
  });
});

describe('writePng / readImage', () => {
  for (const channels of [1, 3] as const) {
    it(`round-trips a ${channels === 1 ? 'gray' : 'RGB'} image exactly on the 8-bit grid`, async () => {
      const width = 5;
      const height = 4;
      const data = Float32Array.from({ length: width * height * channels }, (_, i) => ((i * 37) % 256) / 255);
      const file = path.join(dir, `rt-${channels}`, 'img.png'); // parent folder is created
      await writePng(file, data, width, height, channels);
      const img = await readImage(file);
      expect({ width: img.width, height: img.height, channels: img.channels }).toEqual({ width, height, channels });
      expect(img.data).toBeCloseToArray(data, { atol: 1e-7 });
      const meta = await sharp(file).metadata();
      expect(meta.channels).toBe(channels);
      expect(fs.readdirSync(path.dirname(file))).toEqual(['img.png']); // no temp files left
    });
  }

  it('writes off-grid values rounded (0.3·255 = 76.5 → 77, 0.71·255 = 181.05 → 181) and clipped', async () => {
    const file = path.join(dir, 'clip.png');
    await writePng(file, new Float32Array([-1, 0.3, 0.71, 2]), 2, 2, 1);
    const img = await readImage(file);
    expect(Array.from(img.data)).toEqual([0, 77 / 255, 181 / 255, 1].map(Math.fround));
  });

  it('reads 16-bit gray and RGB files with 1/65535 precision', async () => {
    const gray16 = new Uint16Array([0, 1000, 65535, 30000, 40000, 50000]);
    const g = path.join(dir, 'g16.png');
    await sharp(gray16, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('grey16').png().toFile(g);
    const gi = await readImage(g);
    expect(gi.channels).toBe(1);
    expect(gi.data).toBeCloseToArray(Array.from(gray16, (v) => v / 65535), { atol: 1e-7 });

    const rgb16 = Uint16Array.from({ length: 18 }, (_, i) => i * 3000);
    const c = path.join(dir, 'rgb16.png');
    await sharp(rgb16, { raw: { width: 3, height: 2, channels: 3 } }).toColourspace('rgb16').png().toFile(c);
    const ci = await readImage(c);
    expect(ci.channels).toBe(3);
    expect(ci.data).toBeCloseToArray(Array.from(rgb16, (v) => v / 65535), { atol: 1e-7 });
  });

  it('drops alpha: gray+alpha → 1 channel, RGBA → 3 channels', async () => {
    const ga = path.join(dir, 'ga.png');
    const grayAlpha = Buffer.from([10, 255, 20, 0]);
    await sharp(grayAlpha, { raw: { width: 2, height: 1, channels: 2 } }).toColourspace('b-w').png().toFile(ga);
    const gi = await readImage(ga);
    expect(gi.channels).toBe(1);
    expect(gi.data).toBeCloseToArray([10 / 255, 20 / 255], { atol: 1e-7 });
    const rgba = path.join(dir, 'rgba.png');
    const rgbaBytes = Buffer.from([1, 2, 3, 255, 4, 5, 6, 0]);
    await sharp(rgbaBytes, { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(rgba);
    const ci = await readImage(rgba);
    expect(ci.channels).toBe(3);
    expect(ci.data).toBeCloseToArray([1, 2, 3, 4, 5, 6].map((v) => v / 255), { atol: 1e-7 });
  });

  it('keepAlpha returns the alpha plane apart, 8- and 16-bit, gray and RGB; files without alpha give none', async () => {
    const ga = path.join(dir, 'ga-keep.png');
    await sharp(Buffer.from([10, 255, 20, 0, 30, 128]), { raw: { width: 3, height: 1, channels: 2 } }).toColourspace('b-w').png().toFile(ga);
    const gi = await readImage(ga, { keepAlpha: true });
    expect(gi.channels).toBe(1);
    expect(gi.data).toBeCloseToArray([10, 20, 30].map((v) => v / 255), { atol: 1e-7 });
    expect(gi.alpha).toBeCloseToArray([255, 0, 128].map((v) => v / 255), { atol: 1e-7 });
    const rgba16 = path.join(dir, 'rgba16.png');
    const px = Uint16Array.from([1000, 2000, 3000, 65535, 40000, 50000, 60000, 0]);
    await sharp(px, { raw: { width: 2, height: 1, channels: 4 } }).toColourspace('rgb16').png().toFile(rgba16);
    const ri = await readImage(rgba16, { keepAlpha: true });
    expect(ri.channels).toBe(3);
    expect(ri.data).toBeCloseToArray([1000, 2000, 3000, 40000, 50000, 60000].map((v) => v / 65535), { atol: 1e-7 });
    expect(ri.alpha).toBeCloseToArray([1, 0], { atol: 1e-7 });
    const opaque = path.join(dir, 'opaque.png');
    await sharp(Buffer.from([1, 2, 3]), { raw: { width: 1, height: 1, channels: 3 } }).png().toFile(opaque);
    expect((await readImage(opaque, { keepAlpha: true })).alpha).toBeUndefined();
  });

  it('writeImage stores an alpha plane (PNG 8/16-bit, WebP, TIFF) and leaves it out of JPEG', async () => {
    const rgb = Float32Array.from([0.2, 0.4, 0.6, 0.8, 0.6, 0.4]);
    const alpha = Float32Array.from([1, 0.5]);
    for (const [name, depth] of [['a8.png', 8], ['a16.png', 16], ['a.webp', 8], ['a.tif', 16]] as const) {
      const f = path.join(dir, name);
      await writeImage(f, rgb, 2, 1, 3, depth, alpha);
      const back = await readImage(f, { keepAlpha: true });
      const step = depth === 16 ? 1 / 65535 : 1 / 255;
      expect(back.data).toBeCloseToArray(Array.from(rgb), { atol: step });
      expect(back.alpha).toBeCloseToArray(Array.from(alpha), { atol: step });
    }
    const gray = path.join(dir, 'ga-out.png');
    await writeImage(gray, [0.25, 0.75], 2, 1, 1, 8, alpha);
    const g = await readImage(gray, { keepAlpha: true });
    expect([g.channels, ...Array.from(g.alpha ?? [], (v) => Math.round(v * 255))]).toEqual([1, 255, 128]);
    const jpg = path.join(dir, 'a.jpg');
    await writeImage(jpg, rgb, 2, 1, 3, 8, alpha);
    expect((await sharp(jpg).metadata()).hasAlpha).toBe(false);
  });

  it('throws InputError naming the file when it is missing or not an image', async () => {
    const missing = path.join(dir, 'missing.png');
    await expect(readImage(missing)).rejects.toThrow(InputError);
    await expect(readImage(missing)).rejects.toThrow(`${missing}: image file not found`);
    const junk = path.join(dir, 'junk.png');
    fs.writeFileSync(junk, 'not a png');
    await expect(readImage(junk)).rejects.toThrow(`${junk}: cannot decode image`);
  });

  it('applies a JPEG EXIF orientation: the pixels come upright, as a viewer shows the photo', async () => {
    // Stored 64×32: red left half, green top half. Orientation 6 shows it turned 90° clockwise (32×64), so stored
    // (x, y) appears at (31 − y, x): red on the top half, green on the right half.
    const [w, h] = [64, 32];
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) raw.set([x < 32 ? 255 : 0, y < 16 ? 255 : 0, 128], (y * w + x) * 3);
    }
    const file = path.join(dir, 'phone.jpg');
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(file);
    const img = await readImage(file);
    expect([img.width, img.height, img.channels]).toEqual([32, 64, 3]);
    const at = (x: number, y: number) => Array.from(img.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3), (v) => Math.round(v * 255));
    const close = (got: number[], want: number[]) => got.forEach((v, k) => expect(Math.abs(v - want[k])).toBeLessThan(12));
    close(at(8, 16), [255, 0, 128]); // top left: red
    close(at(24, 16), [255, 255, 128]); // top right: red + green
    close(at(8, 48), [0, 0, 128]); // bottom left: neither
    close(at(24, 48), [0, 255, 128]); // bottom right: green
  });

  it('rejects data that does not match the geometry', async () => {
    await expect(encodePng(new Float32Array(5), 2, 2, 1)).rejects.toThrow(RangeError);
    await expect(encodePng(new Float32Array(4), 2, 2, 2 as 1)).rejects.toThrow(/channels must be 1 or 3/);
  });
});
