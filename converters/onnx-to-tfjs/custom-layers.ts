/**
 * tfjs layers for the ONNX ops that have no built-in Keras layer: padding on any axis or with
 * any value (OnnxPad), strided slicing (OnnxStridedSlice), clipping (OnnxClip), Sub/Div of two
 * activations (OnnxBinary), arithmetic with a constant (OnnxConstBinary) and resizing with
 * ONNX coordinate modes (OnnxResize); the backbone ops' layers are in custom-layers-nets.ts. They are registered with tf.serialization, so a saved
 * model.json loads after `registerOnnxLayers(tf)`, and converters/tfjs-to-onnx maps each back
 * to one ONNX node. Configs are JSON-safe (±Infinity is stored as a string).
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { defineNetLayers, enumValue, NET_LAYER_CLASSES, type NetLayerClasses } from './custom-layers-nets';

type Tensor = TfModule.Tensor;
type Shape = TfModule.Shape;
type LayerArgs = NonNullable<ConstructorParameters<typeof TfModule.layers.Layer>[0]>;

/** Class names of the custom layers, as written in model.json. */
export const ONNX_LAYER_CLASSES = Object.freeze(['OnnxPad', 'OnnxStridedSlice', 'OnnxClip', 'OnnxBinary', 'OnnxConstBinary', 'OnnxResize', ...NET_LAYER_CLASSES] as const);

/** A number that may be ±Infinity/NaN, as stored in a JSON config. */
export type JsonNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/** Encodes a number for a JSON config (JSON has no Infinity). */
export function encodeNumber(v: number): JsonNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** Decodes {@link encodeNumber} (also after tfjs re-cased the string in a model.json round trip). */
export function decodeNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v).replace(/_/g, '').toLowerCase();
  return s === 'infinity' ? Infinity : s === '-infinity' ? -Infinity : s === 'nan' ? NaN : Number(v);
}

const BINARY_OPS: readonly BinaryOp[] = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min'];

/** OnnxPad: paddings per non-batch axis (tfjs order), `constant` (any value), `reflect` or `edge`. */
export interface OnnxPadConfig {
  paddings: Array<[number, number]>;
  mode: 'constant' | 'reflect' | 'edge';
  value: JsonNumber;
}

/** OnnxStridedSlice: begin/end/strides per non-batch axis (tfjs order); end null = to the end. */
export interface OnnxStridedSliceConfig {
  begin: number[];
  end: Array<number | null>;
  strides: number[];
}

/** OnnxClip: bounds; null = unbounded on that side. */
export interface OnnxClipConfig {
  min: number | null;
  max: number | null;
}

/** Binary ops of the custom layers. */
export type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Max' | 'Min';

/** OnnxBinary: `op(a, b)` of two activations with broadcasting. */
export interface OnnxBinaryConfig {
  op: BinaryOp;
}

/** OnnxConstBinary: `op(x, c)` (or `op(c, x)` with constantFirst) with a stored constant of `constantShape` (tfjs layout). */
export interface OnnxConstBinaryConfig {
  op: BinaryOp;
  constantFirst: boolean;
  constantShape: number[];
}

/** OnnxResize: spatial scales and the ONNX Resize mode and coordinate rules it reproduces. */
export interface OnnxResizeConfig {
  scales: [number, number];
  mode: 'nearest' | 'linear';
  coordinateTransformationMode: 'asymmetric' | 'half_pixel' | 'pytorch_half_pixel' | 'align_corners';
  nearestMode: 'floor' | 'ceil' | 'round_prefer_floor' | 'round_prefer_ceil';
  /** Computes ONNX's coordinates with the given scales and gathers (modes tf.image does not reproduce). */
  exact?: boolean;
}

const first = (inputs: Tensor | Tensor[]): Tensor => (Array.isArray(inputs) ? inputs[0] : inputs);
const firstShape = (s: Shape | Shape[]): Shape => (Array.isArray(s[0]) || s[0] === undefined ? (s as Shape[])[0] ?? [] : (s as Shape));

function broadcastShape(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const x = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const y = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    out.push(x === 1 ? y : y === 1 ? x : x ?? y);
  }
  return out;
}

function binaryOp(tf: Tf, op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  switch (op) {
    case 'Add': return tf.add(a, b);
    case 'Sub': return tf.sub(a, b);
    case 'Mul': return tf.mul(a, b);
    case 'Div': return tf.div(a, b);
    case 'Pow': return tf.pow(a, b);
    case 'Max': return tf.maximum(a, b);
    case 'Min': return tf.minimum(a, b);
  }
}

/** Output length of a clamped strided slice (ONNX/NumPy rules, positive step). */
export function sliceLength(dim: number, begin: number, end: number | null, stride: number): number {
  const clamp = (v: number) => Math.max(0, Math.min(dim, v < 0 ? v + dim : v));
  const b = clamp(begin);
  const e = end === null ? dim : clamp(end);
  return Math.max(0, Math.ceil((e - b) / stride));
}

type Ctor<C> = new (config: LayerArgs & C) => TfModule.layers.Layer;

/**
 * Source indices of ONNX Resize along one axis (nearest: one index; linear: two indices and
 * the weight of the second), from ONNX's coordinate transformation with the given scale.
 */
export function resizeIndices(
  inLen: number, outLen: number, scale: number, cfg: Pick<OnnxResizeConfig, 'mode' | 'coordinateTransformationMode' | 'nearestMode'>,
): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(outLen);
  const i1 = new Int32Array(outLen);
  const w = new Float32Array(outLen);
  const clamp = (v: number) => Math.max(0, Math.min(inLen - 1, v));
  for (let o = 0; o < outLen; o++) {
    let x: number;
    switch (cfg.coordinateTransformationMode) {
      case 'half_pixel': x = (o + 0.5) / scale - 0.5; break;
      case 'pytorch_half_pixel': x = outLen > 1 ? (o + 0.5) / scale - 0.5 : 0; break;
      case 'align_corners': x = outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1); break;
      case 'asymmetric': x = o / scale; break;
    }
    if (cfg.mode === 'nearest') {
      const f = Math.floor(x);
      const frac = x - f;
      const r = cfg.nearestMode === 'floor' ? f
        : cfg.nearestMode === 'ceil' ? Math.ceil(x)
          : frac === 0.5 ? (cfg.nearestMode === 'round_prefer_floor' ? f : f + 1) : Math.round(x);
      i0[o] = clamp(r);
      i1[o] = i0[o];
    } else {
      const c = Math.max(0, Math.min(inLen - 1, x));
      i0[o] = Math.floor(c);
      i1[o] = Math.min(i0[o] + 1, inLen - 1);
      w[o] = c - i0[o];
    }
  }
  return { i0, i1, w };
}

/** The custom layer classes of one tfjs module, by class name. */
export interface OnnxLayerClasses extends NetLayerClasses {
  readonly OnnxPad: Ctor<OnnxPadConfig>;
  readonly OnnxStridedSlice: Ctor<OnnxStridedSliceConfig>;
  readonly OnnxClip: Ctor<OnnxClipConfig>;
  readonly OnnxBinary: Ctor<OnnxBinaryConfig>;
  readonly OnnxConstBinary: Ctor<OnnxConstBinaryConfig>;
  readonly OnnxResize: Ctor<OnnxResizeConfig>;
}
const registered = new WeakMap<object, OnnxLayerClasses>();

/**
 * Defines and registers the custom layer classes for this tfjs module (once per module);
 * call it before `tf.loadLayersModel` on a model converted from ONNX.
 * @returns the classes by name.
 */
export function registerOnnxLayers(tf: Tf): OnnxLayerClasses {
  const done = registered.get(tf);
  if (done) return done;

  class OnnxPad extends tf.layers.Layer {
    static className = 'OnnxPad';
    readonly paddings: Array<[number, number]>;
    readonly mode: 'constant' | 'reflect' | 'edge';
    readonly value: number;
    constructor(config: LayerArgs & OnnxPadConfig) {
      super(config);
      this.paddings = config.paddings.map((p) => [p[0], p[1]] as [number, number]);
      this.mode = enumValue(config.mode, ['constant', 'reflect', 'edge']);
      this.value = decodeNumber(config.value);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const s = firstShape(inputShape);
      return s.map((d, i) => (i === 0 || d === null ? d : d + this.paddings[i - 1][0] + this.paddings[i - 1][1]));
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      const p: Array<[number, number]> = [[0, 0], ...this.paddings];
      if (this.mode === 'edge') {
        // Edge padding repeats the border: gather with clamped indices, axis by axis.
        return tf.tidy(() => p.reduce((t, [b, e], axis) => {
          if (!b && !e) return t;
          const d = t.shape[axis];
          const idx = Int32Array.from({ length: d + b + e }, (_, i) => Math.max(0, Math.min(d - 1, i - b)));
          return tf.gather(t, tf.tensor1d(idx, 'int32'), axis);
        }, x));
      }
      return this.mode === 'reflect' ? tf.mirrorPad(x, p, 'reflect') : tf.pad(x, p, this.value);
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), paddings: this.paddings, mode: this.mode, value: encodeNumber(this.value) };
    }
  }

  class OnnxStridedSlice extends tf.layers.Layer {
    static className = 'OnnxStridedSlice';
    readonly begin: number[];
    readonly end: Array<number | null>;
    readonly strides: number[];
    constructor(config: LayerArgs & OnnxStridedSliceConfig) {
      super(config);
      this.begin = [...config.begin];
      this.end = [...config.end];
      this.strides = [...config.strides];
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const s = firstShape(inputShape);
      return s.map((d, i) => (i === 0 || d === null ? d : sliceLength(d, this.begin[i - 1], this.end[i - 1], this.strides[i - 1])));
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      const dims = x.shape;
      // Clamp here so tfjs sees plain in-range indices (the ONNX rule), whatever the size.
      const begin = [0];
      const end = [dims[0]];
      for (let i = 1; i < dims.length; i++) {
        const d = dims[i];
        const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
        begin.push(clamp(this.begin[i - 1]));
        const e = this.end[i - 1];
        end.push(e === null ? d : clamp(e));
      }
      // A contiguous slice, then a gather per strided axis: both have gradients in every backend, and
      // tf.stridedSlice has none (a fine-tuned ResNet-20 stage with its stride-2 shortcut needs one).
      return tf.tidy(() => {
        let y = tf.slice(x, begin, end.map((e, i) => Math.max(0, e - begin[i])));
        this.strides.forEach((st, i) => {
          if (st === 1) return;
          const n = y.shape[i + 1];
          y = tf.gather(y, tf.range(0, n, st, 'int32'), i + 1);
        });
        return y;
      });
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), begin: this.begin, end: this.end, strides: this.strides };
    }
  }

  class OnnxClip extends tf.layers.Layer {
    static className = 'OnnxClip';
    readonly min: number | null;
    readonly max: number | null;
    constructor(config: LayerArgs & OnnxClipConfig) {
      super(config);
      this.min = config.min ?? null;
      this.max = config.max ?? null;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      if (this.min !== null && this.max !== null) return tf.clipByValue(x, this.min, this.max);
      if (this.min !== null) return tf.maximum(x, this.min);
      if (this.max !== null) return tf.minimum(x, this.max);
      return tf.clone(x);
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), min: this.min, max: this.max };
    }
  }

  class OnnxBinary extends tf.layers.Layer {
    static className = 'OnnxBinary';
    readonly op: BinaryOp;
    constructor(config: LayerArgs & OnnxBinaryConfig) {
      super(config);
      this.op = enumValue(config.op, BINARY_OPS);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [a, b] = inputShape as Shape[];
      return broadcastShape(a, b);
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const [a, b] = inputs as Tensor[];
      return binaryOp(tf, this.op, a, b);
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), op: this.op };
    }
  }

  class OnnxConstBinary extends tf.layers.Layer {
    static className = 'OnnxConstBinary';
    readonly op: BinaryOp;
    readonly constantFirst: boolean;
    readonly constantShape: number[];
    private constantWeight: TfModule.LayerVariable | undefined;
    constructor(config: LayerArgs & OnnxConstBinaryConfig) {
      super(config);
      this.op = enumValue(config.op, BINARY_OPS);
      this.constantFirst = Boolean(config.constantFirst);
      this.constantShape = [...config.constantShape];
    }
    override build(): void {
      this.constantWeight = this.addWeight('constant', this.constantShape, 'float32', tf.initializers.zeros(), undefined, false);
      this.built = true;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      return broadcastShape(firstShape(inputShape), this.constantShape);
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      const c = (this.constantWeight as TfModule.LayerVariable).read();
      return this.constantFirst ? binaryOp(tf, this.op, c, x) : binaryOp(tf, this.op, x, c);
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return { ...super.getConfig(), op: this.op, constantFirst: this.constantFirst, constantShape: this.constantShape };
    }
  }

  class OnnxResize extends tf.layers.Layer {
    static className = 'OnnxResize';
    readonly scales: [number, number];
    readonly mode: OnnxResizeConfig['mode'];
    readonly coordinateTransformationMode: OnnxResizeConfig['coordinateTransformationMode'];
    readonly nearestMode: OnnxResizeConfig['nearestMode'];
    readonly exact: boolean;
    constructor(config: LayerArgs & OnnxResizeConfig) {
      super(config);
      this.scales = [config.scales[0], config.scales[1]];
      this.mode = enumValue(config.mode, ['nearest', 'linear']);
      this.coordinateTransformationMode = enumValue(config.coordinateTransformationMode, ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'align_corners']);
      this.nearestMode = enumValue(config.nearestMode, ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil']);
      this.exact = Boolean(config.exact);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [n, h, w, c] = firstShape(inputShape);
      return [n, h === null ? null : Math.floor(h * this.scales[0]), w === null ? null : Math.floor(w * this.scales[1]), c];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs) as TfModule.Tensor4D;
      const size: [number, number] = [Math.floor(x.shape[1] * this.scales[0]), Math.floor(x.shape[2] * this.scales[1])];
      if (this.exact) return tf.tidy(() => [1, 2].reduce((t, axis) => this.resizeAxis(t, axis, size[axis - 1]), x as TfModule.Tensor));
      const alignCorners = this.coordinateTransformationMode === 'align_corners';
      const halfPixel = this.coordinateTransformationMode === 'half_pixel' || this.coordinateTransformationMode === 'pytorch_half_pixel';
      return this.mode === 'linear'
        ? tf.image.resizeBilinear(x, size, alignCorners, halfPixel)
        : tf.image.resizeNearestNeighbor(x, size, alignCorners, halfPixel);
    }
    /** One axis of the exact path: gather (nearest) or gather twice and interpolate (linear). */
    private resizeAxis(t: TfModule.Tensor, axis: number, outLen: number): TfModule.Tensor {
      const { i0, i1, w } = resizeIndices(t.shape[axis], outLen, this.scales[axis - 1], this);
      const a = tf.gather(t, tf.tensor1d(i0, 'int32'), axis);
      if (this.mode === 'nearest') return a;
      const b = tf.gather(t, tf.tensor1d(i1, 'int32'), axis);
      const shape = [1, 1, 1, 1];
      shape[axis] = outLen;
      return tf.add(a, tf.mul(tf.sub(b, a), tf.tensor(w, shape)));
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return {
        ...super.getConfig(),
        scales: this.scales,
        mode: this.mode,
        coordinateTransformationMode: this.coordinateTransformationMode,
        nearestMode: this.nearestMode,
        ...(this.exact ? { exact: true } : {}),
      };
    }
  }

  const classes = { OnnxPad, OnnxStridedSlice, OnnxClip, OnnxBinary, OnnxConstBinary, OnnxResize, ...defineNetLayers(tf) };
  for (const cls of Object.values(classes)) tf.serialization.registerClass(cls as unknown as TfModule.serialization.SerializableConstructor<TfModule.serialization.Serializable>);
  const frozen: OnnxLayerClasses = Object.freeze(classes);
  registered.set(tf, frozen);
  return frozen;
}
