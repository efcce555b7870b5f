/** A tiny DnCNN-like residual denoiser built with GraphBuilder, for the static int8 quantization tests. */
import { GraphBuilder } from '../../src/onnx/builder';
import type { onnx } from '../../src/onnx/proto';
import { seeded } from '../onnx/fixtures';

/** Adds a 3×3 Conv (pads 1) with seeded weights scaled by 1/√(4·cin) and small biases; returns its output name. */
export function addConv(b: GraphBuilder, name: string, x: string, cin: number, cout: number, seed: number, stride = 1): string {
  b.addInitializer(`${name}.w`, [cout, cin, 3, 3], seeded(cout * cin * 9, seed).map((v) => v / Math.sqrt(cin * 4)));
  b.addInitializer(`${name}.b`, [cout], seeded(cout, seed + 100).map((v) => v * 0.1));
  b.addNode('Conv', [x, `${name}.w`, `${name}.b`], [name], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] }, `${name}/Conv`);
  return name;
}

/** noisy [N,1,H,W] → conv 1→8 relu → conv 8→8 relu → conv 8→8 (+ skip) relu → conv 8→8 relu → conv 8→1 → noisy − noise. */
export function residualDenoiser(opset = 17): onnx.ModelProto {
  const b = new GraphBuilder('tiny-dncnn');
  b.addInput('noisy', ['N', 1, 'H', 'W']);
  const conv = (name: string, x: string, cin: number, cout: number, seed: number) => addConv(b, name, x, cin, cout, seed);
  const relu = (x: string) => b.addNode('Relu', [x], [`${x}_relu`]).output[0];
  const r1 = relu(conv('c1', 'noisy', 1, 8, 1));
  const r2 = relu(conv('c2', r1, 8, 8, 2));
  const c3 = conv('c3', r2, 8, 8, 3);
  b.addNode('Add', [c3, r1], ['skip']);
  const r3 = relu('skip');
  const r4 = relu(conv('c4', r3, 8, 8, 4));
  const noise = conv('c5', r4, 8, 1, 5);
  b.addNode('Sub', ['noisy', noise], ['denoised']);
  b.addOutput('denoised', ['N', 1, 'H', 'W']);
  return b.toModel({ opset, metadata: { 'onnxtune.task': 'denoise' } });
}

/**
 * A two-level U-Net denoiser shaped like onnxtune's heads: conv 1→8 relu → conv 8→8 stride 2 relu (×`gain`, so the
 * features span far more than the image) → nearest Resize ×2 → Concat(up, the full-resolution features, the noisy image)

 * → conv 17→8 (weights on the upsampled features ÷ `gain`) relu → conv 8→1 → noisy + residual. The image is also read by the final Add, as in onnxtune exports.
 */
export function unetDenoiser(gain = 16): onnx.ModelProto {
  const b = new GraphBuilder('tiny-unet');
  b.addInput('noisy', ['N', 1, 'H', 'W']);
  const conv = (name: string, x: string, cin: number, cout: number, seed: number, stride = 1, scale = 1, inScale?: (c: number) => number) => {
    const w = seeded(cout * cin * 9, seed).map((v) => (scale * v) / Math.sqrt(cin * 4));
    if (inScale) w.forEach((v, i) => (w[i] = v * inScale(Math.floor(i / 9) % cin)));
    b.addInitializer(`${name}.w`, [cout, cin, 3, 3], w);
    b.addInitializer(`${name}.b`, [cout], seeded(cout, seed + 100).map((v) => v * 0.1 * scale));
    b.addNode('Conv', [x, `${name}.w`, `${name}.b`], [name], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] }, `${name}/Conv`);
    return name;
  };
  const relu = (x: string) => b.addNode('Relu', [x], [`${x}_relu`]).output[0];
  const f1 = relu(conv('c1', 'noisy', 1, 8, 11));
  const f2 = relu(conv('c2', f1, 8, 8, 12, 2, gain));
  b.addInitializer('up.scales', [4], Float32Array.of(1, 1, 2, 2));
  b.addNode('Resize', [f2, '', 'up.scales'], ['up'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'up/Resize');
  b.addNode('Concat', ['up', f1, 'noisy'], ['cat'], { axis: 1 }, 'cat/Concat');
  // c3 weighs the upsampled features down by the gain, so all three inputs matter to its output.
  const f3 = relu(conv('c3', 'cat', 17, 8, 13, 1, 1, (c) => (c < 8 ? 1 / gain : 1)));
  const noise = conv('c4', f3, 8, 1, 14);
  b.addNode('Add', ['noisy', noise], ['denoised']);
  b.addOutput('denoised', ['N', 1, 'H', 'W']);
  return b.toModel({ opset: 17, metadata: { 'onnxtune.task': 'denoise' } });
}

/**
 * A denoiser with a CIFAR ResNet downsampling block ("option A" shortcut, as in resnet20): conv 1→8 relu → [conv 8→16
 * stride 2 relu → conv 16→16] + [Slice every 2nd row and column of the block input → Pad 4 zero channels each side]
 * → Relu → nearest Resize ×2 → conv 16→1 → noisy − noise. With `padValue`, the shortcut's Pad fills that constant.
 */
export function stridedShortcutDenoiser(padValue?: number): onnx.ModelProto {
  const b = new GraphBuilder('tiny-resnet-a');
  b.addInput('noisy', ['N', 1, 'H', 'W']);
  const conv = (name: string, x: string, cin: number, cout: number, seed: number, stride = 1) => addConv(b, name, x, cin, cout, seed, stride);
  const relu = (x: string) => b.addNode('Relu', [x], [`${x}_relu`]).output[0];
  const r1 = relu(conv('c1', 'noisy', 1, 8, 21));
  const c3 = conv('c3', relu(conv('c2', r1, 8, 16, 22, 2)), 16, 16, 23);
  b.addInt64Initializer('sc.starts', [2], [0, 0]);
  b.addInt64Initializer('sc.ends', [2], [2 ** 31 - 1, 2 ** 31 - 1]);
  b.addInt64Initializer('sc.axes', [2], [2, 3]);
  b.addInt64Initializer('sc.steps', [2], [2, 2]);
  b.addNode('Slice', [r1, 'sc.starts', 'sc.ends', 'sc.axes', 'sc.steps'], ['sc.strided'], {}, 'sc/Slice');
  b.addInt64Initializer('sc.pads', [8], [0, 4, 0, 0, 0, 4, 0, 0]);
  const padInputs = ['sc.strided', 'sc.pads'];
  if (padValue !== undefined) padInputs.push(b.addInitializer('sc.value', [], Float32Array.of(padValue)));
  b.addNode('Pad', padInputs, ['sc'], {}, 'sc/Pad');
  b.addNode('Add', [c3, 'sc'], ['block'], {}, 'block/Add');
  const r3 = relu('block');
  b.addInitializer('up.scales', [4], Float32Array.of(1, 1, 2, 2));
  b.addNode('Resize', [r3, '', 'up.scales'], ['up'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'up/Resize');
  const noise = conv('c4', 'up', 16, 1, 24);
  b.addNode('Sub', ['noisy', noise], ['denoised'], {}, 'residual/Sub');
  b.addOutput('denoised', ['N', 1, 'H', 'W']);
  return b.toModel({ opset: 17, metadata: { 'onnxtune.task': 'denoise' } });
}
