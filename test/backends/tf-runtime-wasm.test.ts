/**
 * src/backends/tf.ts with the wasm backend forced: the training kernels are registered and a
 * conv gradient runs (one runtime per process, so native and wasm are in separate files).
 */
import type * as TfModule from '@tensorflow/tfjs';
import { initTf } from '../../src/backends/tf';
import { WASM_TRAINING_KERNELS } from '../../src/backends/wasm-kernels';
import { setConsoleSink } from '../../src/log';

it('initTf({ backend: "wasm" }) registers the training kernels and trains a conv', async () => {
  const lines: string[] = [];
  const restore = setConsoleSink((_level, line) => lines.push(line));
  try {
    const rt = await initTf({ backend: 'wasm' });
    expect(rt.backend).toBe('wasm');
    expect(rt.tf.getBackend()).toBe('wasm');
    for (const k of WASM_TRAINING_KERNELS) expect(rt.tf.getKernel(k, 'wasm')).toBeDefined();
    const { tf } = rt;
    const loss = (w: TfModule.Tensor): TfModule.Tensor =>
      tf.sum(tf.conv2d(tf.ones([2, 6, 6, 3]) as TfModule.Tensor4D, w as TfModule.Tensor4D, 2, 'same'));
    const g = tf.tidy(() => tf.grad(loss)(tf.ones([3, 3, 3, 4])).dataSync());
    expect(g.length).toBe(3 * 3 * 3 * 4);
    expect(g.every(Number.isFinite)).toBe(true);
    expect(lines.some((l) => l.startsWith('TensorFlow.js backend: wasm'))).toBe(true);
  } finally {
    restore();
  }
});
