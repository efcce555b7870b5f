/**
 * BMP and PGM/PPM decoding: every layout the denoising sets use, compared pixel for pixel with
 * sharp's decode of the same pixels written as PNG (an independent encoder/decoder), plus
 * hand-laid byte cases for orientation and the errors users see.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../../src/errors';
import { decodeBmp } from '../../../src/images/bmp';
import { decodeBuiltin, SUPPORTED_INPUT_FORMATS } from '../../../src/images/formats';
import { readImage } from '../../../src/images/png';
import { writeImage } from '../../../src/images/write';
import { decodePnm } from '../../../src/images/pnm';
import { DecodeError, rasterToRgba } from '../../../src/images/raster';
import { type BmpSpec, writeBmp, writePnm } from '../../helpers/image-files';
import { seeded } from '../../helpers/seeded';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-formats-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Deterministic uniform [0, 1) draws from the shared seeded() fixture values. */
function uniform(seed: number): () => number {
  const v = seeded(4096, seed);
  let i = 0;
  return () => (v[i++] + 1) / 2;
}

const W = 7; // odd width: exercises row padding at every bit depth
const H = 5;

/** Random 8-bit HWC pixels. */
function pixels(channels: 1 | 3, seed: number, levels = 256): Uint8Array {
  const rnd = uniform(seed);
  return Uint8Array.from({ length: W * H * channels }, () => Math.round((Math.floor(rnd() * levels) * 255) / (levels - 1)));
}

async function pngReference(name: string, data: Uint8Array | Uint16Array, channels: 1 | 3): Promise<Float32Array> {
  const file = path.join(dir, `${name}.png`);
  await sharp(data, { raw: { width: W, height: H, channels } })
    .toColourspace(channels === 1 ? (data instanceof Uint16Array ? 'grey16' : 'b-w') : data instanceof Uint16Array ? 'rgb16' : 'srgb')
    .png()
    .toFile(file);
  const ref = await readImage(file);
  expect(ref.channels).toBe(channels);
  return ref.data;
}

/** `levels` evenly spaced 8-bit gray values as a BGR palette. */
const grayPalette = (levels: number): [number, number, number][] =>
  Array.from({ length: levels }, (_, i) => {
    const v = Math.round((i * 255) / (levels - 1));
    return [v, v, v];
  });

describe('BMP', () => {
  const gray8 = pixels(1, 1);
  const rgb = pixels(3, 2);
  const rgb5 = pixels(3, 3, 32); // on the 5-bit grid
  const rgb565 = Uint8Array.from(rgb5, (v, i) => (i % 3 === 1 ? Math.round((Math.round((v * 63) / 255) * 255) / 63) : v));
  const colours: [number, number, number][] = [[0, 0, 255], [0, 255, 0], [255, 0, 0], [30, 60, 90], [200, 100, 50]];
  const colourIdx = Uint8Array.from(seededIndices(4, colours.length));
  const colourRgb = Uint8Array.from(Array.from(colourIdx).flatMap((i) => [colours[i][2], colours[i][1], colours[i][0]]));

  function seededIndices(seed: number, n: number): number[] {
    const rnd = uniform(seed);
    return Array.from({ length: W * H }, () => Math.floor(rnd() * n));
  }

  const cases: { name: string; spec: BmpSpec; ref: Uint8Array; channels: 1 | 3 }[] = [
    { name: '8-bit gray palette, bottom-up', spec: { width: W, height: H, bpp: 8, palette: grayPalette(256), indices: gray8 }, ref: gray8, channels: 1 },
    { name: '8-bit gray palette, top-down', spec: { width: W, height: H, bpp: 8, topDown: true, palette: grayPalette(256), indices: gray8 }, ref: gray8, channels: 1 },
    { name: '8-bit colour palette', spec: { width: W, height: H, bpp: 8, palette: colours, indices: colourIdx }, ref: colourRgb, channels: 3 },
    { name: '4-bit colour palette', spec: { width: W, height: H, bpp: 4, palette: colours, indices: colourIdx }, ref: colourRgb, channels: 3 },
    {
      name: '1-bit palette (black/white)',
      spec: { width: W, height: H, bpp: 1, palette: grayPalette(2), indices: Uint8Array.from(seededIndices(5, 2)) },
      ref: Uint8Array.from(seededIndices(5, 2), (i) => i * 255),
      channels: 1,
    },
    { name: '8-bit palette, OS/2 core header', spec: { width: W, height: H, bpp: 8, header: 12, palette: colours, indices: colourIdx }, ref: colourRgb, channels: 3 },
    { name: '24-bit, bottom-up', spec: { width: W, height: H, bpp: 24, rgb }, ref: rgb, channels: 3 },
    { name: '24-bit, top-down', spec: { width: W, height: H, bpp: 24, topDown: true, rgb }, ref: rgb, channels: 3 },
    { name: '32-bit BI_RGB (4th byte ignored)', spec: { width: W, height: H, bpp: 32, rgb }, ref: rgb, channels: 3 },
    { name: '32-bit BGRA bit fields, v5 header', spec: { width: W, height: H, bpp: 32, header: 124, masks: [0xff0000, 0xff00, 0xff], rgb }, ref: rgb, channels: 3 },
    { name: '32-bit RGBA bit fields (other byte order)', spec: { width: W, height: H, bpp: 32, masks: [0xff, 0xff00, 0xff0000], rgb }, ref: rgb, channels: 3 },
    { name: '16-bit 5-5-5 bit fields', spec: { width: W, height: H, bpp: 16, masks: [0x7c00, 0x3e0, 0x1f], rgb: rgb5 }, ref: rgb5, channels: 3 },
    { name: '16-bit 5-6-5 bit fields', spec: { width: W, height: H, bpp: 16, masks: [0xf800, 0x7e0, 0x1f], rgb: rgb565 }, ref: rgb565, channels: 3 },
  ];

  for (const c of cases) {
    it(`${c.name}: same pixels as sharp's PNG decode`, async () => {
      const file = path.join(dir, `${c.name.replace(/\W+/g, '-')}.bmp`);
      fs.writeFileSync(file, writeBmp(c.spec));
      const img = await readImage(file);
      expect({ width: img.width, height: img.height, channels: img.channels }).toEqual({ width: W, height: H, channels: c.channels });
      expect(img.data).toBeCloseToArray(await pngReference(path.basename(file), c.ref, c.channels), { atol: 0 });
    });
  }

  it('reads a hand-laid 2×2 24-bit bottom-up file with its first stored row at the bottom', () => {
    // Stored rows: bottom (blue, white), then top (red, green); rows padded to 8 bytes.
    const bytes = new Uint8Array(54 + 16);
    const dv = new DataView(bytes.buffer);
    bytes.set([0x42, 0x4d]);
    dv.setUint32(10, 54, true);
    dv.setUint32(14, 40, true);
    dv.setInt32(18, 2, true);
    dv.setInt32(22, 2, true);
    dv.setUint16(28, 24, true);
    bytes.set([255, 0, 0, 255, 255, 255, 0, 0], 54);
    bytes.set([0, 0, 255, 0, 255, 0, 0, 0], 62);
    const r = decodeBmp(bytes);
    expect(Array.from(r.samples)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    expect(Array.from(rasterToRgba(r).subarray(0, 4))).toEqual([255, 0, 0, 255]);
  });

  it('refuses RLE, truncated and oversized files with a DecodeError that says why', () => {
    const ok = writeBmp({ width: W, height: H, bpp: 24, rgb });
    const rle = ok.slice();
    new DataView(rle.buffer).setUint32(30, 1, true);
    expect(() => decodeBmp(rle)).toThrow(/RLE8 BMP files are not supported; save it uncompressed/);
    expect(() => decodeBmp(ok.subarray(0, ok.length - 10))).toThrow(/truncated BMP/);
    expect(() => decodeBmp(ok, 10)).toThrow(/more than the 0 MP allowed; refused before decoding/);
    expect(() => decodeBmp(ok.subarray(0, 30))).toThrow(DecodeError);
  });
});

describe('PGM / PPM', () => {
  for (const magic of ['P2', 'P3', 'P5', 'P6'] as const) {
    for (const deep of [false, true]) {
      const channels = magic === 'P2' || magic === 'P5' ? 1 : 3;
      it(`${magic} ${deep ? '16' : '8'}-bit: same pixels as sharp's PNG decode`, async () => {
        const rnd = uniform(magic.charCodeAt(1) * 7 + Number(deep));
        const n = W * H * channels;
        const samples = deep ? Uint16Array.from({ length: n }, () => Math.floor(rnd() * 65536)) : Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
        const file = path.join(dir, `${magic}-${deep ? 16 : 8}.${channels === 1 ? 'pgm' : 'ppm'}`);
        fs.writeFileSync(file, writePnm(magic, samples, deep ? 65535 : 255, W, H));
        const img = await readImage(file);
        expect({ width: img.width, height: img.height, channels: img.channels }).toEqual({ width: W, height: H, channels });
        expect(img.data).toBeCloseToArray(await pngReference(path.basename(file), samples, channels), { atol: 1e-7 });
      });
    }
  }

  it('scales by the file maxval (10-bit 1023 → 1) and skips comments anywhere in the header', () => {
    const r = decodePnm(new TextEncoder().encode('P2 # c1\n2 # c2\n1\n# c3\n1023\n0 1023\n'));
    expect(r).toMatchObject({ width: 2, height: 1, channels: 1, maxval: 1023 });
    expect(Array.from(r.samples)).toEqual([0, 1023]);
  });

  it('refuses truncated data, a sample above maxval and a bad maxval', () => {
    expect(() => decodePnm(writePnm('P5', new Uint8Array(W * H), 255, W, H).subarray(0, 30))).toThrow(/truncated P5/);
    expect(() => decodePnm(new TextEncoder().encode('P2\n1 1\n15\n16\n'))).toThrow(/above maxval 15/);
    expect(() => decodePnm(new TextEncoder().encode('P5\n1 1\n70000\n'))).toThrow(/maxval must be 1–65535/);
    expect(() => decodePnm(new TextEncoder().encode('P6\n1 x\n255\n'))).toThrow(/height is not a number/);
  });
});

describe('readImage with formats sharp does not read', () => {
  it('leaves PNG to sharp (decodeBuiltin returns undefined)', async () => {
    const png = await sharp(new Uint8Array(12), { raw: { width: 2, height: 2, channels: 3 } }).png().toBuffer();
    expect(decodeBuiltin(png)).toBeUndefined();
  });

  it('names the file and the supported formats for an unknown format, in one line', async () => {
    const file = path.join(dir, 'scan.xyz');
    fs.writeFileSync(file, 'II*\u0000 not really anything');
    const err = await readImage(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`${file}: cannot decode image: unsupported image format; onnxtune reads ${SUPPORTED_INPUT_FORMATS}`);
  });

  it('names the file for a broken BMP', async () => {
    const file = path.join(dir, 'broken.bmp');
    fs.writeFileSync(file, writeBmp({ width: W, height: H, bpp: 24, rgb: pixels(3, 9) }).subarray(0, 80));
    await expect(readImage(file)).rejects.toThrow(`${file}: cannot decode image: truncated BMP`);
  });
});

describe('writing by extension', () => {
  it('writes WebP losslessly (8-bit) and reads it back exactly through sharp', async () => {
    const data = Float32Array.from(pixels(3, 11), (v) => v / 255);
    const file = path.join(dir, 'out.webp');
    await writeImage(file, data, W, H, 3, 16); // 16 is lowered to 8 for WebP
    expect((await sharp(file).metadata()).format).toBe('webp');
    expect((await readImage(file)).data).toBeCloseToArray(data, { atol: 1e-7 });
  });
});
