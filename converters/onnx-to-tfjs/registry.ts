/**
 * The ONNX → tfjs mapping table: the per-category OpMapper lists indexed by op type. An op
 * type listed twice is a programming error and throws when this module loads.
 */
import { ACTIVATION_OPS } from './ops/activation';
import { CONSTANT_OPS } from './ops/constant';
import { CONV_OPS } from './ops/conv';
import { ELEMENTWISE_OPS } from './ops/elementwise';
import { NORMALIZATION_OPS } from './ops/normalization';
import { POOLING_OPS } from './ops/pooling';
import { QUANTIZE_OPS } from './ops/quantize';
import { SHAPE_OPS } from './ops/shape';
import type { OpMapper } from './types';

/**
 * Indexes mapper lists by op type.
 * @throws Error when an op type appears twice.
 */
export function buildOpTable(families: ReadonlyArray<readonly OpMapper[]>): ReadonlyMap<string, OpMapper> {
  const table = new Map<string, OpMapper>();
  for (const family of families) {
    for (const m of family) {
      if (table.has(m.onnxOp)) throw new Error(`onnx-to-tfjs: op type '${m.onnxOp}' has two mappers`);
      table.set(m.onnxOp, Object.freeze(m));
    }
  }
  return table;
}

/** Every mapper family, in table order. */
export const OP_FAMILIES: ReadonlyArray<readonly OpMapper[]> = Object.freeze([
  CONV_OPS,
  ACTIVATION_OPS,
  NORMALIZATION_OPS,
  POOLING_OPS,
  ELEMENTWISE_OPS,
  SHAPE_OPS,
  CONSTANT_OPS,
  QUANTIZE_OPS,
]);

/** Op type → mapper for every ONNX op the converter reads. */
export const OP_MAPPERS: ReadonlyMap<string, OpMapper> = buildOpTable(OP_FAMILIES);

/** Op types that can become tfjs layers (activations flow through them), sorted. */
export const CONVERTIBLE_OPS: readonly string[] = Object.freeze([...OP_MAPPERS.values()].filter((m) => m.build).map((m) => m.onnxOp).sort());

/** Op types that are evaluated at conversion time when their inputs are constants, sorted. */
export const FOLDABLE_OPS: readonly string[] = Object.freeze([...OP_MAPPERS.values()].filter((m) => m.fold).map((m) => m.onnxOp).sort());

/** Every op type the converter accepts, sorted. */
export const ONNX_TO_TFJS_OPS: readonly string[] = Object.freeze([...OP_MAPPERS.keys()].sort());
