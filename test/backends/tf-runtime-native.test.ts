/**
 * src/backends/tf.ts with native TensorFlow.js forced. tfjs-node is an optional dependency built by
 * `npm run setup:native`; without it this test is skipped with a message saying so.
 */
import { initTf } from '../../src/backends/tf';
import { setConsoleSink } from '../../src/log';

function nativeLoads(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

const native = nativeLoads();
if (!native) {
  process.stdout.write('tf-runtime-native: @tensorflow/tfjs-node does not load (`npm run setup:native`); skipped.\n');
}
const itNative = native ? it : it.skip;

itNative('initTf({ backend: "tensorflow" }) reports the TensorFlow version', async () => {
  const restore = setConsoleSink(() => undefined);
  try {
    const rt = await initTf({ backend: 'tensorflow' });
    expect(rt.backend).toBe('tensorflow');
    expect(rt.description).toMatch(/^tensorflow \(tfjs-node 4\.\d+\.\d+, TF \d+\.\d+\.\d+\)$/);
  } finally {
    restore();
  }
});
