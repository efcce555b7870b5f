/**
 * layout-hints.ts: a no-op Transpose → Reshape → Transpose on the 8-bit side of a Concat input that is not a Conv output,
 * so onnxruntime runs the QLinearConcat in NHWC. References: the same model quantized without hints (outputs must be
 * bit-identical) and onnxruntime's own optimized graph (where the Concat ends up).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import { hintConcatLayouts, quantizeStatic } from '../../converters/quantize-static';
import type { onnx } from '../../src/onnx/proto';
import { runModel, seeded } from '../onnx/fixtures';
import { GraphBuilder } from '../../src/onnx/builder';
import { addConv, unetDenoiser } from './quantize-fixtures';

const feed = (h: number, w: number, seed = 5, c = 1): Record<string, FloatTensor> => ({ noisy: { data: seeded(c * h * w, seed).map((v) => 0.5 + 0.45 * v), dims: [1, c, h, w] } });

/** onnxruntime's optimized graph of `model` (1 thread, all optimizations). */
async function optimized(model: onnx.ModelProto): Promise<onnx.GraphProto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-hints-'));
  try {
    const file = path.join(dir, 'optimized.onnx');
    await (await createSession(encodeModel(model), { device: 'cpu', threads: 1, optimizedModelPath: file })).release();
    return loadModel(file).graph as onnx.GraphProto;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * noisy [1, 4, H, W] → conv 4→8 relu → Concat(features, noisy) → conv 12→8 relu → conv 8→4 → noisy + residual: the image
 * joins one Conv output, both of rank 3 by onnxruntime's count (dims other than 1), as in onnxtune's full-resolution level.
 */
function imageSkipDenoiser(): onnx.ModelProto {
  const b = new GraphBuilder('image-skip');
  b.addInput('noisy', [1, 4, 'H', 'W']);
  const relu = (x: string) => b.addNode('Relu', [x], [`${x}_relu`]).output[0];
  const f1 = relu(addConv(b, 'c1', 'noisy', 4, 8, 41));
  b.addNode('Concat', [f1, 'noisy'], ['cat'], { axis: 1 }, 'cat/Concat');
  const f2 = relu(addConv(b, 'c2', 'cat', 12, 8, 42));
  b.addNode('Add', ['noisy', addConv(b, 'c3', f2, 8, 4, 43)], ['denoised']);
  b.addOutput('denoised', [1, 4, 'H', 'W']);
  return b.toModel({ opset: 17 });
}

describe('NHWC layout hints for int8 Concats', () => {

  it('hint the image input of the Concat, change no output value, and let onnxruntime run that Concat in NHWC', async () => {
    for (const [fp32, c, tie] of [[imageSkipDenoiser(), 4, true], [unetDenoiser(), 1, false]] as const) {
      const calib = [feed(16, 16, 31, c), feed(16, 16, 32, c), feed(16, 16, 33, c)];
      const [plain, hinted] = [await quantizeStatic(fp32, calib, { layoutHints: false }), await quantizeStatic(fp32, calib)];
      expect(plain.report.layoutHints).toEqual([]);
      // The noisy image (padded to 4 channels for the int8 kernels) joins the conv features.
      expect(hinted.report.layoutHints).toHaveLength(1);
      expect(hinted.report.layoutHints[0]).toMatch(/^noisy_/);
      for (const [h, w] of [[16, 16], [12, 20]]) {
        const f = feed(h, w, h + w, c);
        const [a, b] = [(await runModel(plain.model, f)).denoised.data, (await runModel(hinted.model, f)).denoised.data];
        expect(Array.from(b)).toEqual(Array.from(a));
      }
      // In onnxruntime's graph the QLinearConcat feeding the QLinearConv reads no Transpose of a Conv output and
      // writes no Transpose: it runs in the Convs' NHWC layout.
      const [gPlain, gHinted] = [await optimized(plain.model), await optimized(hinted.model)];
      const count = (g: onnx.GraphProto, op: string) => g.node.filter((n) => n.opType === op).length;
      // With one Conv input and the image, onnxruntime's cost heuristic ties and leaves the Concat in NCHW unless hinted
      // (a Transpose more); with more Conv-computed inputs (the U-Net) it moves the Concat itself and the hint changes nothing.
      if (tie) expect(count(gHinted, 'Transpose')).toBeLessThan(count(gPlain, 'Transpose'));
      else expect(count(gHinted, 'Transpose')).toBe(count(gPlain, 'Transpose'));
      const concats = gHinted.node.filter((n) => n.opType === 'QLinearConcat');
      expect(concats).toHaveLength(1);
      const readers = gHinted.node.filter((n) => (n.input ?? []).includes(concats[0].output?.[0] as string)).map((n) => n.opType);
      expect(readers).toEqual(['QLinearConv']);
      if (tie) {
        // Unhinted, onnxruntime transposes the whole Concat output back to NHWC for the Conv.
        const plainConcat = gPlain.node.find((n) => n.opType === 'QLinearConcat') as onnx.NodeProto;
        expect(gPlain.node.filter((n) => (n.input ?? []).includes(plainConcat.output?.[0] as string)).map((n) => n.opType)).toEqual(['Transpose']);
      }
    }
  });

  it('leaves alone a model without a mixed Concat, and Concats of Conv outputs only', async () => {
    // A float model has no DequantizeLinear inputs at all.
    expect(hintConcatLayouts(unetDenoiser()).hinted).toEqual([]);
    const b = new GraphBuilder('two-branches');
    b.addInput('noisy', [1, 4, 'H', 'W']);
    b.addNode('Concat', [addConv(b, 'a', 'noisy', 4, 8, 51), addConv(b, 'b', 'noisy', 4, 8, 52)], ['cat'], { axis: 1 }, 'cat/Concat');
    b.addNode('Add', ['noisy', addConv(b, 'c', 'cat', 16, 4, 53)], ['denoised']);
    b.addOutput('denoised', [1, 4, 'H', 'W']);
    const { report } = await quantizeStatic(b.toModel({ opset: 17 }), [feed(16, 16, 1, 4), feed(16, 16, 2, 4)]);
    expect(report.concats).toHaveLength(1);
    expect(report.layoutHints).toEqual([]);
  });
});
