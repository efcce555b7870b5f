/**
 * Images with a side shorter than the export's stride multiple (1–3 px at stride 4). The exported graph
 * reflect-pads to the multiple, which onnxruntime refuses once the pad reaches the side (1×1, 2×2, 1×997);
 * the graph now mirrors what fits and repeats the edge for the rest. Checked on the shipped color-blind
 * (exported before this change), re-joined by the current `combine`: every other size gives the same output
 * as the file as shipped, short sides give what the shipped file gives on the image padded in JS
 * (tensor/pad.ts), and `denoiseImage` pads short tiles itself, so files exported before this work too. The
 * shipped gray-blind, exported since, takes short sides as it is.
 */
import * as fs from 'node:fs';
import { combine } from '../../pipeline/export-model';
import { splitDenoiser } from '../../pipeline/finetune/split';
import { createSession, type OrtSession } from '../../src/backends/ort';
import { denoiseImage } from '../../src/denoise/denoise';
import { readDenoiserInfo } from '../../src/denoise/model-info';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import { setMetadata, getMetadata } from '../../src/onnx/metadata';
import { nchwToNhwc, nhwcToNchw } from '../../src/tensor/layout';
import { cropNhwc, padAmount, reflectPadNhwc } from '../../src/tensor/pad';
import { resolveModel } from '../../pretrained/shipped';
import { seeded } from '../helpers/seeded';

const C = 3;
/** A seeded NCHW RGB image. */
const image = (h: number, w: number) => Float32Array.from(seeded(C * h * w, h * 1000 + w), (v) => 0.5 + 0.2 * v);
const toNhwc = (x: Float32Array, h: number, w: number) => nchwToNhwc(x, 1, C, h, w);
const toNchw = (x: Float32Array, h: number, w: number) => nhwcToNchw(x, 1, h, w, C);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('exported models on images with short sides', () => {
  const file = resolveModel('color-blind');
  let shipped: OrtSession;
  let rejoined: OrtSession;
  let S: number;
  beforeAll(async () => {
    const model = loadModel(file);
    const split = splitDenoiser(model, 'color-blind.onnx');
    S = split.io.strideMultiple;
    const joined = combine(split.encoder, split.decoder, split.io, split.opset);
    setMetadata(joined, getMetadata(model));
    [shipped, rejoined] = await Promise.all([createSession(file, { threads: 1 }), createSession(encodeModel(joined), { threads: 1 })]);
  });
  afterAll(async () => {
    await Promise.all([shipped?.release(), rejoined?.release()]);
  });
  const run = async (s: OrtSession, data: Float32Array, h: number, w: number) => (await s.run({ noisy: { data, dims: [1, C, h, w] } })).denoised;

  it('keeps the shipped output where a side can be mirrored (≥ 3 px at stride 4)', async () => {
    expect(S).toBe(4);
    for (const [h, w] of [[13, 9], [3, 3], [4, 7], [3, 17]]) {
      const x = image(h, w);
      const [a, b] = [await run(shipped, x, h, w), await run(rejoined, x, h, w)];
      expect(b.dims).toEqual([1, C, h, w]);
      expect(maxAbs(a.data, b.data)).toBe(0);
    }
  });

  it.each([[1, 1], [2, 2], [1, 5], [2, 7], [6, 2], [1, 997]])('denoises %i×%i: the shipped file on the JS-padded image, cropped', async (h, w) => {
    const x = image(h, w);
    await expect(run(shipped, x, h, w)).rejects.toThrow(/Pad/);
    const out = await run(rejoined, x, h, w);
    expect(out.dims).toEqual([1, C, h, w]);
    const [ph, pw] = [padAmount(h, S), padAmount(w, S)];
    const padded = toNchw(reflectPadNhwc(toNhwc(x, h, w), 1, h, w, C, ph, pw), h + ph, w + pw);
    const full = (await run(shipped, padded, h + ph, w + pw)).data as Float32Array;
    const ref = toNchw(cropNhwc(toNhwc(full, h + ph, w + pw), 1, h + ph, w + pw, C, h, w), h, w);
    expect(maxAbs(out.data, ref)).toBeLessThan(1e-6);
  });

  it('denoiseImage pads short tiles for files exported before (the shipped one)', async () => {
    const info = readDenoiserInfo(new Uint8Array(fs.readFileSync(file)));
    const call = async (input: { data: unknown }, dims: number[]) => (await shipped.run({ noisy: { data: input.data as Float32Array, dims } })).denoised.data;
    for (const [h, w] of [[2, 2], [1, 150], [3, 1]]) {
      const x = image(h, w);
      const { output } = await denoiseImage({ data: x, channels: C, height: h, width: w }, info, call);
      const ref = await run(rejoined, x, h, w);
      expect([output.height, output.width]).toEqual([h, w]);
      expect(maxAbs(output.data, ref.data)).toBeLessThan(1e-6);
    }
  });

  it('the shipped gray-blind, exported with the new padding, takes a 1×1 and a 2×7 image as it is', async () => {
    const gray = await createSession(resolveModel('gray-blind'), { threads: 1 });
    try {
      for (const [h, w] of [[1, 1], [2, 7]]) {
        const out = (await gray.run({ noisy: { data: Float32Array.from(seeded(h * w, 5), (v) => 0.5 + 0.2 * v), dims: [1, 1, h, w] } })).denoised;
        expect(out.dims).toEqual([1, 1, h, w]);
      }
    } finally {
      await gray.release();
    }
  });
});
