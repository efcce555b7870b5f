/**
 * Pixels ⇄ model tensors: RGBA bytes (canvas ImageData) to planar [0,1] floats with the model's
 * channel count and back, the value-range mapping from `onnxtune.value_range`, and float16
 * packing for models whose input is float16. NCHW with N = 1 is the planar layout here.
 */
import { float16ToFloat32, float32ToFloat16 } from '../tensor/fp16';
import type { Planar } from './tiling';

/** ITU-R BT.601 luma weights, used when a color image meets a gray model. */
const LUMA = Object.freeze([0.299, 0.587, 0.114]);

/**
 * RGBA bytes → planar [0,1] floats. Gray pixels (R = G = B) keep their exact value for a
 * 1-channel model; color pixels use BT.601 luma. Alpha is ignored.
 * @throws RangeError when the byte count does not match width × height × 4
 */
export function rgbaToPlanar(rgba: ArrayLike<number>, width: number, height: number, channels: 1 | 3): Planar {
  const n = width * height;
  if (rgba.length !== n * 4) throw new RangeError(`rgbaToPlanar: ${rgba.length} bytes are not ${width}×${height} RGBA`);
  const data = new Float32Array(channels * n);
  for (let p = 0; p < n; p++) {
    const r = rgba[4 * p];
    const g = rgba[4 * p + 1];
    const b = rgba[4 * p + 2];
    if (channels === 1) {
      data[p] = (r === g && g === b ? r : LUMA[0] * r + LUMA[1] * g + LUMA[2] * b) / 255;
    } else {
      data[p] = r / 255;
      data[n + p] = g / 255;
      data[2 * n + p] = b / 255;
    }
  }
  return { data, channels, height, width };
}

/**
 * Planar [0,1] floats → RGBA bytes (clipped, rounded; gray is repeated into R, G, B), opaque, or
 * with the alpha of `alphaFrom` (RGBA bytes of the same size, e.g. the image the input came from)
 * so a transparent image keeps its transparency.
 */
export function planarToRgba(image: Planar, out = new Uint8ClampedArray(image.width * image.height * 4), alphaFrom?: ArrayLike<number>): Uint8ClampedArray {
  const n = image.width * image.height;
  if (alphaFrom && alphaFrom.length !== n * 4) throw new RangeError(`planarToRgba: alpha source has ${alphaFrom.length} bytes, not ${image.width}×${image.height} RGBA`);
  const byte = (v: number) => (v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0);
  for (let p = 0; p < n; p++) {
    const r = byte(image.data[p]);
    out[4 * p] = r;
    out[4 * p + 1] = image.channels === 3 ? byte(image.data[n + p]) : r;
    out[4 * p + 2] = image.channels === 3 ? byte(image.data[2 * n + p]) : r;
    out[4 * p + 3] = alphaFrom ? alphaFrom[4 * p + 3] : 255;
  }
  return out;
}

const isUnitRange = (range: readonly [number, number]) => range[0] === 0 && range[1] === 1;

/** [0,1] → the model's value range (a copy; unchanged values for [0,1]). */
export function toModelRange(data: Float32Array, range: readonly [number, number]): Float32Array {
  if (isUnitRange(range)) return data.slice();
  const [lo, hi] = range;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = lo + data[i] * (hi - lo);
  return out;
}

/** The model's value range → [0,1], clipped (in place). */
export function fromModelRange(data: Float32Array, range: readonly [number, number]): Float32Array {
  const [lo, hi] = range;
  const unit = isUnitRange(range);
  for (let i = 0; i < data.length; i++) {
    const v = unit ? data[i] : (data[i] - lo) / (hi - lo);
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return data;
}

/** A tensor in the element type the model declares: float16 is carried as IEEE half bit patterns. */
export type ModelTensorData = { type: 'float32'; data: Float32Array } | { type: 'float16'; data: Uint16Array };

/** Float32 values → the model's input element type. */
export function encodeInput(data: Float32Array, type: 'float32' | 'float16'): ModelTensorData {
  return type === 'float16' ? { type, data: float32ToFloat16(data) } : { type, data };
}

/**
 * A runtime's output → float32. float16 outputs arrive as half bit patterns (Uint16Array) or,
 * where the JS engine has Float16Array, as numbers.
 */
export function decodeOutput(data: ArrayLike<number>, type: 'float32' | 'float16'): Float32Array {
  if (type === 'float16' && data instanceof Uint16Array) return float16ToFloat32(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}
