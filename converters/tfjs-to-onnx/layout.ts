/**
 * The layout policy in code: tfjs tensors are NHWC, the ONNX graph is NCHW, so 4-D tensors
 * get their axes renumbered and weights are permuted once at conversion time; activations
 * are never transposed (except where NHWC element order is observable: Flatten, Reshape).
 */
import { UnsupportedOpError } from '../../src/errors';
import type { EmitContext } from './types';

/** NHWC axis → NCHW axis for a 4-D tensor. */
const NHWC_TO_NCHW = [0, 2, 3, 1];

/** The ONNX axis for tfjs `axis` (negative allowed) of a tensor of rank `rank`: 4-D axes are renumbered, others unchanged. */
export function onnxAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} out of range for rank ${rank}`);
  return rank === 4 ? NHWC_TO_NCHW[a] : a;
}

/** Permutes the axes of a dense row-major array: out dims = shape[perm[i]]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  const stridesByOut = perm.map((p) => inStrides[p]);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * stridesByOut[k];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** A [h, w] pair from a tfjs number-or-list config value. */
export function pair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return [v[0], v[0]];
  throw new RangeError(`${what}: expected a number or two numbers, got ${JSON.stringify(v)}`);
}

/** Refuses layers configured for channels-first data (the converter assumes NHWC tfjs models). */
export function requireChannelsLast(ctx: EmitContext): void {
  const f = ctx.config.dataFormat;
  if (f !== undefined && f !== null && f !== 'channelsLast') {
    throw new UnsupportedOpError(
      `${ctx.className} with dataFormat '${String(f)}'`,
      ctx.layer.name,
      ['channelsLast'],
      'The converter maps NHWC tfjs models to NCHW ONNX; build the model channels-last.',
    );
  }
}

/** Requires every input of the call to have rank `rank`. */
export function requireRank(ctx: EmitContext, ranks: readonly number[]): void {
  for (const t of ctx.inputs) {
    if (!ranks.includes(t.shape.length)) {
      throw new UnsupportedOpError(
        `${ctx.className} on a rank-${t.shape.length} input`,
        ctx.layer.name,
        ranks.map((r) => `rank ${r}`),
      );
    }
  }
}

/**
 * ONNX padding attributes reproducing TF 'same'/'valid' for a window op. Stride 1 gets explicit
 * pads (TF puts the odd extra at the end); larger strides depend on the input size, which is
 * symbolic here, so they use auto_pad SAME_UPPER (the same rule as TF).
 */
export function paddingAttrs(
  padding: unknown,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
  where = '',
): { pads?: number[]; auto_pad?: string } {
  if (padding === 'valid') return { pads: [0, 0, 0, 0] };
  if (padding !== 'same') throw new UnsupportedOpError(`padding '${String(padding)}'`, where, ['same', 'valid']);
  if (strides[0] === 1 && strides[1] === 1) {
    const total = kernel.map((k, i) => (k - 1) * dilations[i]);
    const begin = total.map((t) => Math.floor(t / 2));
    return { pads: [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]] };
  }
  return { auto_pad: 'SAME_UPPER' };
}
