/**
 * tfjs layers for the ONNX ops of classic and modern CNN backbones that Keras lacks or computes
 * differently: grouped convolution, ONNX pooling rules (ceil_mode, count_include_pad with any
 * pads), LRN, softmax over ONNX's flattened axes, unary math (Sqrt/Exp/Log/Erf/HardSwish/
 * HardSigmoid), reductions that keep dims, Instance/Layer normalization, DepthToSpace/
 * SpaceToDepth and batched MatMul. Every layer is written with ops that native, wasm and cpu
 * tfjs all have, is registered by `registerOnnxLayers` and maps back to its ONNX op in
 * converters/tfjs-to-onnx/mappers/onnx-layers.ts. Tensors are NHWC for rank 4 (layout.ts).
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';

type Tensor = TfModule.Tensor;
type Tensor4D = TfModule.Tensor4D;
type Shape = TfModule.Shape;
type LayerArgs = NonNullable<ConstructorParameters<typeof TfModule.layers.Layer>[0]>;
type Ctor<C> = new (config: LayerArgs & C) => TfModule.layers.Layer;

/** OnnxGroupConv: a Conv with 1 < group < channels (split channels, one conv per group, concat). */
export interface OnnxGroupConvConfig {
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  groups: number;
  padding: 'same' | 'valid';
  useBias: boolean;
}

/**
 * OnnxGroupConvTranspose: a ConvTranspose with group > 1, one tfjs 'valid' transposed conv per
 * group (output in·s + max(k − s, 0), as Conv2DTranspose); ONNX pads are a Cropping2D after it.
 */
export interface OnnxGroupConvTransposeConfig {
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  groups: number;
  useBias: boolean;
}

/** OnnxPool: ONNX MaxPool/AveragePool with explicit pads [top, bottom, left, right], ceil_mode and count_include_pad. */
export interface OnnxPoolConfig {
  mode: 'max' | 'avg';
  poolSize: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
}

/** OnnxLRN: ONNX LRN across channels (alpha is divided by size, as in ONNX); odd sizes. */
export interface OnnxLRNConfig {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

/** OnnxSoftmax: (log-)softmax jointly over tfjs `axes` (ONNX's coerced 2-D axes, or one axis). */
export interface OnnxSoftmaxConfig {
  axes: number[];
  log: boolean;
}

/** Unary ops of OnnxUnary. */
// Identity: a new tensor object for an activation a layer reads twice (see convert.ts `apply`).
export const UNARY_OPS = Object.freeze(['Sqrt', 'Exp', 'Log', 'Erf', 'HardSwish', 'HardSigmoid', 'Gelu', 'GeluTanh', 'Identity'] as const);
export type UnaryOp = (typeof UNARY_OPS)[number];

/** OnnxUnary: one elementwise function; alpha/beta for HardSigmoid/HardSwish. */
export interface OnnxUnaryConfig {
  op: UnaryOp;
  alpha: number;
  beta: number;
}

/** OnnxReduce: a reduction over tfjs `axes` that keeps them (size 1). */
export interface OnnxReduceConfig {
  op: 'mean' | 'max';
  axes: number[];
}

/** OnnxInstanceNorm: per sample and channel over H and W, then scale and bias per channel. */
export interface OnnxInstanceNormConfig {
  epsilon: number;
  channels: number;
}

/** OnnxLayerNorm: normalization over tfjs `axes`, scale/bias of `paramShape` (tfjs layout, batch dim excluded). */
export interface OnnxLayerNormConfig {
  axes: number[];
  epsilon: number;
  paramShape: number[];
  useBias: boolean;
}

/** OnnxSpaceDepth: DepthToSpace (DCR or CRD channel order) or SpaceToDepth. */
export interface OnnxSpaceDepthConfig {
  blocksize: number;
  mode: 'DCR' | 'CRD' | 'SpaceToDepth';
}

/** OnnxMatMul: ONNX MatMul over the last two ONNX axes of rank-4 activations; B a second input or a stored constant (ONNX layout). */
export interface OnnxMatMulConfig {
  constantShape: number[] | null;
}

/** OnnxChannelGather: output channel k is input channel indices[k] (ShuffleNet's channel shuffle). */
export interface OnnxChannelGatherConfig {
  indices: number[];
}

/** Class names of the layers of this module, as written in model.json. */
export const NET_LAYER_CLASSES = Object.freeze([
  'OnnxGroupConv', 'OnnxGroupConvTranspose', 'OnnxPool', 'OnnxLRN', 'OnnxSoftmax', 'OnnxUnary', 'OnnxReduce', 'OnnxInstanceNorm', 'OnnxLayerNorm', 'OnnxSpaceDepth', 'OnnxMatMul',
  'OnnxChannelGather',
] as const);

/** The classes of this module by name. */
export interface NetLayerClasses {
  readonly OnnxGroupConv: Ctor<OnnxGroupConvConfig>;
  readonly OnnxGroupConvTranspose: Ctor<OnnxGroupConvTransposeConfig>;
  readonly OnnxPool: Ctor<OnnxPoolConfig>;
  readonly OnnxLRN: Ctor<OnnxLRNConfig>;
  readonly OnnxSoftmax: Ctor<OnnxSoftmaxConfig>;
  readonly OnnxUnary: Ctor<OnnxUnaryConfig>;
  readonly OnnxReduce: Ctor<OnnxReduceConfig>;
  readonly OnnxInstanceNorm: Ctor<OnnxInstanceNormConfig>;
  readonly OnnxLayerNorm: Ctor<OnnxLayerNormConfig>;
  readonly OnnxSpaceDepth: Ctor<OnnxSpaceDepthConfig>;
  readonly OnnxMatMul: Ctor<OnnxMatMulConfig>;
  readonly OnnxChannelGather: Ctor<OnnxChannelGatherConfig>;
}

/**
 * A string config value as one of `allowed`. tfjs snake_cases string values when it saves a
 * model.json and camelCases them on load ('Sqrt' → 'sqrt', 'half_pixel' → 'halfPixel'), so
 * values are compared without case and underscores.
 * @throws RangeError for a value that matches none.
 */
export function enumValue<T extends string>(v: unknown, allowed: readonly T[]): T {
  const key = (x: string) => x.replace(/_/g, '').toLowerCase();
  const hit = allowed.find((a) => key(a) === key(String(v)));
  if (hit === undefined) throw new RangeError(`'${String(v)}' is not one of ${allowed.join(', ')}`);
  return hit;
}

const first = (inputs: Tensor | Tensor[]): Tensor => (Array.isArray(inputs) ? inputs[0] : inputs);
const firstShape = (s: Shape | Shape[]): Shape => (Array.isArray(s[0]) || s[0] === undefined ? (s as Shape[])[0] ?? [] : (s as Shape));
const pair = (v: unknown): [number, number] => [(v as number[])[0], (v as number[])[1]];

/** Conv output length (tfjs 'same'/'valid'); null stays null. */
export function convLength(n: number | null, k: number, s: number, d: number, padding: 'same' | 'valid'): number | null {
  if (n === null) return null;
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - ((k - 1) * d + 1)) / s) + 1;
}

/**
 * ONNX pool output length and the extra end padding ceil_mode needs (PyTorch/onnxruntime rule:
 * the last window must start inside the input or its begin padding).
 */
export function poolLength(n: number, k: number, s: number, pb: number, pe: number, ceil: boolean): { out: number; extra: number } {
  const span = n + pb + pe - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + pb) out -= 1;
  return { out, extra: Math.max(0, (out - 1) * s + k - (n + pb + pe)) };
}

/** Output spatial length of DepthToSpace/SpaceToDepth. */
const scaleDim = (d: number | null, f: number, up: boolean) => (d === null ? null : up ? d * f : Math.floor(d / f));

/**
 * Defines the classes for one tfjs module (registration is done by registerOnnxLayers).
 * @returns the classes by name.
 */
export function defineNetLayers(tf: Tf): NetLayerClasses {
  class OnnxGroupConv extends tf.layers.Layer {
    static className = 'OnnxGroupConv';
    readonly cfg: OnnxGroupConvConfig;
    private kernel: TfModule.LayerVariable | undefined;
    private bias: TfModule.LayerVariable | undefined;
    constructor(config: LayerArgs & OnnxGroupConvConfig) {
      super(config);
      this.cfg = {
        filters: config.filters, kernelSize: pair(config.kernelSize), strides: pair(config.strides), dilationRate: pair(config.dilationRate),
        groups: config.groups, padding: config.padding, useBias: Boolean(config.useBias),
      };
    }
    override build(inputShape: Shape | Shape[]): void {
      const c = firstShape(inputShape)[3] as number;
      const [kh, kw] = this.cfg.kernelSize;
      this.kernel = this.addWeight('kernel', [kh, kw, c / this.cfg.groups, this.cfg.filters], 'float32', tf.initializers.zeros());
      if (this.cfg.useBias) this.bias = this.addWeight('bias', [this.cfg.filters], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [n, h, w] = firstShape(inputShape);
      const { kernelSize: k, strides: s, dilationRate: d, padding } = this.cfg;
      return [n, convLength(h, k[0], s[0], d[0], padding), convLength(w, k[1], s[1], d[1], padding), this.cfg.filters];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs) as Tensor4D;
        const { groups, strides, padding, dilationRate } = this.cfg;
        const xs = tf.split(x, groups, 3);
        const ks = tf.split((this.kernel as TfModule.LayerVariable).read(), groups, 3);
        const ys = xs.map((xg, g) => tf.conv2d(xg as Tensor4D, ks[g] as Tensor4D, strides, padding, 'NHWC', dilationRate));
        const y = tf.concat(ys, 3);
        return this.bias ? tf.add(y, this.bias.read()) : y;
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxGroupConvTranspose extends tf.layers.Layer {
    static className = 'OnnxGroupConvTranspose';
    readonly cfg: OnnxGroupConvTransposeConfig;
    private kernel: TfModule.LayerVariable | undefined;
    private bias: TfModule.LayerVariable | undefined;
    constructor(config: LayerArgs & OnnxGroupConvTransposeConfig) {
      super(config);
      this.cfg = { filters: config.filters, kernelSize: pair(config.kernelSize), strides: pair(config.strides), groups: config.groups, useBias: Boolean(config.useBias) };
    }
    override build(inputShape: Shape | Shape[]): void {
      const c = firstShape(inputShape)[3] as number;
      const [kh, kw] = this.cfg.kernelSize;
      // [kh, kw, out per group, in]: split along the last axis, each group's slice is tfjs's [kh, kw, out, in] filter.
      this.kernel = this.addWeight('kernel', [kh, kw, this.cfg.filters / this.cfg.groups, c], 'float32', tf.initializers.zeros());
      if (this.cfg.useBias) this.bias = this.addWeight('bias', [this.cfg.filters], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    private length(n: number | null, i: number): number | null {
      const k = this.cfg.kernelSize[i];
      const s = this.cfg.strides[i];
      return n === null ? null : n * s + Math.max(k - s, 0);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [n, h, w] = firstShape(inputShape);
      return [n, this.length(h, 0), this.length(w, 1), this.cfg.filters];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs) as Tensor4D;
        const { groups, strides, filters } = this.cfg;
        const out: [number, number, number, number] = [x.shape[0], this.length(x.shape[1], 0) as number, this.length(x.shape[2], 1) as number, filters / groups];
        const xs = tf.split(x, groups, 3);
        const ks = tf.split((this.kernel as TfModule.LayerVariable).read(), groups, 3);
        const y = tf.concat(xs.map((xg, g) => tf.conv2dTranspose(xg as Tensor4D, ks[g] as Tensor4D, out, strides, 'valid')), 3);
        return this.bias ? tf.add(y, this.bias.read()) : y;
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxPool extends tf.layers.Layer {
    static className = 'OnnxPool';
    readonly cfg: OnnxPoolConfig;
    constructor(config: LayerArgs & OnnxPoolConfig) {
      super(config);
      const p = config.pads;
      this.cfg = {
        mode: enumValue(config.mode, ['max', 'avg']), poolSize: pair(config.poolSize), strides: pair(config.strides), pads: [p[0], p[1], p[2], p[3]],
        ceilMode: Boolean(config.ceilMode), countIncludePad: Boolean(config.countIncludePad),
      };
    }
    private lengths(h: number, w: number) {
      const { poolSize: k, strides: s, pads: p, ceilMode } = this.cfg;
      return [poolLength(h, k[0], s[0], p[0], p[1], ceilMode), poolLength(w, k[1], s[1], p[2], p[3], ceilMode)];
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [n, h, w, c] = firstShape(inputShape);
      return [n, h === null ? null : this.lengths(h, 1)[0].out, w === null ? null : this.lengths(1, w)[1].out, c];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs) as Tensor4D;
        const [, h, w] = x.shape;
        const [lh, lw] = this.lengths(h, w);
        const { poolSize, strides, pads: [t, b, l, r], countIncludePad } = this.cfg;
        const padding: Array<[number, number]> = [[0, 0], [t, b + lh.extra], [l, r + lw.extra], [0, 0]];
        if (this.cfg.mode === 'max') return tf.maxPool(tf.pad(x, padding, -Infinity) as Tensor4D, poolSize, strides, 'valid');
        const sum = tf.avgPool(tf.pad(x, padding) as Tensor4D, poolSize, strides, 'valid');
        // The divisor per output: the window's cells inside the input (plus its pads with count_include_pad), never the ceil_mode extension.
        const ph = t + h + b + lh.extra;
        const pw = l + w + r + lw.extra;
        const mask = new Float32Array(ph * pw);
        for (let i = 0; i < ph; i++) {
          for (let j = 0; j < pw; j++) {
            const inside = countIncludePad ? i < t + h + b && j < l + w + r : i >= t && i < t + h && j >= l && j < l + w;
            mask[i * pw + j] = inside ? 1 : 0;
          }
        }
        const count = tf.avgPool(tf.tensor4d(mask, [1, ph, pw, 1]), poolSize, strides, 'valid');
        return tf.div(sum, count);
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxLRN extends tf.layers.Layer {
    static className = 'OnnxLRN';
    readonly cfg: OnnxLRNConfig;
    constructor(config: LayerArgs & OnnxLRNConfig) {
      super(config);
      this.cfg = { size: config.size, alpha: config.alpha, beta: config.beta, bias: config.bias };
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs) as Tensor4D;
        const { size, alpha, beta, bias } = this.cfg;
        // ONNX sums over [c − (size−1)/2, c + (size−1)/2] (odd sizes) and divides alpha by size; TF's radius is (size−1)/2.
        return tf.localResponseNormalization(x, (size - 1) / 2, bias, alpha / size, beta);
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxSoftmax extends tf.layers.Layer {
    static className = 'OnnxSoftmax';
    readonly cfg: OnnxSoftmaxConfig;
    constructor(config: LayerArgs & OnnxSoftmaxConfig) {
      super(config);
      this.cfg = { axes: [...config.axes], log: Boolean(config.log) };
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs);
        const shifted = tf.sub(x, tf.max(x, this.cfg.axes, true));
        const sum = tf.sum(tf.exp(shifted), this.cfg.axes, true);
        return this.cfg.log ? tf.sub(shifted, tf.log(sum)) : tf.div(tf.exp(shifted), sum);
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxUnary extends tf.layers.Layer {
    static className = 'OnnxUnary';
    readonly cfg: OnnxUnaryConfig;
    constructor(config: LayerArgs & OnnxUnaryConfig) {
      super(config);
      this.cfg = { op: enumValue(config.op, UNARY_OPS), alpha: config.alpha ?? 0, beta: config.beta ?? 0 };
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs);
        const { op, alpha, beta } = this.cfg;
        switch (op) {
          case 'Identity': return tf.clone(x);
          case 'Sqrt': return tf.sqrt(x);
          case 'Exp': return tf.exp(x);
          case 'Log': return tf.log(x);
          case 'Erf': return tf.erf(x);
          case 'HardSigmoid': return tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
          case 'HardSwish': return tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1));
          // ONNX Gelu (opset 20): 0.5·x·(1 + erf(x/√2)), or with approximate = 'tanh' 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
          case 'Gelu': return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
          case 'GeluTanh': {
            const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
            return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
          }
        }
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxReduce extends tf.layers.Layer {
    static className = 'OnnxReduce';
    readonly cfg: OnnxReduceConfig;
    constructor(config: LayerArgs & OnnxReduceConfig) {
      super(config);
      this.cfg = { op: enumValue(config.op, ['mean', 'max']), axes: [...config.axes] };
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      return firstShape(inputShape).map((d, i) => (this.cfg.axes.includes(i) ? 1 : d));
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      return this.cfg.op === 'mean' ? tf.mean(x, this.cfg.axes, true) : tf.max(x, this.cfg.axes, true);
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  /** (x − mean) / √(var + ε) over `axes`, as ONNX computes it (population variance). */
  const normalize = (x: Tensor, axes: number[], eps: number): Tensor => {
    const { mean, variance } = tf.moments(x, axes, true);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  };

  class OnnxInstanceNorm extends tf.layers.Layer {
    static className = 'OnnxInstanceNorm';
    readonly cfg: OnnxInstanceNormConfig;
    private scale: TfModule.LayerVariable | undefined;
    private bias: TfModule.LayerVariable | undefined;
    constructor(config: LayerArgs & OnnxInstanceNormConfig) {
      super(config);
      this.cfg = { epsilon: config.epsilon, channels: config.channels };
    }
    override build(): void {
      this.scale = this.addWeight('scale', [this.cfg.channels], 'float32', tf.initializers.ones());
      this.bias = this.addWeight('bias', [this.cfg.channels], 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const y = normalize(first(inputs), [1, 2], this.cfg.epsilon);
        return tf.add(tf.mul(y, (this.scale as TfModule.LayerVariable).read()), (this.bias as TfModule.LayerVariable).read());
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxLayerNorm extends tf.layers.Layer {
    static className = 'OnnxLayerNorm';
    readonly cfg: OnnxLayerNormConfig;
    private scale: TfModule.LayerVariable | undefined;
    private bias: TfModule.LayerVariable | undefined;
    constructor(config: LayerArgs & OnnxLayerNormConfig) {
      super(config);
      this.cfg = { axes: [...config.axes], epsilon: config.epsilon, paramShape: [...config.paramShape], useBias: Boolean(config.useBias) };
    }
    override build(): void {
      this.scale = this.addWeight('scale', this.cfg.paramShape, 'float32', tf.initializers.ones());
      if (this.cfg.useBias) this.bias = this.addWeight('bias', this.cfg.paramShape, 'float32', tf.initializers.zeros());
      this.built = true;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const y = tf.mul(normalize(first(inputs), this.cfg.axes, this.cfg.epsilon), (this.scale as TfModule.LayerVariable).read());
        return this.bias ? tf.add(y, this.bias.read()) : y;
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  class OnnxSpaceDepth extends tf.layers.Layer {
    static className = 'OnnxSpaceDepth';
    readonly cfg: OnnxSpaceDepthConfig;
    constructor(config: LayerArgs & OnnxSpaceDepthConfig) {
      super(config);
      this.cfg = { blocksize: config.blocksize, mode: enumValue(config.mode, ['DCR', 'CRD', 'SpaceToDepth']) };
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [n, h, w, c] = firstShape(inputShape);
      const b = this.cfg.blocksize;
      const up = this.cfg.mode !== 'SpaceToDepth';
      return [n, scaleDim(h, b, up), scaleDim(w, b, up), c === null ? null : up ? c / (b * b) : c * b * b];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const x = first(inputs);
        const [n, h, w, c] = x.shape;
        const b = this.cfg.blocksize;
        // Rank-6 reshape/transpose: the ONNX definition in NHWC (ONNX DCR = TF's depth_to_space order).
        if (this.cfg.mode === 'SpaceToDepth') {
          const t = tf.transpose(tf.reshape(x, [n, h / b, b, w / b, b, c]), [0, 1, 3, 2, 4, 5]);
          return tf.reshape(t, [n, h / b, w / b, b * b * c]);
        }
        const co = c / (b * b);
        const t = this.cfg.mode === 'DCR'
          ? tf.transpose(tf.reshape(x, [n, h, w, b, b, co]), [0, 1, 3, 2, 4, 5])
          : tf.transpose(tf.reshape(x, [n, h, w, co, b, b]), [0, 1, 4, 2, 5, 3]);
        return tf.reshape(t, [n, h * b, w * b, co]);
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), ...this.cfg };
    }
  }

  /** NHWC-held rank-4 tensor → its ONNX (NCHW-order) form, and back. */
  const toOnnx = (t: Tensor) => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t);
  const fromOnnx = (t: Tensor) => (t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t);

  class OnnxMatMul extends tf.layers.Layer {
    static className = 'OnnxMatMul';
    readonly constantShape: number[] | null;
    private constantWeight: TfModule.LayerVariable | undefined;
    constructor(config: LayerArgs & OnnxMatMulConfig) {
      super(config);
      this.constantShape = config.constantShape ? [...config.constantShape] : null;
    }
    override build(): void {
      if (this.constantShape) this.constantWeight = this.addWeight('constant', this.constantShape, 'float32', tf.initializers.zeros(), undefined, false);
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
      const a = shapes[0];
      const bLast = this.constantShape ? this.constantShape[this.constantShape.length - 1] : shapes[1][2];
      // [N, H, W, C] holds ONNX [N, C, H, W]: the product replaces ONNX's last axis W (tfjs axis 2).
      return [a[0], a[1], bLast, a[3]];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      return tf.tidy(() => {
        const xs = Array.isArray(inputs) ? inputs : [inputs];
        const a = toOnnx(xs[0]);
        const b = this.constantWeight ? this.constantWeight.read() : toOnnx(xs[1]);
        const bb = b.rank === 2 ? b : b.rank < a.rank ? b : tf.broadcastTo(b, [...a.shape.slice(0, -2), ...b.shape.slice(-2)]);
        const y = bb.rank === 2
          ? tf.reshape(tf.matMul(tf.reshape(a, [-1, a.shape[a.rank - 1] as number]), bb as TfModule.Tensor2D), [...a.shape.slice(0, -1), bb.shape[1] as number])
          : tf.matMul(a, bb);
        return fromOnnx(y);
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), constantShape: this.constantShape };
    }
  }

  class OnnxChannelGather extends tf.layers.Layer {
    static className = 'OnnxChannelGather';
    readonly indices: number[];
    constructor(config: LayerArgs & OnnxChannelGatherConfig) {
      super(config);
      this.indices = [...config.indices];
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const s = firstShape(inputShape);
      return [...s.slice(0, -1), this.indices.length];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      return tf.tidy(() => tf.gather(x, tf.tensor1d(this.indices, 'int32'), x.rank - 1));
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), indices: this.indices };
    }
  }

  return { OnnxChannelGather, OnnxGroupConv, OnnxGroupConvTranspose, OnnxPool, OnnxLRN, OnnxSoftmax, OnnxUnary, OnnxReduce, OnnxInstanceNorm, OnnxLayerNorm, OnnxSpaceDepth, OnnxMatMul };
}
