/** A tiny DnCNN-like residual denoiser built with GraphBuilder, for the static int8 quantization tests. */
import { GraphBuilder } from '../../src/onnx/builder';
import type { onnx } from '../../src/onnx/proto';
import { seeded } from '../onnx/fixtures';

/** noisy [N,1,H,W] → conv 1→8 relu → conv 8→8 relu → conv 8→8 (+ skip) relu → conv 8→8 relu → conv 8→1 → noisy − noise. */
export function residualDenoiser(opset = 17): onnx.ModelProto {
  const b = new GraphBuilder('tiny-dncnn');
  b.addInput('noisy', ['N', 1, 'H', 'W']);
  const conv = (name: string, x: string, cin: number, cout: number, seed: number) => {
    b.addInitializer(`${name}.w`, [cout, cin, 3, 3], seeded(cout * cin * 9, seed).map((v) => v / Math.sqrt(cin * 4)));
    b.addInitializer(`${name}.b`, [cout], seeded(cout, seed + 100).map((v) => v * 0.1));
    b.addNode('Conv', [x, `${name}.w`, `${name}.b`], [name], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, `${name}/Conv`);
    return name;
  };
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
