/**
 * Joins a cut encoder and a decoder head into ONE denoiser graph (`noisy` → `denoised`):
 * reflect-pad to the deepest stride, encoder → taps → decoder, crop, inference-only Clip(0,1).
 * Runtime-free: the export stage and the page's fine-tuning both call it.
 */
import { mergeModels } from '../src/onnx/compose';
import { AttributeType, type ModelProto, type NodeProto } from '../src/onnx/proto';
import { floatTensor, int64Tensor } from '../src/onnx/tensor';
import type { EncoderIo } from './encoder-io';
import { IMAGE_INPUT, tapInputName } from './train/decoder';

export const EXPORT_INPUT = 'noisy';
export const EXPORT_OUTPUT = 'denoised';

/**
 * Combines encoder and decoder ONNX graphs into one denoiser taking `noisy` [N,C,H,W] and
 * returning `denoised` [N,C,H,W] for any H, W ≥ 1: the input is reflect-padded to a multiple of the
 * deepest stride (so skip connections align; the edge repeats where a side is too short to mirror)
 * and the output cropped back, then clipped to [0,1].
 */
export function combine(encoder: ModelProto, decoder: ModelProto, io: EncoderIo, opset: number): ModelProto {
  const decoderOut = decoder.graph?.output?.[0]?.name as string;
  // A head may read only some taps (and not the image): wire the inputs it has.
  const decoderInputs = new Set((decoder.graph?.input ?? []).map((i) => i.name));
  const merged = mergeModels(encoder, decoder, {
    connect: io.taps.map((t, i) => [t.name, tapInputName(i)] as [string, string]).filter(([, d]) => decoderInputs.has(d)),
    shareInputs: decoderInputs.has(IMAGE_INPUT) ? [[io.input, IMAGE_INPUT]] : [],
    outputs: [`decoder/${decoderOut}`],
    prefixA: 'encoder/',
    prefixB: 'decoder/',
    opset,
  });
  const g = merged.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const oldIn = g.input!.find((i) => !inits.has(i.name))!.name as string;
  g.input!.find((i) => i.name === oldIn)!.name = EXPORT_INPUT;
  const S = io.strideMultiple;
  const padded = S > 1 ? 'export/padded' : EXPORT_INPUT;
  for (const node of g.node ?? []) node.input = (node.input ?? []).map((x) => (x === oldIn ? padded : x));

  const pre: NodeProto[] = [];
  let last = `decoder/${decoderOut}`;
  const post: NodeProto[] = [];
  if (S > 1) {
    g.initializer!.push(
      int64Tensor('export/hw_start', [1], [2]),
      int64Tensor('export/hw_end', [1], [4]),
      int64Tensor('export/stride', [2], [S, S]),
      int64Tensor('export/one', [1], [1]),
      int64Tensor('export/zero_pads', [6], [0, 0, 0, 0, 0, 0]),
      int64Tensor('export/crop_start', [2], [0, 0]),
      int64Tensor('export/crop_axes', [2], [2, 3]),
    );
    const node = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []): NodeProto =>
      ({ opType, input, output: [output], name: output, attribute });
    const mode = (m: string) => ({ name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode(m) });
    pre.push(
      node('Shape', [EXPORT_INPUT], 'export/shape'),
      node('Slice', ['export/shape', 'export/hw_start', 'export/hw_end'], 'export/hw'),
      node('Mod', ['export/hw', 'export/stride'], 'export/rem'),
      node('Sub', ['export/stride', 'export/rem'], 'export/gap'),
      node('Mod', ['export/gap', 'export/stride'], 'export/pad_hw'),
      // Reflect needs side − 1 ≥ pad (onnxruntime refuses a 1- or 2-pixel side): mirror what fits, repeat the edge for the rest.
      // From S pixels on a side the edge part is 0 and the output is what reflect alone gives.
      node('Sub', ['export/hw', 'export/one'], 'export/hw_minus_one'),
      node('Min', ['export/pad_hw', 'export/hw_minus_one'], 'export/reflect_hw'),
      node('Sub', ['export/pad_hw', 'export/reflect_hw'], 'export/edge_hw'),
      node('Concat', ['export/zero_pads', 'export/reflect_hw'], 'export/pads', [{ name: 'axis', type: AttributeType.INT, i: 0 }]),
      node('Concat', ['export/zero_pads', 'export/edge_hw'], 'export/edge_pads', [{ name: 'axis', type: AttributeType.INT, i: 0 }]),
      node('Pad', [EXPORT_INPUT, 'export/pads'], 'export/reflected', [mode('reflect')]),
      node('Pad', ['export/reflected', 'export/edge_pads'], 'export/padded', [mode('edge')]),
    );
    post.push(node('Slice', [last, 'export/crop_start', 'export/hw', 'export/crop_axes'], 'export/cropped'));
    last = 'export/cropped';
  }
  // Clip at inference only: during training a clip would kill gradients at the bounds.
  g.initializer!.push(floatTensor('export/clip_min', [], new Float32Array([0])), floatTensor('export/clip_max', [], new Float32Array([1])));
  post.push({ opType: 'Clip', input: [last, 'export/clip_min', 'export/clip_max'], output: [EXPORT_OUTPUT], name: 'export/clip' });
  g.node = [...pre, ...(g.node ?? []), ...post];
  g.output![0].name = EXPORT_OUTPUT;
  return merged;
}
