/**
 * The page's pure core (src/denoise, src/onnx/reader.ts), run in Node: the ONNX reader against models encoded by
 * the project's protobuf writer, the denoiser description from export metadata, pixel packing,
 * seeded noise, and tiling (exact for per-pixel models, close to untiled for a convolution).
 */
import { exportMetadata } from '../../pipeline/stages/export';
import type { EncoderIo } from '../../pipeline/artifacts';
import { loadJobConfig } from '../../src/config/load';
import { psnr as projectPsnr } from '../../src/metrics/psnr';
import { GraphBuilder } from '../../src/onnx/builder';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import { encodeModel } from '../../src/onnx/model-io';
import { onnx } from '../../src/onnx/proto';
import { fromHalf, toHalf } from '../../src/tensor/fp16';
import {
  ModelFormatError, addGaussianNoise, decodeOutput, defaultOverlap, tilingFor, ensembleViews, fromView, toView, defaultSigma, denoiseImage, describeDenoiser, encodeInput,
  extractTile, formatNoise, fromModelRange, metadataRows, parseValueRange, planTiles, planarToRgba, psnr, rampWeights,
  readDenoiserInfo, readOnnxSummary, rgbaToPlanar, runTiled, tileStarts, toModelRange, type Planar, type TileOptions,
} from '../../src/denoise';
import { seeded } from '../onnx/fixtures';
import { ROOT } from '../helpers/jobs';

const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** A one-node model `x → Identity → y` with the given input type/dims and metadata. */
function tinyModel(opts: { dims?: Array<number | string>; elemType?: number; metadata?: Record<string, string>; inputs?: number } = {}): Uint8Array {
  const b = new GraphBuilder('tiny');
  const type = opts.elemType ?? onnx.TensorProto.DataType.FLOAT;
  b.addInput('x', opts.dims ?? ['N', 1, 'H', 'W'], type);
  for (let i = 1; i < (opts.inputs ?? 1); i++) b.addInput(`x${i}`, ['N', 1, 'H', 'W'], type);
  b.addNode('Identity', ['x'], ['y']);
  b.addOutput('y', opts.dims ?? ['N', 1, 'H', 'W'], type);
  return encodeModel(b.toModel({ opset: 17, metadata: opts.metadata }));
}

function exportedMetadata(): Record<string, string> {
  const job = loadJobConfig(`${ROOT}/configs/mnist-dae.yaml`);
  const io: EncoderIo = {
    input: 'image',
    channels: 1,
    taps: [{ name: 'stage1', channels: 32, stride: 2 }, { name: 'stage2', channels: 64, stride: 4 }],
    strideMultiple: 4,
    source: { file: '/x/encoder.onnx', sha256: 'ab'.repeat(32) },
  };
  return { ...exportMetadata(job, io, 1), 'onnxtune.input': 'x', 'onnxtune.output': 'y' };
}

describe('readOnnxSummary', () => {
  it('reads metadata, opsets and the non-initializer inputs without decoding weights', () => {
    const b = new GraphBuilder('g');
    b.addInput('img', ['batch', 3, 'h', 'w']);
    b.addInitializer('w', [3, 3, 3, 3], seeded(81, 1));
    b.addNode('Conv', ['img', 'w'], ['out'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    b.addOutput('out', ['batch', 3, 'h', 'w']);
    const model = b.toModel({ opset: 17, metadata: { 'onnxtune.job': 'j', 'ünïcode': 'σ=25' } });
    // An initializer also listed as a graph input (old IR style) is not an input to feed.
    model.graph!.input!.push(makeValueInfo('w', [3, 3, 3, 3]));
    const bytes = encodeModel(model);
    const s = readOnnxSummary(bytes);
    expect(s.irVersion).toBe(8);
    expect(s.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(s.metadata).toEqual({ 'onnxtune.job': 'j', 'ünïcode': 'σ=25' });
    expect(s.inputs).toEqual([{ name: 'img', type: 'float32', dims: ['batch', 3, 'h', 'w'] }]);
    expect(s.outputs).toEqual([{ name: 'out', type: 'float32', dims: ['batch', 3, 'h', 'w'] }]);
  });

  it('reads float16 inputs and fixed dims', () => {
    const s = readOnnxSummary(tinyModel({ elemType: FLOAT16, dims: [1, 1, 28, 28] }));
    expect(s.inputs[0]).toEqual({ name: 'x', type: 'float16', dims: [1, 1, 28, 28] });
  });

  it.each([
    ['empty bytes', new Uint8Array(0)],
    ['a PNG header', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ['a truncated model', tinyModel().subarray(0, 40)],
    ['text', new TextEncoder().encode('{"not": "onnx"}')],
  ])('refuses %s with ModelFormatError', (_, bytes) => {
    expect(() => readOnnxSummary(bytes)).toThrow(ModelFormatError);
  });
});

describe('describeDenoiser', () => {
  it('describes an onnxtune export from its metadata', () => {
    const info = readDenoiserInfo(tinyModel({ metadata: exportedMetadata() }));
    expect(info).toMatchObject({
      isOnnxtune: true,
      input: { name: 'x', type: 'float32', dims: ['N', 1, 'H', 'W'] },
      output: { name: 'y', type: 'float32' },
      layout: 'NCHW',
      channels: 1,
      valueRange: [0, 1],
      fixedSize: null,
      strideMultiple: 4,
      noise: { type: 'gaussian', sigma: 127.5, clip: true },
      job: 'mnist-dae',
      version: '0.1.0',
      warnings: [],
    });
    expect(defaultSigma(info)).toBe(127.5);
    expect(formatNoise(info.noise)).toBe('gaussian σ=127.5 (clipped)');
    const rows = Object.fromEntries(metadataRows(info));
    expect(rows['training job']).toMatch(/^mnist-dae \([0-9a-f]{16}\)$/);
    expect(rows['input']).toBe('x float32 [N, 1, H, W]');
  });

  it('accepts a model without metadata, with warnings for what it assumes', () => {
    const info = readDenoiserInfo(tinyModel({ dims: ['N', 3, 'H', 'W'] }));
    expect(info.isOnnxtune).toBe(false);
    expect(info.channels).toBe(3);
    expect(info.valueRange).toEqual([0, 1]);
    expect(info.warnings.join(' ')).toMatch(/no onnxtune metadata/);
    expect(defaultSigma(info)).toBe(25);
  });

  it('uses a declared value range and a fixed input size', () => {
    const info = readDenoiserInfo(tinyModel({ dims: [1, 1, 64, 48], metadata: { 'onnxtune.task': 'denoise', 'onnxtune.value_range': '[0, 255]' } }));
    expect(info.valueRange).toEqual([0, 255]);
    expect(info.fixedSize).toEqual([64, 48]);
  });

  it.each([
    ['two inputs', { inputs: 2 }, /takes 2 inputs/],
    ['an int64 input', { elemType: onnx.TensorProto.DataType.INT64 }, /int64; only float32 and float16/],
    ['NHWC layout', { metadata: { 'onnxtune.layout': 'NHWC' } }, /layout 'NHWC'/],
    ['rank 3', { dims: ['N', 'H', 'W'] }, /rank 3/],
    ['4 channels', { dims: ['N', 4, 'H', 'W'] }, /channels 4/],
    ['symbolic channels and no metadata', { dims: ['N', 'C', 'H', 'W'] }, /channels unknown/],
    ['channels contradicting the shape', { dims: ['N', 3, 'H', 'W'], metadata: { 'onnxtune.channels': '1' } }, /says 1 channels but input 'x' has 3/],
    ['a metadata input that is not in the graph', { metadata: { 'onnxtune.input': 'noisy' } }, /names input 'noisy'/],
  ] as const)('refuses %s', (_, opts, message) => {
    expect(() => readDenoiserInfo(tinyModel(opts as Parameters<typeof tinyModel>[0]))).toThrow(message);
  });

  it('keeps going on unreadable value range and noise metadata, with warnings', () => {
    const info = describeDenoiser({
      ...readOnnxSummary(tinyModel()),
      metadata: { 'onnxtune.task': 'denoise', 'onnxtune.value_range': '0..1', 'onnxtune.noise': '{oops' },
    });
    expect(info.valueRange).toEqual([0, 1]);
    expect(info.noise).toBeNull();
    expect(info.warnings).toHaveLength(2);
  });

  it.each([
    ['[0,1]', [0, 1]],
    [' [ -1 , 1 ] ', [-1, 1]],
    ['[0, 255]', [0, 255]],
    ['[0,1e0]', [0, 1]],
    ['[1,0]', undefined],
    ['0,1', undefined],
    ['[a,b]', undefined],
  ] as const)('parseValueRange(%j)', (text, expected) => {
    expect(parseValueRange(text)).toEqual(expected);
  });
});

describe('pixels', () => {
  it('keeps gray pixels exact for a 1-channel model and uses BT.601 luma for color', () => {
    const rgba = new Uint8Array([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 0, 255, 0, 0, 255]);
    const p = rgbaToPlanar(rgba, 2, 2, 1);
    expect(Array.from(p.data)).toEqual([0, 128 / 255, 1, 0.299].map(Math.fround));
    const rgb = rgbaToPlanar(rgba, 2, 2, 3);
    expect(Array.from(rgb.data.subarray(0, 4))).toEqual([0, 128 / 255, 1, 1].map(Math.fround));
    expect(Array.from(rgb.data.subarray(4, 8))).toEqual([0, 128 / 255, 1, 0].map(Math.fround));
  });

  it('round-trips 8-bit values through planar floats', () => {
    const rgba = new Uint8Array(4 * 256);
    for (let i = 0; i < 256; i++) rgba.set([i, 255 - i, (i * 7) % 256, 255], 4 * i);
    expect(Array.from(planarToRgba(rgbaToPlanar(rgba, 16, 16, 3)))).toEqual(Array.from(rgba));
  });

  it('planarToRgba keeps the alpha of a source image when given one, and refuses one of another size', () => {
    const rgba = Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255]);
    const planar = rgbaToPlanar(rgba, 3, 1, 3);
    expect(Array.from(planarToRgba(planar, undefined, rgba))).toEqual(Array.from(rgba));
    expect(Array.from(planarToRgba(planar)).filter((_, i) => i % 4 === 3)).toEqual([255, 255, 255]);
    expect(() => planarToRgba(planar, undefined, rgba.subarray(4))).toThrow(RangeError);
  });

  it('maps value ranges both ways and clips after', () => {
    const x = new Float32Array([0, 0.5, 1]);
    expect(Array.from(toModelRange(x, [0, 255]))).toEqual([0, 127.5, 255]);
    expect(Array.from(fromModelRange(new Float32Array([-3, 127.5, 300]), [0, 255]))).toEqual([0, 0.5, 1]);
    const same = toModelRange(x, [0, 1]);
    expect(same).not.toBe(x);
    expect(Array.from(same)).toEqual([0, 0.5, 1]);
  });

  it('packs float16 inputs as half bit patterns and unpacks either output form', () => {
    const x = new Float32Array([0, 0.1, 0.5, 1]);
    const enc = encodeInput(x, 'float16');
    expect(enc.type).toBe('float16');
    expect(Array.from(enc.data)).toEqual(Array.from(x).map(toHalf));
    expect(Array.from(decodeOutput(enc.data, 'float16'))).toEqual(Array.from(x).map((v) => fromHalf(toHalf(v))));
    // Engines with Float16Array hand back numbers, not bits.
    expect(Array.from(decodeOutput([0.5, 0.25], 'float16'))).toEqual([0.5, 0.25]);
    expect(encodeInput(x, 'float32').data).toBe(x);
  });
});

describe('noise', () => {
  it('is seeded: the same seed gives the same noise, another seed other noise', () => {
    const clean = new Float32Array(1000).fill(0.5);
    expect(addGaussianNoise(clean, 25, 1, false)).toEqual(addGaussianNoise(clean, 25, 1, false));
    expect(addGaussianNoise(clean, 25, 2, false)).not.toEqual(addGaussianNoise(clean, 25, 1, false));
  });

  it('has mean 0 and standard deviation σ/255', () => {
    const n = 200000;
    const noisy = addGaussianNoise(new Float32Array(n).fill(0.5), 51, 7, false);
    let sum = 0;
    let sq = 0;
    for (const v of noisy) {
      sum += v - 0.5;
      sq += (v - 0.5) ** 2;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.002);
    expect(Math.sqrt(sq / n)).toBeCloseTo(0.2, 2);
  });

  it('clips when asked, and σ = 0 copies', () => {
    const clean = new Float32Array([0, 1, 0.5, 0.5]);
    const noisy = addGaussianNoise(clean, 255, 3, true);
    expect(noisy.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(addGaussianNoise(clean, 0, 3, false)).toEqual(clean);
    expect(() => addGaussianNoise(clean, -1, 3, false)).toThrow(RangeError);
  });

  it('PSNR is the project metric', () => {
    const a = new Float32Array([0.1, 0.5, 0.9, 1.2]);
    const b = new Float32Array([0.2, 0.5, 0.8, 1]);
    expect(psnr(a, b)).toBe(projectPsnr(a, b));
  });
});

/** A deterministic test image with structure in every channel. */
function image(channels: number, height: number, width: number): Planar {
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = 0.5 + 0.45 * Math.sin(0.37 * x + 0.23 * y + c) * Math.cos(0.11 * x * y / (1 + c));
    }
  }
  return { data, channels, height, width };
}

/** 3×3 box blur per channel with zero padding: a model whose output depends on neighbours. */
function blur(p: Planar): Float32Array {
  const { channels: C, height: H, width: W } = p;
  const out = new Float32Array(p.data.length);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) s += p.data[(c * H + yy) * W + xx];
          }
        }
        out[(c * H + y) * W + x] = s / 9;
      }
    }
  }
  return out;
}

describe('tiling', () => {
  it('tileStarts steps by tile − overlap and ends flush with the side', () => {
    expect(tileStarts(256, 256, 32)).toEqual([0]);
    expect(tileStarts(100, 256, 32)).toEqual([0]);
    expect(tileStarts(257, 256, 32)).toEqual([0, 1]);
    expect(tileStarts(1024, 256, 32)).toEqual([0, 224, 448, 672, 768]);
    expect(tileStarts(768, 256, 32)).toEqual([0, 224, 448, 512]);
    expect(tileStarts(512, 256, 0)).toEqual([0, 256]);
    expect(() => tileStarts(10, 8, 8)).toThrow(RangeError);
    expect(() => tileStarts(10, 0, 0)).toThrow(RangeError);
  });

  it('tileStarts with an alignment: every start a multiple of it, the last tile reaching the end, overlaps kept', () => {
    expect(tileStarts(482, 256, 64, 4)).toEqual([0, 192, 228]); // unaligned, the last start would be 226
    expect(tileStarts(1024, 256, 64, 32)).toEqual([0, 192, 384, 576, 768]);
    for (const size of [257, 300, 482, 511, 1000, 4001]) {
      for (const align of [1, 2, 4, 8, 32]) {
        const starts = tileStarts(size, 256, 64, align, 16);
        expect(starts.every((s) => s % align === 0)).toBe(true);
        expect(Math.min(starts[starts.length - 1] + 256, size)).toBe(size);
        for (let i = 1; i < starts.length; i++) expect(starts[i - 1] + 256 - starts[i]).toBeGreaterThanOrEqual(64);
      }
    }
    expect(() => tileStarts(300, 256, 250, 8)).toThrow(/alignment/);
    expect(() => tileStarts(300, 256, 64, 1, 32)).toThrow(/margin/); // 2·margin must be < overlap
    expect(() => tileStarts(300, 256, 64, 0)).toThrow(/align/);
  });

  it('plans tiles that cover every pixel with positive weight', () => {
    for (const [H, W, opts] of [
      [300, 520, { tile: 128, overlap: 16 }], [33, 70, { tile: [16, 24], overlap: 5 }],
      [482, 301, { tile: 128, overlap: 40, margin: 12, align: 8 }], [70, 33, { tile: [16, 24], overlap: 9, margin: 4, align: 2 }],
    ] as Array<[number, number, TileOptions]>) {
      const cover = new Float64Array(H * W);
      for (const t of planTiles(H, W, opts)) {
        expect(t.y + t.height).toBeLessThanOrEqual(H);
        expect(t.x + t.width).toBeLessThanOrEqual(W);
        const wy = rampWeights(t.y, t.height, H, opts.overlap, opts.margin);
        const wx = rampWeights(t.x, t.width, W, opts.overlap, opts.margin);
        for (let y = 0; y < t.height; y++) for (let x = 0; x < t.width; x++) cover[(t.y + y) * W + t.x + x] += wy[y] * wx[x];
      }
      expect(cover.reduce((a, b) => Math.min(a, b), Infinity)).toBeGreaterThan(0);
    }
  });

  it('ramps weights linearly in the overlap, never at the image border', () => {
    expect(Array.from(rampWeights(0, 8, 8, 4))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(rampWeights(4, 8, 20, 4))).toEqual([0.125, 0.375, 0.625, 0.875, 0.875, 0.625, 0.375, 0.125]);
    expect(Array.from(rampWeights(12, 8, 20, 4))).toEqual([0.125, 0.375, 0.625, 0.875, 1, 1, 1, 1]);
  });

  it('gives the outer margin of a shared side zero weight, then ramps over the rest of the overlap', () => {
    expect(Array.from(rampWeights(4, 10, 20, 6, 1))).toEqual([0, 0.125, 0.375, 0.625, 0.875, 0.875, 0.625, 0.375, 0.125, 0]);
    expect(Array.from(rampWeights(0, 6, 20, 6, 2))).toEqual([1, 1, 0.75, 0.25, 0, 0]); // image border: full weight; shared end: ramp of 2, then margin
    expect(Array.from(rampWeights(14, 6, 20, 6, 2))).toEqual([0, 0, 0.25, 0.75, 1, 1]);
  });

  it('extracts tiles channel by channel', () => {
    const img = image(2, 5, 6);
    const t = extractTile(img, { y: 1, x: 2, height: 3, width: 2 });
    expect(Array.from(t.data)).toEqual([
      img.data[1 * 6 + 2], img.data[1 * 6 + 3], img.data[2 * 6 + 2], img.data[2 * 6 + 3], img.data[3 * 6 + 2], img.data[3 * 6 + 3],
      img.data[30 + 6 + 2], img.data[30 + 6 + 3], img.data[30 + 12 + 2], img.data[30 + 12 + 3], img.data[30 + 18 + 2], img.data[30 + 18 + 3],
    ]);
  });

  it.each([
    ['the identity', (t: Planar) => t.data.slice()],
    ['a per-pixel op', (t: Planar) => t.data.map((v) => Math.fround(v * v + 0.1))],
  ])('tiling %s reproduces the untiled result exactly', async (_, op) => {
    const img = image(3, 300, 520);
    const untiled = op(img);
    const { output, tiles } = await runTiled(img, async (t) => op(t), { tile: 128, overlap: 16 });
    expect(tiles.length).toBe(3 * 5);
    expect(output.length).toBe(untiled.length);
    // Bit-for-bit: the first differing index (jest's deep equality is slow on 468k values).
    expect(output.findIndex((v, i) => !Object.is(v, untiled[i]))).toBe(-1);
  });

  it('a convolution tiled is close to untiled (equal away from tile borders)', async () => {
    const img = image(1, 300, 400);
    const untiled = blur(img);
    const { output } = await runTiled(img, async (t) => blur(t), { tile: 96, overlap: 16 });
    let maxAll = 0;
    for (let i = 0; i < output.length; i++) maxAll = Math.max(maxAll, Math.abs(output[i] - untiled[i]));
    // Only the 1-pixel seam rows differ, and the ramp gives them at most 1.5/16 of the weight.
    expect(maxAll).toBeGreaterThan(0);
    expect(maxAll).toBeLessThan(0.06);
    // A pixel at least 2 px inside every tile that covers it is identical.
    const starts = tileStarts(300, 96, 16);
    const interiorRow = (y: number) => starts.every((s) => y < s || y >= s + 96 || (y >= s + 1 && y < s + 95) || y === 0 || y === 299);
    const xs = tileStarts(400, 96, 16);
    const interiorCol = (x: number) => xs.every((s) => x < s || x >= s + 96 || (x >= s + 1 && x < s + 95) || x === 0 || x === 399);
    for (let y = 0; y < 300; y++) {
      if (!interiorRow(y)) continue;
      for (let x = 0; x < 400; x++) if (interiorCol(x)) expect(output[y * 400 + x]).toBeCloseTo(untiled[y * 400 + x], 6);
    }
  });

  it('a convolution tiled with a context margin ≥ its radius equals the untiled result', async () => {
    const img = image(2, 300, 410);
    const untiled = blur(img);
    for (const opts of [{ tile: 96, overlap: 16, margin: 1 }, { tile: 64, overlap: 12, margin: 4, align: 8 }] as TileOptions[]) {
      const { output, tiles } = await runTiled(img, async (t) => blur(t), opts);
      expect(tiles.length).toBeGreaterThan(9);
      let maxAll = 0;
      for (let i = 0; i < output.length; i++) maxAll = Math.max(maxAll, Math.abs(output[i] - untiled[i]));
      expect(maxAll).toBeLessThan(1e-6); // float rounding of the blend only
    }
  });

  it('refuses a tile output of the wrong size', async () => {
    await expect(runTiled(image(1, 40, 40), async () => new Float32Array(3), { tile: 16, overlap: 4 })).rejects.toThrow(RangeError);
  });
});

describe('denoiseImage', () => {
  const info = readDenoiserInfo(tinyModel({ metadata: { ...exportedMetadata(), 'onnxtune.value_range': '[0,255]' } }));

  it('maps to the value range, packs the dtype, tiles, maps back and clips', async () => {
    const img = image(1, 40, 70);
    const calls: Array<[number, number, number, number]> = [];
    const r = await denoiseImage(
      img,
      info,
      async (input, dims) => {
        calls.push(dims);
        expect(input.type).toBe('float32');
        return Float32Array.from(input.data, (v) => v * 1.5);
      },
      { tile: 32, overlap: 8 },
    );
    // Starts aligned to the model's stride multiple (4): x 0, 24, 40 (the last tile 30 wide reaches 70), y 0, 8.
    expect(info.strideMultiple).toBe(4);
    expect(calls).toEqual([[1, 1, 32, 32], [1, 1, 32, 32], [1, 1, 32, 30], [1, 1, 32, 32], [1, 1, 32, 32], [1, 1, 32, 30]]);
    expect(r.tiles.map((t) => [t.y, t.x])).toEqual([[0, 0], [0, 24], [0, 40], [8, 0], [8, 24], [8, 40]]);
    expect(r.tiles).toHaveLength(6);
    const expected = img.data.map((v) => Math.min(1, v * 1.5));
    expect(r.output.data).toBeCloseToArray(expected, { atol: 1e-6 });
  });

  it('feeds float16 models half bit patterns', async () => {
    const half = readDenoiserInfo(tinyModel({ elemType: FLOAT16, metadata: exportedMetadata() }));
    const img = image(1, 8, 8);
    const r = await denoiseImage(img, half, async (input) => {
      expect(input.type).toBe('float16');
      expect(input.data).toBeInstanceOf(Uint16Array);
      return input.data;
    });
    expect(r.output.data).toBeCloseToArray(img.data, { atol: 1e-3 });
  });

  it('refuses an image with the wrong channel count', async () => {
    await expect(denoiseImage(image(3, 8, 8), info, async (x) => x.data)).rejects.toThrow(/1-channel images, got 3/);
  });

  it('overlaps a quarter of the tile by default, at most 64 (a fixed 32×32 model: 8, not 31)', () => {
    expect([256, 512, 64, 32, 3].map(defaultOverlap)).toEqual([64, 64, 16, 8, 0]);
    const fixed = readDenoiserInfo(tinyModel({ dims: [1, 1, 32, 32] }));
    expect(tilingFor(fixed, 256, 256)).toMatchObject({ tile: [32, 32], overlap: 8, margin: 3, align: 1 });
    expect(tilingFor(info, 256, 256, { tile: 64 })).toMatchObject({ tile: 64, overlap: 16 });
    expect(tilingFor(info, 256, 256)).toMatchObject({ tile: 256, overlap: 64, margin: 16 });
  });
});

describe('geometric self-ensemble', () => {
  it('views are the 8 flips/rotations; each maps back exactly', () => {
    // 2×3, one channel: [[1,2,3],[4,5,6]]
    const p: Planar = { data: Float32Array.of(1, 2, 3, 4, 5, 6), channels: 1, height: 2, width: 3 };
    const rot = toView(p, 1); // a quarter turn clockwise
    expect([rot.height, rot.width, ...rot.data]).toEqual([3, 2, 4, 1, 5, 2, 6, 3]);
    const flip = toView(p, 4);
    expect([flip.height, flip.width, ...flip.data]).toEqual([2, 3, 3, 2, 1, 6, 5, 4]);
    const img = image(3, 5, 7);
    const seen = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const v = toView(img, k);
      expect([v.height, v.width]).toEqual(k % 2 ? [7, 5] : [5, 7]);
      seen.add(Array.from(v.data.subarray(0, 12)).join());
      expect(Array.from(fromView(v, k).data)).toEqual(Array.from(img.data));
    }
    expect(seen.size).toBe(8);
    expect(ensembleViews(8)).toHaveLength(8);
    expect(new Set(ensembleViews(8)).size).toBe(8);
    expect(() => ensembleViews(3)).toThrow(RangeError);
  });

  it('averages the views: a model that adds a left-to-right ramp adds its mean with 2, 4 or 8 views', async () => {
    const info = readDenoiserInfo(tinyModel({ metadata: exportedMetadata() }));
    const base = image(1, 12, 20);
    const img = { ...base, data: base.data.map((v) => 0.8 * v) }; // ≤ 0.9 + the ramp: no view's output is clipped
    const shapes: string[] = [];
    // Adds 0.1·x/(w−1) in the view it is given: views flip and turn the ramp, whose mean over them is 0.05 everywhere.
    const ramp = async (input: { data: ArrayLike<number> }, dims: [number, number, number, number]) => {
      shapes.push(`${dims[2]}x${dims[3]}`);
      const w = dims[3];
      return Float32Array.from(input.data as Float32Array, (v, i) => v + (0.1 * (i % w)) / (w - 1));
    };
    const plain = await denoiseImage(img, info, ramp, { tile: 64 });
    expect(plain.output.data[19] - img.data[19]).toBeCloseTo(0.1, 6);
    for (const n of [2, 4, 8]) {
      shapes.length = 0;
      const r = await denoiseImage(img, info, ramp, { tile: 64, ensemble: n });
      expect(shapes).toHaveLength(n);
      expect(shapes.filter((s) => s === '20x12')).toHaveLength(n === 8 ? 4 : 0);
      expect(r.output.data).toBeCloseToArray(img.data.map((v) => v + 0.05), { atol: 1e-6 });
    }
  });

  it('refuses rotations for a model with a fixed non-square input', async () => {
    const fixed = readDenoiserInfo(tinyModel({ dims: [1, 1, 16, 24], metadata: exportedMetadata() }));
    const call = async (input: { data: ArrayLike<number> }) => input.data as Float32Array;
    await expect(denoiseImage(image(1, 16, 24), fixed, call, { ensemble: 8 })).rejects.toThrow(/fixed 16×24.*4 or fewer/);
    await expect(denoiseImage(image(1, 16, 24), fixed, call, { ensemble: 4 })).resolves.toBeDefined();
  });
});
