/**
 * The frozen table from tfjs layer class name to mapper, assembled from the mapper
 * families. A class name registered twice is a programming error and throws when this
 * module loads, so a conflicting mapper can never be chosen silently.
 */
import { ACTIVATION_LAYER_MAPPERS } from './mappers/activation-layers';
import { CONV_MAPPERS } from './mappers/conv';
import { CORE_MAPPERS } from './mappers/core';
import { MERGE_MAPPERS } from './mappers/merge';
import { NORMALIZATION_MAPPERS } from './mappers/normalization';
import { ONNX_LAYER_MAPPERS } from './mappers/onnx-layers';
import { ONNX_NET_LAYER_MAPPERS } from './mappers/onnx-net-layers';
import { POOLING_MAPPERS } from './mappers/pooling';
import { QUANTIZE_MAPPERS } from './mappers/quantize';
import { RESHAPING_MAPPERS } from './mappers/reshaping';
import type { LayerMapper } from './types';

/**
 * Builds a frozen class-name → mapper table.
 * @throws Error when a class name appears twice.
 */
export function buildRegistry(families: ReadonlyArray<ReadonlyArray<readonly [string, LayerMapper]>>): Readonly<Record<string, LayerMapper>> {
  const table: Record<string, LayerMapper> = Object.create(null) as Record<string, LayerMapper>;
  for (const family of families) {
    for (const [className, mapper] of family) {
      if (className in table) throw new Error(`tfjs-to-onnx: layer class '${className}' has two mappers`);
      table[className] = mapper;
    }
  }
  return Object.freeze(table);
}

/** Class name → mapper for every supported tfjs layer (InputLayer is handled by the walker). */
export const LAYER_MAPPERS = buildRegistry([
  CONV_MAPPERS,
  NORMALIZATION_MAPPERS,
  POOLING_MAPPERS,
  MERGE_MAPPERS,
  ACTIVATION_LAYER_MAPPERS,
  RESHAPING_MAPPERS,
  CORE_MAPPERS,
  ONNX_LAYER_MAPPERS,
  ONNX_NET_LAYER_MAPPERS,
  QUANTIZE_MAPPERS,
]);

/** Supported layer class names, sorted (InputLayer included). */
export const SUPPORTED_LAYERS: readonly string[] = Object.freeze(['InputLayer', ...Object.keys(LAYER_MAPPERS)].sort());
