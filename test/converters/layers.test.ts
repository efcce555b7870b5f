/**
 * Numeric parity of every supported layer configuration: each case builds a tiny tfjs model,
 * gives it seeded random weights and inputs, converts it, and compares tfjs predict (cpu)
 * with onnxruntime on the NCHW-transposed input (max |diff| ≤ 1e-5). Cases are generated
 * from parameter grids, not written out one by one.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf';
import { checkModel } from '../../src/onnx/check';
import { SUPPORTED_ACTIVATIONS } from '../../converters/tfjs-to-onnx';
import { getTf, opTypes, randomizeWeights, runParity } from './parity-helpers';

type Sym = TfModule.SymbolicTensor;
interface Case {
  name: string;
  /** Input shapes without the batch dim. */
  inputs: number[][];
  build: (tf: Tf, xs: Sym[]) => Sym | Sym[];
  /** Op types that must (not) appear. */
  has?: string[];
  not?: string[];
  /** Transpose nodes are allowed (Flatten/Reshape of spatial maps). */
  transposes?: boolean;
}

const ATOL = 1e-5;

let SubtractClass: (new () => TfModule.layers.Layer) | undefined;
/** A minimal `Subtract` merge layer (a − b), registered once with tfjs serialization. */
function makeSubtract(tf: Tf): TfModule.layers.Layer {
  if (!SubtractClass) {
    class Subtract extends tf.layers.Layer {
      static className = 'Subtract';
      override computeOutputShape(shapes: TfModule.Shape | TfModule.Shape[]): TfModule.Shape {
        return (shapes as TfModule.Shape[])[0];
      }
      override call(inputs: TfModule.Tensor | TfModule.Tensor[]): TfModule.Tensor {
        const [a, b] = inputs as TfModule.Tensor[];
        return tf.sub(a, b);
      }
    }
    tf.serialization.registerClass(Subtract);
    SubtractClass = Subtract;
  }
  return new SubtractClass();
}
const cases: Case[] = [];
const add = (c: Case) => cases.push(c);
const one = (f: (tf: Tf, x: Sym) => Sym) => (tf: Tf, xs: Sym[]) => f(tf, xs[0]);
const L = (tf: Tf) => tf.layers;

// Conv2D: kernel × stride × padding × dilation × bias × input size.
for (const k of [1, 3, 4, 5]) {
  for (const s of [1, 2]) {
    for (const padding of ['same', 'valid'] as const) {
      for (const d of s === 1 ? [1, 2] : [1]) {
        for (const [h, w] of [[9, 11], [8, 8]]) {
          if (padding === 'valid' && (k - 1) * d + 1 > Math.min(h, w)) continue;
          const useBias = (k + s + d) % 2 === 0;
          add({
            name: `Conv2D k${k} s${s} ${padding} d${d} bias=${useBias} ${h}x${w}`,
            inputs: [[h, w, 3]],
            build: one((tf, x) => L(tf).conv2d({ filters: 4, kernelSize: k, strides: s, padding, dilationRate: d, useBias }).apply(x) as Sym),
            has: ['Conv'],
          });
        }
      }
    }
  }
}
add({
  name: 'Conv2D non-square kernel [3,1] strides [2,1] same',
  inputs: [[7, 6, 2]],
  build: one((tf, x) => L(tf).conv2d({ filters: 3, kernelSize: [3, 1], strides: [2, 1], padding: 'same' }).apply(x) as Sym),
});

// Every activation, as an Activation layer on a 4-D map and fused into Conv2D and Dense.
for (const act of SUPPORTED_ACTIVATIONS) {
  const activation = act as never;
  add({
    name: `Activation ${act} (4-D)`,
    inputs: [[5, 6, 3]],
    build: one((tf, x) => L(tf).activation({ activation }).apply(x) as Sym),
  });
  add({
    name: `Conv2D fused ${act}`,
    inputs: [[6, 5, 2]],
    build: one((tf, x) => L(tf).conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation }).apply(x) as Sym),
  });
  add({
    name: `Dense fused ${act} (2-D)`,
    inputs: [[6]],
    build: one((tf, x) => L(tf).dense({ units: 5, activation }).apply(x) as Sym),
  });
}

// Conv2DTranspose: kernel × stride × padding (including kernel < stride).
for (const k of [1, 2, 3, 4, 5]) {
  for (const s of [1, 2, 3]) {
    for (const padding of ['same', 'valid'] as const) {
      add({
        name: `Conv2DTranspose k${k} s${s} ${padding}`,
        inputs: [[5, 6, 3]],
        build: one((tf, x) =>
          L(tf).conv2dTranspose({ filters: 2, kernelSize: k, strides: s, padding, useBias: k % 2 === 1 }).apply(x) as Sym,
        ),
        has: ['ConvTranspose'],
      });
    }
  }
}

// Depthwise and separable convolutions.
for (const mult of [1, 2]) {
  for (const s of [1, 2]) {
    for (const padding of ['same', 'valid'] as const) {
      add({
        name: `DepthwiseConv2D k3 mult${mult} s${s} ${padding}`,
        inputs: [[9, 8, 3]],
        build: one((tf, x) => L(tf).depthwiseConv2d({ kernelSize: 3, depthMultiplier: mult, strides: s, padding }).apply(x) as Sym),
      });
      add({
        name: `SeparableConv2D k3 mult${mult} s${s} ${padding} relu`,
        inputs: [[9, 8, 3]],
        build: one((tf, x) =>
          L(tf).separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: mult, strides: s, padding, activation: 'relu' }).apply(x) as Sym,
        ),
      });
    }
  }
}

// UpSampling2D.
for (const interpolation of ['nearest', 'bilinear'] as const) {
  for (const size of [[2, 2], [2, 3], [3, 1]]) {
    add({
      name: `UpSampling2D ${interpolation} ${size.join('x')}`,
      inputs: [[4, 5, 3]],
      build: one((tf, x) => L(tf).upSampling2d({ size, interpolation }).apply(x) as Sym),
      has: ['Resize'],
    });
  }
}

// Merge layers with 2 and 3 inputs; Concatenate on every NHWC axis.
const merges: Array<[string, (tf: Tf) => TfModule.layers.Layer]> = [
  ['Add', (tf) => L(tf).add()],
  ['Multiply', (tf) => L(tf).multiply()],
  ['Average', (tf) => L(tf).average()],
  ['Maximum', (tf) => L(tf).maximum()],
  ['Minimum', (tf) => L(tf).minimum()],
];
for (const [name, make] of merges) {
  for (const n of [2, 3]) {
    add({
      name: `${name} of ${n} inputs`,
      inputs: Array.from({ length: n }, () => [4, 5, 3]),
      build: (tf, xs) => make(tf).apply(xs) as Sym,
    });
  }
}
for (const axis of [-1, 1, 2, 3]) {
  add({
    name: `Concatenate axis ${axis}`,
    inputs: [[4, 4, 3], [4, 4, 3]],
    build: (tf, xs) => L(tf).concatenate({ axis }).apply(xs) as Sym,
    has: ['Concat'],
  });
}
add({
  name: 'Concatenate of 2-D inputs',
  inputs: [[3], [5]],
  build: (tf, xs) => L(tf).concatenate().apply(xs) as Sym,
});

// tfjs 4.22 has no Subtract layer; a custom layer registered under that class name stands in for one.
add({
  name: 'Subtract (custom layer class)',
  inputs: [[4, 5, 3], [4, 5, 3]],
  build: (tf, xs) => makeSubtract(tf).apply(xs) as Sym,
  has: ['Sub'],
});

// Activation layers.
for (const alpha of [undefined, 0.1]) {
  add({ name: `LeakyReLU alpha=${alpha}`, inputs: [[4, 5, 3]], build: one((tf, x) => L(tf).leakyReLU({ alpha }).apply(x) as Sym) });
}
for (const maxValue of [undefined, 6, 0.5]) {
  add({ name: `ReLU maxValue=${maxValue}`, inputs: [[4, 5, 3]], build: one((tf, x) => L(tf).reLU({ maxValue }).apply(x) as Sym) });
}
// tfjs 4.22's ELU layer only accepts alpha = 1, and its Softmax only runs on the last axis.
add({ name: 'ELU layer', inputs: [[4, 5, 3]], build: one((tf, x) => L(tf).elu({}).apply(x) as Sym) });
add({ name: 'ThresholdedReLU theta 0.3', inputs: [[4, 5, 3]], build: one((tf, x) => L(tf).thresholdedReLU({ theta: 0.3 }).apply(x) as Sym) });
for (const axis of [-1, 3]) {
  add({ name: `Softmax layer axis=${axis} (4-D)`, inputs: [[4, 5, 3]], build: one((tf, x) => L(tf).softmax({ axis }).apply(x) as Sym) });
}
add({ name: 'Softmax layer (2-D)', inputs: [[7]], build: one((tf, x) => L(tf).softmax({ axis: -1 }).apply(x) as Sym) });
for (const sharedAxes of [undefined, [1, 2]]) {
  add({
    name: `PReLU sharedAxes=${JSON.stringify(sharedAxes)}`,
    inputs: [[4, 5, 3]],
    build: one((tf, x) => L(tf).prelu({ sharedAxes }).apply(x) as Sym),
  });
}

// Inference no-ops.
const noOps: Array<[string, (tf: Tf) => TfModule.layers.Layer]> = [
  ['Dropout', (tf) => L(tf).dropout({ rate: 0.5 })],
  ['GaussianNoise', (tf) => L(tf).gaussianNoise({ stddev: 0.3 })],
  ['GaussianDropout', (tf) => L(tf).gaussianDropout({ rate: 0.3 })],
  ['AlphaDropout', (tf) => L(tf).alphaDropout({ rate: 0.3 })],
];
for (const [name, make] of noOps) {
  add({
    name: `${name} between convs (aliased)`,
    inputs: [[5, 5, 2]],
    build: one((tf, x) => {
      const y = L(tf).conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x) as Sym;
      return L(tf).conv2d({ filters: 2, kernelSize: 1 }).apply(make(tf).apply(y)) as Sym;
    }),
    not: ['Identity'],
  });
}
add({
  name: 'Dropout as the model output (Identity)',
  inputs: [[4, 4, 2]],
  build: one((tf, x) => L(tf).dropout({ rate: 0.5 }).apply(L(tf).conv2d({ filters: 2, kernelSize: 1 }).apply(x)) as Sym),
  has: ['Identity'],
});

// BatchNormalization: folded into Conv2D / Conv2DTranspose / DepthwiseConv2D / Dense-on-4-D, standalone otherwise.
const bnProducers: Array<[string, (tf: Tf) => TfModule.layers.Layer]> = [
  ['Conv2D', (tf) => L(tf).conv2d({ filters: 4, kernelSize: 3, padding: 'same' })],
  ['Conv2D no bias', (tf) => L(tf).conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false })],
  ['Conv2DTranspose', (tf) => L(tf).conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' })],
  ['DepthwiseConv2D', (tf) => L(tf).depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' })],
  ['Dense on 4-D', (tf) => L(tf).dense({ units: 4 })],
];
for (const [name, make] of bnProducers) {
  add({
    name: `BatchNormalization folded into ${name}`,
    inputs: [[6, 7, 3]],
    build: one((tf, x) => L(tf).batchNormalization({ epsilon: 1e-3 }).apply(make(tf).apply(x)) as Sym),
    not: ['BatchNormalization'],
  });
}
add({
  name: 'BatchNormalization after a fused-activation conv (not folded)',
  inputs: [[6, 6, 3]],
  build: one((tf, x) => L(tf).batchNormalization().apply(L(tf).conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }).apply(x)) as Sym),
  has: ['BatchNormalization'],
});
add({
  name: 'BatchNormalization on a conv with two consumers (not folded)',
  inputs: [[6, 6, 3]],
  build: one((tf, x) => {
    const c = L(tf).conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x) as Sym;
    return L(tf).add().apply([c, L(tf).batchNormalization().apply(c) as Sym]) as Sym;
  }),
  has: ['BatchNormalization'],
});
for (const [center, scale] of [[false, true], [true, false]]) {
  add({
    name: `BatchNormalization standalone center=${center} scale=${scale}`,
    inputs: [[5, 4, 3]],
    build: one((tf, x) => L(tf).batchNormalization({ center, scale, epsilon: 0.01 }).apply(x) as Sym),
    has: ['BatchNormalization'],
  });
}
add({
  name: 'BatchNormalization on 2-D',
  inputs: [[6]],
  build: one((tf, x) => L(tf).batchNormalization().apply(L(tf).dense({ units: 4 }).apply(x)) as Sym),
});

// Pooling.
for (const [pool, cls] of [['max', 'MaxPool'], ['avg', 'AveragePool']] as const) {
  for (const poolSize of [2, 3]) {
    for (const strides of [undefined, 1, 2]) {
      for (const padding of ['same', 'valid'] as const) {
        add({
          name: `${cls} pool${poolSize} strides=${strides} ${padding}`,
          inputs: [[9, 11, 2]],
          build: one((tf, x) =>
            (pool === 'max' ? L(tf).maxPooling2d({ poolSize, strides, padding }) : L(tf).averagePooling2d({ poolSize, strides, padding })).apply(x) as Sym,
          ),
          has: [cls],
        });
      }
    }
  }
}
add({ name: 'GlobalAveragePooling2D', inputs: [[5, 6, 3]], build: one((tf, x) => L(tf).globalAveragePooling2d({}).apply(x) as Sym) });
add({ name: 'GlobalMaxPooling2D', inputs: [[5, 6, 3]], build: one((tf, x) => L(tf).globalMaxPooling2d({}).apply(x) as Sym) });

// Padding and cropping.
for (const padding of [1, [2, 1], [[1, 2], [0, 3]]] as Array<number | [number, number] | [[number, number], [number, number]]>) {
  add({ name: `ZeroPadding2D ${JSON.stringify(padding)}`, inputs: [[4, 5, 2]], build: one((tf, x) => L(tf).zeroPadding2d({ padding }).apply(x) as Sym) });
}
for (const cropping of [1, [[1, 0], [2, 1]], [[0, 0], [1, 1]]] as Array<number | [[number, number], [number, number]]>) {
  add({ name: `Cropping2D ${JSON.stringify(cropping)}`, inputs: [[6, 7, 2]], build: one((tf, x) => L(tf).cropping2D({ cropping }).apply(x) as Sym) });
}

// Dense, Flatten, Reshape, Rescaling.
add({ name: 'Dense 2-D no bias', inputs: [[5]], build: one((tf, x) => L(tf).dense({ units: 3, useBias: false }).apply(x) as Sym) });
add({ name: 'Dense on 4-D (1x1 conv)', inputs: [[4, 5, 3]], build: one((tf, x) => L(tf).dense({ units: 6, activation: 'tanh' }).apply(x) as Sym), has: ['Conv'] });
add({
  name: 'Dense on 3-D (MatMul)',
  inputs: [[4, 3]],
  build: one((tf, x) => L(tf).dense({ units: 2 }).apply(x) as Sym),
  has: ['MatMul'],
});
add({
  name: 'Flatten of a 1x1 map then Dense',
  inputs: [[3, 3, 4]],
  build: one((tf, x) => L(tf).dense({ units: 2 }).apply(L(tf).flatten().apply(L(tf).maxPooling2d({ poolSize: 3 }).apply(x))) as Sym),
  not: ['Transpose'],
});
add({
  name: 'Flatten of a spatial map (one Transpose to NHWC order)',
  inputs: [[3, 4, 2]],
  build: one((tf, x) => L(tf).dense({ units: 3 }).apply(L(tf).flatten().apply(x)) as Sym),
  transposes: true,
});
add({
  name: 'Reshape 2-D → 4-D feeding a conv',
  inputs: [[24]],
  build: one((tf, x) => L(tf).conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(L(tf).reshape({ targetShape: [2, 3, 4] }).apply(x)) as Sym),
  transposes: true,
});
add({ name: 'Reshape 4-D → 2-D', inputs: [[2, 3, 4]], build: one((tf, x) => L(tf).reshape({ targetShape: [24] }).apply(x) as Sym), transposes: true });
// Permute (a Transpose); before Flatten the two transposes cancel.
for (const dims of [[3, 1, 2], [2, 1, 3], [1, 3, 2]]) {
  add({ name: `Permute ${dims.join(',')}`, inputs: [[3, 4, 2]], build: one((tf, x) => L(tf).permute({ dims }).apply(x) as Sym), transposes: true, has: ['Transpose'] });
}
add({
  name: 'Permute to NCHW then Flatten (transposes cancel)',
  inputs: [[3, 4, 2]],
  build: one((tf, x) => L(tf).dense({ units: 3 }).apply(L(tf).flatten().apply(L(tf).permute({ dims: [3, 1, 2] }).apply(x))) as Sym),
  not: ['Transpose'],
});
add({
  name: 'ZeroPadding2D + valid Conv2D (pads merged into the Conv)',
  inputs: [[6, 7, 2]],
  build: one((tf, x) => L(tf).conv2d({ filters: 3, kernelSize: 3, strides: 2 }).apply(L(tf).zeroPadding2d({ padding: [[1, 1], [0, 2]] }).apply(x)) as Sym),
  not: ['Pad'],
});
add({
  name: 'Conv2DTranspose + Cropping2D (crop merged into the ConvTranspose pads)',
  inputs: [[4, 5, 3]],
  build: one((tf, x) => L(tf).cropping2D({ cropping: [[1, 0], [0, 2]] }).apply(L(tf).conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 }).apply(x)) as Sym),
  not: ['Slice'],
});
add({
  name: 'Reshape [N, C] → [1, 1, C] and back (no transposes for 1×1 maps)',
  inputs: [[6]],
  build: one((tf, x) => L(tf).reshape({ targetShape: [6] }).apply(L(tf).conv2d({ filters: 6, kernelSize: 1 }).apply(L(tf).reshape({ targetShape: [1, 1, 6] }).apply(x))) as Sym),
});
add({ name: 'Rescaling scale+offset', inputs: [[3, 3, 2]], build: one((tf, x) => L(tf).rescaling({ scale: 1 / 255, offset: -0.5 }).apply(x) as Sym) });

// A nested Sequential used as a layer, called twice (shared weights).
add({
  name: 'Nested Sequential called twice',
  inputs: [[5, 5, 2], [5, 5, 2]],
  build: (tf, xs) => {
    const inner = tf.sequential({
      layers: [L(tf).conv2d({ inputShape: [null, null, 2], filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }), L(tf).conv2d({ filters: 2, kernelSize: 1 })],
    });
    return L(tf).add().apply([inner.apply(xs[0]) as Sym, inner.apply(xs[1]) as Sym]) as Sym;
  },
});

describe('tfjs-to-onnx layer parity (tfjs cpu vs onnxruntime)', () => {
  let tf: Tf;
  const diffs: Array<[string, number]> = [];
  beforeAll(async () => {
    tf = await getTf();
  });
  afterAll(() => {
    const worst = [...diffs].sort((a, b) => b[1] - a[1]).slice(0, 3);
    // One line for the report: how many cases and the worst differences.
    process.stdout.write(`layer parity: ${diffs.length} cases, worst ${worst.map(([n, d]) => `${n}: ${d.toExponential(2)}`).join('; ')}\n`);
  });

  test.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const xs = c.inputs.map((shape, j) => tf.input({ shape, name: `in${j}` }));
    const model = tf.model({ inputs: xs, outputs: c.build(tf, xs), name: `case${i}` });
    randomizeWeights(tf, model, 1000 + i * 17);
    const feeds = c.inputs.map((shape, j) => tf.randomNormal([2, ...shape], 0, 1, 'float32', 7 + j + i * 3));
    try {
      const { onnxModel, maxDiff, tfOutputs, ortOutputs } = await runParity(tf, model, feeds);
      diffs.push([c.name, maxDiff]);
      ortOutputs.forEach((o, k) => expect(o.data).toBeCloseToArray(tfOutputs[k].data, { atol: ATOL }));
      expect(checkModel(onnxModel)).toEqual([]);
      const ops = opTypes(onnxModel);
      if (!c.transposes) expect(ops).not.toContain('Transpose');
      for (const op of c.has ?? []) expect(ops).toContain(op);
      for (const op of c.not ?? []) expect(ops).not.toContain(op);
    } finally {
      feeds.forEach((f) => f.dispose());
      model.dispose();
    }
  });
});
