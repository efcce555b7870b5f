/**
 * tfjs layers for the ONNX ops that have no built-in Keras layer: padding on any axis or with
 * any value (OnnxPad), strided slicing (OnnxStridedSlice), clipping (OnnxClip), Sub/Div of two
 * activations (OnnxBinary), arithmetic with a constant (OnnxConstBinary) and resizing with
 * ONNX coordinate modes (OnnxResize). They are registered with tf.serialization, so a saved
 * model.json loads after `registerOnnxLayers(tf)`, and converters/tfjs-to-onnx maps each back
 * to one ONNX node. Configs are JSON-safe (±Infinity is stored as a string).
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf';

type Tensor = TfModule.Tensor;
type Shape = TfModule.Shape;
type LayerArgs = NonNullable<ConstructorParameters<typeof TfModule.layers.Layer>[0]>;

/** Class names of the custom layers, as written in model.json. */
export const ONNX_LAYER_CLASSES = Object.freeze(['OnnxPad', 'OnnxStridedSlice', 'OnnxClip', 'OnnxBinary', 'OnnxConstBinary', 'OnnxResize'] as const);

/** A number that may be ±Infinity/NaN, as stored in a JSON config. */
export type JsonNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/** Encodes a number for a JSON config (JSON has no Infinity). */
export function encodeNumber(v: number): JsonNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/** Decodes {@link encodeNumber}. */
export function decodeNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

/** OnnxPad: paddings per non-batch axis (tfjs order), `constant` (any value) or `reflect`. */
export interface OnnxPadConfig {
  paddings: Array<[number, number]>;
  mode: 'constant' | 'reflect';
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
export type BinaryOp = 'Add' | 'Sub' | 'Mul' | 'Div';

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
  nearestMode: 'floor' | 'round_prefer_ceil';
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

/** The custom layer classes of one tfjs module, by class name. */
export interface OnnxLayerClasses {
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
    readonly mode: 'constant' | 'reflect';
    readonly value: number;
    constructor(config: LayerArgs & OnnxPadConfig) {
      super(config);
      this.paddings = config.paddings.map((p) => [p[0], p[1]] as [number, number]);
      this.mode = config.mode;
      this.value = decodeNumber(config.value);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const s = firstShape(inputShape);
      return s.map((d, i) => (i === 0 || d === null ? d : d + this.paddings[i - 1][0] + this.paddings[i - 1][1]));
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs);
      const p: Array<[number, number]> = [[0, 0], ...this.paddings];
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
      return tf.stridedSlice(x, begin, end, [1, ...this.strides]);
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
      this.op = config.op;
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
      this.op = config.op;
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
    constructor(config: LayerArgs & OnnxResizeConfig) {
      super(config);
      this.scales = [config.scales[0], config.scales[1]];
      this.mode = config.mode;
      this.coordinateTransformationMode = config.coordinateTransformationMode;
      this.nearestMode = config.nearestMode;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const [n, h, w, c] = firstShape(inputShape);
      return [n, h === null ? null : Math.floor(h * this.scales[0]), w === null ? null : Math.floor(w * this.scales[1]), c];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const x = first(inputs) as TfModule.Tensor4D;
      const size: [number, number] = [Math.floor(x.shape[1] * this.scales[0]), Math.floor(x.shape[2] * this.scales[1])];
      const alignCorners = this.coordinateTransformationMode === 'align_corners';
      const halfPixel = this.coordinateTransformationMode === 'half_pixel' || this.coordinateTransformationMode === 'pytorch_half_pixel';
      return this.mode === 'linear'
        ? tf.image.resizeBilinear(x, size, alignCorners, halfPixel)
        : tf.image.resizeNearestNeighbor(x, size, alignCorners, halfPixel);
    }
    override getConfig(): TfModule.serialization.ConfigDict {
      return {
        ...super.getConfig(),
        scales: this.scales,
        mode: this.mode,
        coordinateTransformationMode: this.coordinateTransformationMode,
        nearestMode: this.nearestMode,
      };
    }
  }

  const classes = { OnnxPad, OnnxStridedSlice, OnnxClip, OnnxBinary, OnnxConstBinary, OnnxResize };
  for (const cls of Object.values(classes)) tf.serialization.registerClass(cls as unknown as TfModule.serialization.SerializableConstructor<TfModule.serialization.Serializable>);
  const frozen: OnnxLayerClasses = Object.freeze(classes);
  registered.set(tf, frozen);
  return frozen;
}
