/**
 * fold-upsample.ts: a 3×3 Conv over Concat(nearest ×2 Resize(x), rest) becomes DepthToSpace(phase Conv(x)) + Conv(rest),
 * the DepthToSpace as NHWC Transpose/Reshape steps. References: onnxruntime running the unfolded float graph (the fold
 * must not change it), onnxruntime's own Resize for which coordinate modes read pixel ⌊y/2⌋, its own DepthToSpace for
 * the steps, and a hand-computed phase kernel.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { GraphBuilder } from '../../src/onnx/builder';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import { AUTO_FOLD_MAX_ERROR_GROWTH, QUANTIZATION_METADATA_KEY, compareOutputs, depthToSpaceSteps, foldUpsampleConvs, optimizedOpCounts, quantizeStatic, upsamplePhaseWeights } from '../../converters/quantize-static';
import { getMetadata } from '../../src/onnx/metadata';
import type { onnx } from '../../src/onnx/proto';
import { runModel, seeded } from '../onnx/fixtures';
import { unetDenoiser } from './quantize-fixtures';

const feed = (h: number, w: number, seed = 5): Record<string, FloatTensor> => ({ noisy: { data: seeded(h * w, seed).map((v) => 0.5 + 0.45 * v), dims: [1, 1, h, w] } });

async function maxAbs(a: onnx.ModelProto, b: onnx.ModelProto, f: Record<string, FloatTensor>, out = 'denoised'): Promise<number> {
  const [x, y] = [(await runModel(a, f))[out].data, (await runModel(b, f))[out].data];
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

/** Conv 3×3 over Concat(r, Resize(x, scales 2) with the given modes): x [1,3,h,w], r [1,2,2h,2w]; `showUp`: the Resize output is an output too. */
function upsampleConvModel(coord: string, nearest: string, showUp = false): onnx.ModelProto {
  const b = new GraphBuilder('up-conv');
  b.addInput('x', [1, 3, 'h', 'w']);
  b.addInput('r', [1, 2, 'H', 'W']);
  b.addInitializer('scales', [4], Float32Array.of(1, 1, 2, 2));
  b.addNode('Resize', ['x', '', 'scales'], ['up'], { mode: 'nearest', coordinate_transformation_mode: coord, nearest_mode: nearest }, 'up/Resize');
  b.addNode('Concat', ['r', 'up'], ['cat'], { axis: 1 }, 'cat/Concat');
  b.addInitializer('w', [4, 5, 3, 3], seeded(4 * 5 * 9, 3));
  b.addInitializer('b', [4], seeded(4, 4));
  b.addNode('Conv', ['cat', 'w', 'b'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv/Conv');
  b.addOutput('y', [1, 4, 'H', 'W']);
  if (showUp) b.addOutput('up', [1, 3, 'H', 'W']);
  return b.toModel({ opset: 17 });
}

describe('folding a nearest ×2 upsampling into the 3×3 Conv after it', () => {
  it('phase kernels: the hand-computed sums of a 3×3 kernel over the four output phases', () => {
    const w = Float32Array.from({ length: 9 }, (_, i) => i + 1); // rows [1 2 3], [4 5 6], [7 8 9]
    const p = Array.from(upsamplePhaseWeights(w, 1, 1, 0, 1));
    // Phase (0, 0): up rows 2i−1, 2i, 2i+1 = x rows i−1, i, i → kernel rows (row0, row1 + row2, 0); same for columns.
    expect(p.slice(0, 9)).toEqual([1, 2 + 3, 0, 4 + 7, 5 + 6 + 8 + 9, 0, 0, 0, 0]);
    // Phase (0, 1): columns 2j, 2j+1, 2j+2 = x columns j, j, j+1.
    expect(p.slice(9, 18)).toEqual([0, 1 + 2, 3, 0, 4 + 5 + 7 + 8, 6 + 9, 0, 0, 0]);
    // Phase (1, 0) and (1, 1).
    expect(p.slice(18, 27)).toEqual([0, 0, 0, 1 + 4, 2 + 3 + 5 + 6, 0, 7, 8 + 9, 0]);
    expect(p.slice(27, 36)).toEqual([0, 0, 0, 0, 1 + 2 + 4 + 5, 3 + 6, 0, 7 + 8, 9]);
    // Every phase keeps the kernel's total.
    for (let k = 0; k < 4; k++) expect(p.slice(9 * k, 9 * k + 9).reduce((a, v) => a + v, 0)).toBe(45);
  });

  it('leaves the float model unchanged (onnxruntime, two sizes) and removes the Resize and the upsampled Concat', async () => {
    const fp32 = unetDenoiser();
    const { model, folded } = await foldUpsampleConvs(fp32, [feed(16, 16)]);
    expect(folded).toEqual([{ conv: 'c3/Conv', resize: 'up/Resize', channels: { upsampled: 8, rest: 9 } }]);
    const ops = (model.graph?.node ?? []).map((n) => n.opType);
    expect(ops).not.toContain('Resize');
    expect(ops).not.toContain('DepthToSpace');
    expect(ops.filter((o) => o === 'Transpose')).toHaveLength(3);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(5);
    for (const [h, w] of [[24, 24], [20, 28]]) expect(await maxAbs(fp32, model, feed(h, w, h + w))).toBeLessThan(1e-5);
    // The caller's model is untouched.
    expect((fp32.graph?.node ?? []).some((n) => n.opType === 'Resize')).toBe(true);
  });

  it("folds exactly the coordinate modes whose ×2 nearest Resize reads pixel ⌊y/2⌋ in onnxruntime, and those exactly", async () => {
    const modes: Array<[string, string]> = [];
    for (const ct of ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'align_corners']) {
      for (const nm of ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil']) modes.push([ct, nm]);
    }
    // Two sizes: a mode that reads ⌊y/2⌋ at one size only (none should) must not be folded.
    const sizes = [[5, 6], [8, 1]].map(([h, w]) => ({ h, w, f: { x: { data: seeded(3 * h * w, 8 + h), dims: [1, 3, h, w] }, r: { data: seeded(2 * 4 * h * w, 9 + h), dims: [1, 2, 2 * h, 2 * w] } } }));
    for (const [ct, nm] of modes) {
      const s = await createSession(encodeModel(upsampleConvModel(ct, nm, true)), { device: 'cpu', threads: 1 });
      let floorIndexing = true;
      for (const { h, w, f } of sizes) {
        const up = (await s.run(f, ['up'])).up.data;
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < 2 * h; y++) {
            for (let x = 0; x < 2 * w; x++) floorIndexing &&= up[(c * 2 * h + y) * 2 * w + x] === f.x.data[(c * h + (y >> 1)) * w + (x >> 1)];
          }
        }
      }
      await s.release();
      const f = sizes[0].f;
      const m = upsampleConvModel(ct, nm);
      const { model, folded } = await foldUpsampleConvs(m, [f]);
      expect([ct, nm, folded.length]).toEqual([ct, nm, floorIndexing ? 1 : 0]);
      if (folded.length) expect(await maxAbs(m, model, f, 'y')).toBeLessThan(1e-5);
    }
  });

  it('leaves alone a Conv without pad 1, a Concat that something else reads, and a Resize given by sizes', async () => {
    const f = { x: { data: seeded(3 * 16, 1), dims: [1, 3, 4, 4] }, r: { data: seeded(2 * 64, 2), dims: [1, 2, 8, 8] } };
    expect((await foldUpsampleConvs(upsampleConvModel('asymmetric', 'floor'), [f])).folded).toHaveLength(1);
    const unpadded = upsampleConvModel('asymmetric', 'floor');
    const conv = unpadded.graph?.node?.find((n) => n.opType === 'Conv') as onnx.NodeProto;
    conv.attribute = (conv.attribute ?? []).map((a) => (a.name === 'pads' ? { ...a, ints: [0, 0, 0, 0] } : a)) as onnx.AttributeProto[];
    expect((await foldUpsampleConvs(unpadded, [f])).folded).toEqual([]);
    const shared = upsampleConvModel('asymmetric', 'floor');
    shared.graph?.output?.push({ ...(shared.graph.output[0] as onnx.ValueInfoProto), name: 'cat' } as onnx.ValueInfoProto);
    expect((await foldUpsampleConvs(shared, [f])).folded).toEqual([]);
    const sized = upsampleConvModel('asymmetric', 'floor');
    const resize = sized.graph?.node?.find((n) => n.opType === 'Resize') as onnx.NodeProto;
    resize.input = ['x', '', '', 'sizes'];
    sized.graph?.initializer?.push({ name: 'sizes', dims: [4], dataType: 7, int64Data: [1, 3, 8, 8] } as unknown as onnx.TensorProto);
    expect((await foldUpsampleConvs(sized, [f])).folded).toEqual([]);
  });

  it('DepthToSpace steps: the same values as onnxruntime\'s DepthToSpace (DCR, blocksize 2) at any batch and size', async () => {
    for (const [n, c, h, w] of [[1, 3, 4, 5], [2, 2, 3, 1], [1, 1, 1, 1]]) {
      const build = (steps: boolean) => {
        const b = new GraphBuilder('d2s');
        b.addInput('x', [n, 4 * c, 'h', 'w']);
        if (steps) {
          const { nodes, initializers } = depthToSpaceSteps('x', 'y', c, 'd2s', b);
          for (const t of initializers) b.addTensor(t);
          b.nodes.push(...nodes);
        } else {
          b.addNode('DepthToSpace', ['x'], ['y'], { blocksize: 2, mode: 'DCR' }, 'd2s');
        }
        b.addOutput('y', [n, c, 'H', 'W']);
        return b.toModel({ opset: 13 });
      };
      const f = { x: { data: seeded(n * 4 * c * h * w, h * 10 + w), dims: [n, 4 * c, h, w] } };
      const [want, got] = [(await runModel(build(false), f)).y, (await runModel(build(true), f)).y];
      expect(got.dims).toEqual([n, c, 2 * h, 2 * w]);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
    }
  });

  it('quantized: every Conv on int8, the DepthToSpace steps on 8 bits in NHWC and the sum as QLinearAdd, about as close to float as unfolded', async () => {
    const fp32 = unetDenoiser();
    const calib = [feed(16, 16, 31), feed(16, 16, 32), feed(16, 16, 33), feed(16, 16, 34)];
    const plain = await quantizeStatic(fp32, calib, { foldUpsample: false });
    const { model, report } = await quantizeStatic(fp32, calib, { foldUpsample: true });
    expect(plain.report.foldedUpsamples).toEqual([]);
    expect(plain.report.foldDecision).toBeUndefined();
    expect(report.foldedUpsamples.map((f) => f.conv)).toEqual(['c3/Conv']);
    expect(report.quantized).toHaveLength(5);
    expect(report.adds.map((a) => a.fusedRelu)).toEqual([true]);
    // Transpose, Reshape, Transpose, Reshape, Transpose: each output on its input's grid.
    expect(report.moved).toHaveLength(5);
    const ops = await optimizedOpCounts(model);
    expect(ops).toMatchObject({ QLinearConv: 5, QLinearAdd: 1 });
    expect(ops.Conv ?? 0).toBe(0);
    expect(ops.DepthToSpace ?? 0).toBe(0);
    // The steps move 8-bit values with their input's scale and zero point, so onnxruntime drops every pair.
    expect(ops.DequantizeLinear ?? 0).toBeLessThanOrEqual((await optimizedOpCounts(plain.model)).DequantizeLinear ?? 0);
    // In onnxruntime's optimized graph (int8 convs in NHWC) the outer Transposes cancel its own layout ones: the phase
    // QLinearConv's uint8 output reaches the QLinearAdd through Reshape, one 5-D Transpose (the row interleave), Reshape.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-fold-'));
    try {
      const file = path.join(dir, 'optimized.onnx');
      await (await createSession(encodeModel(model), { device: 'cpu', threads: 1, optimizedModelPath: file })).release();
      const g = loadModel(file).graph as onnx.GraphProto;
      const producer = new Map(g.node.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
      const add = g.node.find((n) => n.opType === 'QLinearAdd') as onnx.NodeProto;
      const chains = [add.input?.[0], add.input?.[3]].map((t) => {
        const ops: string[] = [];
        for (let n = producer.get(t as string); n; n = producer.get(n.input?.[0] as string)) {
          ops.push(n.opType === 'Transpose' ? `Transpose/${(n.attribute ?? []).find((a) => a.name === 'perm')?.ints?.length}` : (n.opType as string));
          if (n.opType !== 'Reshape' && n.opType !== 'Transpose') break;
        }
        return ops;
      });
      expect(chains).toContainEqual(['Reshape', 'Transpose/5', 'Reshape', 'QLinearConv']);
      expect(chains).toContainEqual(['QLinearConv']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const test = feed(24, 24, 77);
    const [dPlain, dFold] = [await maxAbs(fp32, plain.model, test), await maxAbs(fp32, model, test)];
    expect(dFold).toBeLessThan(Math.max(2 * dPlain, 0.02));
  });

  it("by default ('auto') quantizes both ways and keeps the fold only when its int8 error is not more than 5 % larger", async () => {
    const fp32 = unetDenoiser();
    const calib = [feed(16, 16, 31), feed(16, 16, 32), feed(16, 16, 33), feed(16, 16, 34)];
    const { model, report } = await quantizeStatic(fp32, calib);
    const d = report.foldDecision as NonNullable<typeof report.foldDecision>;
    expect(d.folded).toBe(d.foldedMeanAbs <= AUTO_FOLD_MAX_ERROR_GROWTH * d.unfoldedMeanAbs);
    expect(report.foldedUpsamples.length > 0).toBe(d.folded);
    // The returned model's own difference, measured once, for callers (the CLI) to reuse.
    expect(report.calibrationDiff?.meanAbs).toBe(d.folded ? d.foldedMeanAbs : d.unfoldedMeanAbs);
    // The numbers are the two forced variants' errors on the same inputs.
    for (const [forced, meanAbs] of [[true, d.foldedMeanAbs], [false, d.unfoldedMeanAbs]] as const) {
      const q = await quantizeStatic(fp32, calib, { foldUpsample: forced });
      expect((await compareOutputs(fp32, q.model, calib)).meanAbs).toBeCloseTo(meanAbs, 12);
    }
    expect(JSON.parse(getMetadata(model)[QUANTIZATION_METADATA_KEY]).foldDecision).toEqual(d);
  });
});
