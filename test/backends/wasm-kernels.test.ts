/**
 * The training kernels registered for the wasm backend (src/backends/wasm-kernels.ts): their
 * gradients against the pure-JS cpu backend (same process, `tf.setBackend`), resize gradients
 * against an exact finite-difference reference (the cpu backend's own are wrong there), and
 * a small conv model that trains on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { quietCpu, rnd } from '../helpers/tf-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/backends/wasm-kernels';

type Backend = 'cpu' | 'wasm';
/** [stride or kernel, padding, kernel or stride], as each table's title says. */
type Case = [number, 'same' | 'valid', number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Deterministic N(0,1) values; the same on every backend (generated in JS). */

/** Runs fn on one backend and returns its outputs, flattened and concatenated. */
async function on(backend: Backend, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => {
    const r = fn();
    const list = Array.isArray(r) ? r : [r];
    return tf.concat(list.map((t) => tf.reshape(t, [-1])));
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/** Compares fn on wasm with fn on cpu: |wasm − cpu| ≤ 1e-4 · max(1, max|cpu|). Returns the max diff. */
async function expectWasmMatchesCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const cpu = await on('cpu', fn);
  const wasm = await on('wasm', fn);
  const scale = Math.max(1, ...Array.from(cpu, Math.abs));
  expect(wasm).toBeCloseToArray(cpu, { atol: 1e-4 * scale });
  let max = 0;
  for (let i = 0; i < cpu.length; i++) max = Math.max(max, Math.abs(wasm[i] - cpu[i]));
  return max;
}

const maxDiffs: Record<string, number> = {};

beforeAll(async () => {
  await quietCpu();
  registerWasmTrainingKernels(tf);
  expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(() => {
  // One line for the record: the largest |wasm − cpu| per group.
  process.stdout.write(`wasm vs cpu max abs diffs: ${JSON.stringify(maxDiffs)}\n`);
});

function note(group: string, d: number): void {
  maxDiffs[group] = Math.max(maxDiffs[group] ?? 0, d);
}

describe('registration', () => {
  it('registers every kernel for wasm, idempotently', () => {
    const before = WASM_TRAINING_KERNELS.map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
    registerWasmTrainingKernels(tf);
    const after = WASM_TRAINING_KERNELS.map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
    expect(before.every((f) => typeof f === 'function')).toBe(true);
    expect(after).toEqual(before);
  });

  it('rejects NCHW with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 5, 5]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'same',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 2, 3],
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/dataFormat 'NCHW' is not supported; only 'NHWC'/);
    tf.dispose([x, dy]);
  });
});

describe('conv2d gradients: wasm vs cpu', () => {
  // stride × padding × kernel × (odd | even) spatial size; batch 3, 3 → 5 channels.
  const cases: Array<[number, 'same' | 'valid', number, [number, number]]> = [];
  for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const k of [3, 4]) {
    for (const hw of [[9, 7], [8, 10]] as Array<[number, number]>) cases.push([s, pad, k, hw]);
  }

  it.each(cases)('stride %i, %s, k=%i, %p: loss gradients of a two-conv net', async (s, pad, k, [h, w]) => {
    const loss = (x: tf.Tensor4D, w1: tf.Tensor4D, b1: tf.Tensor1D, w2: tf.Tensor4D): tf.Scalar => {
      const y1 = tf.relu(tf.add(tf.conv2d(x, w1, s, pad), b1)) as tf.Tensor4D;
      const y2 = tf.conv2d(y1, w2, 1, 'same');
      return tf.mean(tf.square(tf.sub(y2, rnd(y2.shape, 9))));
    };
    const fn = (): tf.Tensor[] =>
      tf.grads(loss as (...a: tf.Tensor[]) => tf.Tensor)([
        rnd([3, h, w, 3], 1),
        tf.mul(rnd([k, k, 3, 5], 2), 0.3),
        tf.mul(rnd([5], 3), 0.1),
        tf.mul(rnd([3, 3, 5, 4], 4), 0.3),
      ]);
    note('conv2d net grads', await expectWasmMatchesCpu(fn));
  });

  const rawPads: Pad[] = ['same', 'valid', 1, [[0, 0], [2, 0], [1, 3], [0, 0]]];
  it.each(rawPads.map((p) => [p]))('raw Conv2DBackpropFilter / Conv2DBackpropInput, pad %j', async (pad) => {
    for (const s of [1, 2]) {
      for (const k of [1, 3, 4, 5]) {
        const xShape: [number, number, number, number] = [2, 9, 8, 3];
        const fShape: [number, number, number, number] = [k, k, 3, 4];
        const yShape = tf.tidy(
          () => tf.conv2d(tf.zeros(xShape) as tf.Tensor4D, tf.zeros(fShape) as tf.Tensor4D, s, pad).shape,
        );
        const attrs = { strides: s, pad, dataFormat: 'NHWC' };
        const fn = (): tf.Tensor[] => [
          tf.engine().runKernel('Conv2DBackpropFilter', { x: rnd(xShape, 1), dy: rnd(yShape, 2) }, {
            ...attrs,
            filterShape: fShape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
          tf.engine().runKernel('Conv2DBackpropInput', { dy: rnd(yShape, 2), filter: rnd(fShape, 3) }, {
            ...attrs,
            inputShape: xShape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        ];
        note('raw conv kernels', await expectWasmMatchesCpu(fn));
      }
    }
  });

  it.each([
    [2, 'same', 4],
    [2, 'valid', 3],
    [1, 'same', 3],
  ] as Case[])('conv2dTranspose stride %i %s k=%i: output, gradients', async (s, pad, k) => {
    const outShape: [number, number, number, number] =
      pad === 'same' ? [2, 7 * s, 6 * s, 3] : [2, (7 - 1) * s + k, (6 - 1) * s + k, 3];
    const fn = (): tf.Tensor[] => {
      const f = (x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor =>
        tf.sum(tf.mul(tf.conv2dTranspose(x, w, outShape, s, pad), rnd(outShape, 5)));
      const x = rnd([2, 7, 6, 5], 1) as tf.Tensor4D;
      const w = rnd([k, k, 3, 5], 2) as tf.Tensor4D;
      return [tf.conv2dTranspose(x, w, outShape, s, pad), ...tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, w])];
    };
    note('conv2dTranspose', await expectWasmMatchesCpu(fn));
  });

  it('variableGrads of a small encoder–decoder (conv, maxPool, upsampling, concat) match', async () => {
    const vars = (): tf.Variable[] => [
      tf.variable(tf.mul(rnd([3, 3, 2, 8], 11), 0.3), true, 'w1'),
      tf.variable(tf.mul(rnd([8], 12), 0.1), true, 'b1'),
      tf.variable(tf.mul(rnd([3, 3, 8, 8], 13), 0.2), true, 'w2'),
      tf.variable(tf.mul(rnd([3, 3, 10, 1], 14), 0.2), true, 'w3'),
    ];
    const fn = (): tf.Tensor[] => {
      const [w1, b1, w2, w3] = vars();
      const x = rnd([4, 10, 12, 2], 15) as tf.Tensor4D;
      const { grads, value } = tf.variableGrads(() => {
        const e1 = tf.relu(tf.add(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'), b1)) as tf.Tensor4D;
        const e2 = tf.relu(tf.conv2d(tf.maxPool(e1, 2, 2, 'same'), w2 as tf.Tensor4D, 1, 'same')) as tf.Tensor4D;
        // Nearest 2× upsampling by stack + reshape: the cpu reference's resize gradient is wrong
        // for batch > 1 (resize gradients are checked against an exact reference below).
        const upW = tf.reshape(tf.stack([e2, e2], 3), [4, 5, 12, 8]);
        const up = tf.reshape(tf.stack([upW, upW], 2), [4, 10, 12, 8]);
        const y = tf.conv2d(tf.concat([up, x], 3) as tf.Tensor4D, w3 as tf.Tensor4D, 1, 'same');
        return tf.mean(tf.square(tf.sub(y, rnd([4, 10, 12, 1], 16))));
      });
      const out = [value, grads.w1, grads.b1, grads.w2, grads.w3];
      tf.dispose([w1, b1, w2, w3]);
      return out;
    };
    note('encoder-decoder variableGrads', await expectWasmMatchesCpu(fn));
  });
});

describe('other training kernels: wasm vs cpu', () => {
  it.each([
    [3, 'same', 1],
    [4, 'valid', 2],
    [3, 'same', 2],
  ] as Case[])('depthwiseConv2d k=%i %s stride %i, multiplier 1/2', async (k, pad, s) => {
    for (const m of [1, 2]) {
      const fn = (): tf.Tensor[] => {
        const f = (x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor => {
          const y = tf.depthwiseConv2d(x, w, s, pad);
          return tf.sum(tf.mul(y, rnd(y.shape, 5)));
        };
        return tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([rnd([2, 9, 8, 3], 1), rnd([k, k, 3, m], 2)]);
      };
      note('depthwise', await expectWasmMatchesCpu(fn));
    }
  });

  it.each([
    [2, 2, 'same'],
    [2, 2, 'valid'],
    [3, 2, 'same'],
    [3, 1, 'same'],
    [3, 2, 'valid'],
  ] as Array<[number, number, 'same' | 'valid']>)('maxPool k=%i stride %i %s gradient', async (k, s, pad) => {
    for (const hw of [[7, 9], [8, 6]]) {
      const fn = (): tf.Tensor =>
        tf.grad((x: tf.Tensor) => {
          const y = tf.maxPool(x as tf.Tensor4D, k, s, pad);
          return tf.sum(tf.mul(y, rnd(y.shape, 5)));
        })(rnd([2, hw[0], hw[1], 3], 1));
      note('maxPool', await expectWasmMatchesCpu(fn));
    }
  });

  it('gather gradient (UnsortedSegmentSum)', async () => {
    const fn = (): tf.Tensor[] => {
      const idx = tf.tensor1d([0, 2, 2, 5, 1], 'int32');
      return [
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, idx, 1), rnd([2, 5, 4], 3))))(rnd([2, 6, 4], 1)),
        tf.unsortedSegmentSum(rnd([5, 3], 4), tf.tensor1d([1, 0, 1, 3, 9], 'int32'), 4),
      ];
    };
    note('gather/segmentSum', await expectWasmMatchesCpu(fn));
  });
});

describe('resize gradients against an exact reference', () => {
  /**
   * resize is linear in x, so d/dx_i Σ w·resize(x) = Σ w·resize(e_i) exactly; evaluated with the
   * forward op on cpu (forward results agree on every backend).
   */
  async function reference(
    f: (x: tf.Tensor4D) => tf.Tensor,
    shape: [number, number, number, number],
    w: Float32Array,
  ): Promise<Float32Array> {
    await tf.setBackend('cpu');
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    const unit = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      unit.fill(0);
      unit[i] = 1;
      out[i] = tf.tidy(() => {
        const y = f(tf.tensor(unit, shape) as tf.Tensor4D);
        return tf.sum(tf.mul(y, tf.tensor(w, y.shape)));
      }).dataSync()[0];
    }
    return out;
  }

  const flags: Array<[boolean, boolean]> = [
    [false, false],
    [true, false],
    [false, true],
  ];
  const sizes: Array<[[number, number], [number, number]]> = [
    [[3, 4], [6, 8]], // integer upsampling, non-square
    [[4, 3], [7, 5]], // non-integer upsampling
    [[5, 4], [3, 3]], // downsampling
  ];
  const cases: Array<['nearest' | 'bilinear', boolean, boolean, [number, number], [number, number]]> = [];
  for (const kind of ['nearest', 'bilinear'] as const) {
    for (const [ac, hp] of flags) for (const [inSize, outSize] of sizes) cases.push([kind, ac, hp, inSize, outSize]);
  }

  it.each(cases)('%s alignCorners=%p halfPixelCenters=%p %p → %p', async (kind, ac, hp, inSize, outSize) => {
    const shape: [number, number, number, number] = [2, inSize[0], inSize[1], 3];
    const f = (x: tf.Tensor4D): tf.Tensor =>
      kind === 'nearest'
        ? tf.image.resizeNearestNeighbor(x, outSize, ac, hp)
        : tf.image.resizeBilinear(x, outSize, ac, hp);
    const w = tf.tidy(() => rnd([2, outSize[0], outSize[1], 3], 7).dataSync() as Float32Array);
    const ref = await reference(f, shape, w);
    const got = await on('wasm', () =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor4D), tf.tensor(w, [2, outSize[0], outSize[1], 3]))))(
        rnd(shape, 1),
      ),
    );
    expect(got).toBeCloseToArray(ref, { atol: 1e-5 });
  });
});

describe('training on wasm', () => {
  it('leaks no tensors across gradient steps', async () => {
    await tf.setBackend('wasm');
    const x = rnd([2, 8, 8, 3], 1) as tf.Tensor4D;
    const w = tf.variable(rnd([3, 3, 3, 4], 2));
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => {
        const up = tf.image.resizeNearestNeighbor(tf.maxPool(x, 2, 2, 'same'), [8, 8]);
        const y = tf.conv2d(up, w as tf.Tensor4D, 2, 'same');
        return tf.sum(tf.square(y));
      });
      tf.dispose([value, grads]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });

  it('a tiny conv decoder fits and its loss decreases', async () => {
    await tf.setBackend('wasm');
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const relu = { padding: 'same', activation: 'relu' } as const;
    const feat = tf.input({ shape: [7, 7, 8] });
    const img = tf.input({ shape: [14, 14, 1] });
    const layers: tf.layers.Layer[] = [
      tf.layers.conv2d({ ...relu, filters: 8, kernelSize: 3, kernelInitializer: init(1) }),
      tf.layers.conv2d({ ...relu, filters: 8, kernelSize: 3, strides: 2, kernelInitializer: init(2) }),
      tf.layers.conv2dTranspose({ ...relu, filters: 4, kernelSize: 4, strides: 2, kernelInitializer: init(3) }),
      tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', kernelInitializer: init(4) }),
    ];
    let h = tf.layers.upSampling2d({ size: [2, 2] }).apply(feat) as tf.SymbolicTensor;
    h = tf.layers.concatenate().apply([h, img]) as tf.SymbolicTensor;
    for (const layer of layers) h = layer.apply(h) as tf.SymbolicTensor;
    const out = h;
    const model = tf.model({ inputs: [feat, img], outputs: out });
    model.compile({ optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError' });

    // A learnable target: a smooth function of the inputs.
    const xs = [rnd([64, 7, 7, 8], 21), tf.clipByValue(rnd([64, 14, 14, 1], 22), -2, 2)];
    const ys = tf.tidy(() => {
      const up = tf.image.resizeNearestNeighbor(tf.mean(xs[0], 3, true) as tf.Tensor4D, [14, 14]);
      return tf.add(tf.mul(up, 0.5), tf.mul(xs[1], 0.5));
    });
    const history = await model.fit(xs, ys, { epochs: 8, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
    tf.dispose([...xs, ys]);
    model.dispose();
  });
});
