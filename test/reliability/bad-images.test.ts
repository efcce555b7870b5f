/**
 * Bad image files through every reader that takes them: readImage, the folder data source
 * (listImages/loadImageAs and the `data` stage of a folder job), `onnxtune eval` and
 * `onnxtune denoise`. Each kind is
 * either handled (CMYK → RGB, alpha dropped from 16-bit files, the first frame of an animated
 * GIF with a warning) or refused with one line naming the file (zero bytes, truncated PNG/JPEG,
 * not an image, 1×1 where SSIM needs 7×7, and 50k×50k declared sizes refused before decoding).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { runJob } from '../../pipeline/runner';
import { listImages, loadImageAs } from '../../src/data/folder';
import { InputError, StageError } from '../../src/errors';
import { readImage } from '../../src/images/png';
import { GraphBuilder } from '../../src/onnx/builder';
import { saveModel } from '../../src/onnx/model-io';
import { setConsoleSink } from '../../src/log';
import { runCli } from '../helpers/cli';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

const W = 12;
const H = 10;
/** A smooth 12×10 RGB test pattern in 0..255. */
const RGB = Buffer.from(Array.from({ length: W * H * 3 }, (_, i) => (40 + ((i * 13) % 170)) & 0xff));

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A ~100-byte PNG whose header declares `w`×`h` 8-bit gray pixels. */
function hugeDeclaredPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

interface Case {
  file: string;
  make: () => Promise<Buffer>;
  /** What readImage gives: [width, height, channels], or the error it throws. */
  read: [number, number, 1 | 3] | RegExp;
  /** The error eval and the folder test split give when reading succeeds but the image is refused (1×1). */
  evalError?: RegExp;
  /** A warning readImage must log. */
  warns?: RegExp;
}

const rgbPng = () => sharp(RGB, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
const rgbJpeg = () => sharp(RGB, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();

const CASES: Case[] = [
  { file: 'zero-byte.png', make: async () => Buffer.alloc(0), read: /zero-byte\.png: cannot decode image: the file is empty \(0 bytes\)/ },
  { file: 'truncated.png', make: async () => (await rgbPng()).subarray(0, 60), read: /truncated\.png: cannot decode image: / },
  { file: 'truncated.jpg', make: async () => { const b = await rgbJpeg(); return b.subarray(0, b.length >> 1); }, read: /truncated\.jpg: cannot decode image: .*premature end/ },
  { file: 'not-an-image.png', make: async () => Buffer.from('name: job\nseed: 1\n'), read: /not-an-image\.png: cannot decode image: .*unsupported image format/ },
  {
    file: 'one-pixel.png',
    make: () => sharp(Buffer.from([90]), { raw: { width: 1, height: 1, channels: 1 } }).toColourspace('b-w').png().toBuffer(),
    read: [1, 1, 1],
    evalError: /one-pixel\.png: 1×1 is too small: images must be at least 7×7 \(the 7×7 SSIM window/,
  },
  {
    file: 'declares-50000x50000.png',
    make: async () => hugeDeclaredPng(50000, 50000),
    read: /declares-50000x50000\.png: the header declares 50000×50000 pixels \(2500 MP\), more than the 134 MP allowed; refused before decoding/,
  },
  {
    file: 'declares-50000x50000.jpg',
    make: async () => {
      const b = await rgbJpeg();
      const sof = b.indexOf(Buffer.from([0xff, 0xc0]));
      b.writeUInt16BE(50000, sof + 5);
      b.writeUInt16BE(50000, sof + 7);
      return b;
    },
    read: /declares-50000x50000\.jpg: the header declares 50000×50000 pixels .* refused before decoding/,
  },
  { file: 'cmyk.jpg', make: () => sharp(RGB, { raw: { width: W, height: H, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(), read: [W, H, 3] },
  {
    file: 'rgba-16bit.png',
    make: () => {
      const v = Uint16Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 1000 : RGB[i - Math.floor(i / 4)] * 257));
      return sharp(v, { raw: { width: W, height: H, channels: 4 } }).toColourspace('rgb16').png().toBuffer();
    },
    read: [W, H, 3],
  },
  {
    file: 'gray-alpha-16bit.png',
    make: () => sharp(Uint16Array.from({ length: W * H * 2 }, (_, i) => (i % 2 ? 0 : i * 300)), { raw: { width: W, height: H, channels: 2 } })
      .toColourspace('grey16').png().toBuffer(),
    read: [W, H, 1],
  },
  {
    file: 'animated.gif',
    make: () => sharp(Buffer.concat([RGB, Buffer.alloc(RGB.length, 200)]), { raw: { width: W, height: 2 * H, channels: 3, pageHeight: H } }).gif().toBuffer(),
    read: [W, H, 3],
    warns: /animated\.gif: gif with 2 frames \(animated or multi-page\); using the first frame/,
  },
];

describe('bad images', () => {
  const dir = tmpDir('onnxtune-bad-images-');
  const file = (c: Case) => path.join(dir, 'all', c.file);
  const folderOf = (c: Case) => path.join(dir, 'one', c.file.replace(/\W/g, '_'));
  let warnings: string[] = [];
  let restoreSink: () => void;

  beforeAll(async () => {
    fs.mkdirSync(path.join(dir, 'all'), { recursive: true });
    for (const c of CASES) {
      const bytes = await c.make();
      fs.writeFileSync(file(c), bytes);
      fs.mkdirSync(folderOf(c), { recursive: true });
      fs.writeFileSync(path.join(folderOf(c), c.file), bytes);
    }
    const b = new GraphBuilder();
    b.addInput('x', ['n', 1, 'h', 'w']);
    b.addNode('Identity', ['x'], ['y']);
    b.addOutput('y', ['n', 1, 'h', 'w']);
    saveModel(b.toModel({ opset: 17 }), path.join(dir, 'identity.onnx'));
    restoreSink = setConsoleSink((level, line) => {
      if (level === 'warn') warnings.push(line);
    });
  });
  afterAll(() => restoreSink());
  beforeEach(() => {
    warnings = [];
  });

  it.each(CASES.map((c) => [c.file, c] as const))('readImage: %s', async (_name, c) => {
    const t0 = performance.now();
    if (c.read instanceof RegExp) {
      const err = await readImage(file(c)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(c.read);
      expect((err as Error).message).not.toContain('\n');
    } else {
      const img = await readImage(file(c));
      expect([img.width, img.height, img.channels]).toEqual(c.read);
      expect(img.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    if (c.warns) expect(warnings.join('\n')).toMatch(c.warns);
    expect(performance.now() - t0).toBeLessThan(2000); // the huge ones are refused from the header
  });

  it('converts CMYK to RGB close to the original colours, and drops alpha keeping 16-bit precision', async () => {
    const cmyk = await readImage(file(CASES.find((c) => c.file === 'cmyk.jpg')!));
    const original = Float32Array.from(RGB, (v) => v / 255);
    const meanAbs = cmyk.data.reduce((s, v, i) => s + Math.abs(v - original[i]), 0) / original.length;
    expect(meanAbs).toBeLessThan(0.05); // JPEG + CMYK round trip
    const rgba = await readImage(file(CASES.find((c) => c.file === 'rgba-16bit.png')!));
    expect(rgba.data).toBeCloseToArray(Array.from(RGB, (v) => (v * 257) / 65535), { atol: 1e-6 });
  });

  it('data loading: listImages lists every kind (GIF included) and loadImageAs gives readImage\'s result or error', async () => {
    expect(listImages(path.join(dir, 'all')).map((f) => path.basename(f)).sort()).toEqual(CASES.map((c) => c.file).sort());
    for (const c of CASES) {
      for (const channels of [1, 3] as const) {
        const r = await loadImageAs(file(c), channels, { minSide: 7 }).catch((e: unknown) => e);
        if (c.read instanceof RegExp) expect((r as Error).message).toMatch(c.read);
        else if (c.evalError) expect((r as Error).message).toMatch(/one-pixel\.png: 1×1 is too small: images must be at least 7×7/);
        else expect((r as { channels: number }).channels).toBe(channels);
      }
    }
  });

  it.each(CASES.map((c) => [c.file, c] as const))('onnxtune eval on a folder holding %s', async (_name, c) => {
    const r = await runCli(['eval', '--data', folderOf(c), '--baseline', 'median', '--sigma', '25', '--channels', '1']);
    const refusal = c.read instanceof RegExp ? c.read : c.evalError;
    if (refusal) {
      expect(r.code).toBe(2);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('onnxtune: error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(refusal);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } else {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\| median \| 25 \| 1 \|/);
    }
  });

  it.each(CASES.map((c) => [c.file, c] as const))('onnxtune denoise on %s', async (_name, c) => {
    const out = path.join(dir, 'denoised', c.file.replace(/\W/g, '_'));
    const r = await runCli(['denoise', path.join(dir, 'identity.onnx'), file(c), '--out', out, '--device', 'cpu', '--no-page']);
    if (c.read instanceof RegExp) {
      expect(r.code).toBe(2);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('onnxtune: error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(c.read);
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
    } else {
      // Denoising has no SSIM window, so a 1×1 image is fine here.
      expect(r.stderr).not.toMatch(/onnxtune: error/);
      expect(r.code).toBe(0);
      const written = fs.readdirSync(out);
      expect(written).toHaveLength(1);
      const meta = await sharp(path.join(out, written[0])).metadata();
      expect([meta.width, meta.height]).toEqual(c.read.slice(0, 2));
    }
  });

  describe('the folder data source (data stage of a folder job)', () => {
    const folderJob = (train: string, test: string) =>
      quickJob({
        data: { source: 'folder', train, test, patch_size: 8, patches_per_image: 2, val_fraction: 0, noise: { type: 'gaussian', sigma: 25 } },
        encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'] },
      });

    it('reads CMYK, 16-bit with alpha and animated files as train and test images', async () => {
      const ok = path.join(dir, 'usable');
      fs.mkdirSync(ok);
      for (const c of CASES.filter((x) => !(x.read instanceof RegExp) && !x.evalError)) fs.copyFileSync(file(c), path.join(ok, c.file));
      const r = await runJob({ jobFile: writeJob(dir, folderJob(ok, ok), 'usable.yaml'), outDir: path.join(dir, 'run-usable'), until: 'data' });
      expect(r.summaries.data).toMatchObject({ train: 4 * 2, test: 4 });
      expect(warnings.join('\n')).toMatch(/animated\.gif: gif with 2 frames/);
    });

    it.each(CASES.filter((c) => c.read instanceof RegExp || c.evalError).map((c) => [c.file, c] as const))(
      'refuses %s naming the file, keeping nothing half-written',
      async (_name, c) => {
        const runDir = path.join(dir, `run-${c.file}`);
        const err = await runJob({ jobFile: writeJob(dir, folderJob(folderOf(c), folderOf(c)), `${c.file}.yaml`), outDir: runDir, until: 'data' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StageError);
        const message = (err as Error).message;
        expect(message).not.toContain('\n');
        // A 1×1 training image is refused as smaller than the patch; other files as unreadable.
        expect(message).toMatch(c.read instanceof RegExp ? c.read : /one-pixel\.png: 1×1 is smaller than data\.patch_size 8/);
        expect(fs.existsSync(path.join(runDir, 'data'))).toBe(false);
        expect(JSON.parse(fs.readFileSync(path.join(runDir, 'data.failed.json'), 'utf8')).status).toBe('failed');
      },
    );

    it('refuses a 1×1 test image (evaluated whole, where SSIM needs 7×7)', async () => {
      const train = path.join(dir, 'usable');
      const c = CASES.find((x) => x.file === 'one-pixel.png')!;
      const err = await runJob({ jobFile: writeJob(dir, folderJob(train, folderOf(c)), 'tiny-test.yaml'), outDir: path.join(dir, 'run-tiny-test'), until: 'data' })
        .catch((e: unknown) => e);
      expect((err as Error).message).toMatch(c.evalError as RegExp);
    });
  });
});
