/**
 * The layout policy of ONNX → tfjs in code: rank-4 ONNX tensors are NCHW, their tfjs
 * counterparts NHWC; other ranks keep their axis order. Axes are renumbered, weights and
 * broadcast constants permuted once at conversion time; activations are never transposed
 * inside the model (the only transposes are the user's, at the model boundary).
 */
import { transposeConst, type ConstTensor } from './constants';

/** NCHW axis → NHWC axis. */
export const NCHW_TO_NHWC_AXIS: readonly number[] = Object.freeze([0, 3, 1, 2]);
/** NHWC axis → NCHW axis. */
export const NHWC_TO_NCHW_AXIS: readonly number[] = Object.freeze([0, 2, 3, 1]);

/** The tfjs axis of ONNX axis `axis` (already non-negative) of a rank-`rank` tensor. */
export function tfAxis(axis: number, rank: number): number {
  return rank === 4 ? NCHW_TO_NHWC_AXIS[axis] : axis;
}

/** ONNX dims [N, C, H, W] → tfjs [N, H, W, C] for rank 4; unchanged otherwise. */
export function tfDims<T>(dims: readonly T[]): T[] {
  return dims.length === 4 ? [dims[0], dims[2], dims[3], dims[1]] : [...dims];
}

/** tfjs dims → ONNX dims (inverse of {@link tfDims}). */
export function onnxDimsOf<T>(dims: readonly T[]): T[] {
  return dims.length === 4 ? [dims[0], dims[3], dims[1], dims[2]] : [...dims];
}

/**
 * A constant that broadcasts against a rank-`rank` ONNX activation, re-laid for the tfjs
 * activation: right-aligned to `rank` and, for rank 4, permuted NCHW → NHWC. Scalars stay scalars.
 * @returns undefined when the constant has more dims than the activation.
 */
export function broadcastConstToTf(c: ConstTensor, rank: number): ConstTensor | undefined {
  if (c.dims.length > rank) return undefined;
  if (c.dims.length === 0 || rank !== 4) return c;
  const full = { ...c, dims: [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims] };
  return transposeConst(full, [0, 2, 3, 1]);
}

/** Permutes an ONNX conv weight [O, I, kh, kw] to a tfjs kernel [kh, kw, I, O]. */
export function convKernel(w: ConstTensor): { data: Float32Array; shape: number[] } {
  const t = transposeConst(w, [2, 3, 1, 0]);
  return { data: Float32Array.from(t.data), shape: t.dims };
}

/** A valid tfjs layer name from an ONNX name ('/layer1/conv/Conv' → 'layer1_conv_Conv'). */
export function sanitizeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '').replace(/_+$/, '');
  return s || 'node';
}
