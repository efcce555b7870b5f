/**
 * onnxtune's ONNX toolkit: protobuf types, model IO (with safe external data), tensors,
 * a graph builder, inspection, structural checks, sub-model extraction, composition,
 * metadata, and the constant resolver (weights wherever exporters put them). Import from here rather than from the individual modules.
 */
export * from './proto';
export * from './model-io';
export * from './tensor';
export * from './builder';
export * from './info';
export * from './check';
export * from './extract';
export * from './compose';
export * from './metadata';
export { makeValueInfo } from './graph-utils';
export { ConstantResolver, constantResolver, summarizeWeights, type ConstantResolverOptions, type WeightSummary } from './constants';
export { CONST_OPS, MAX_CONSTANT_ELEMENTS, evaluateConstNode } from './const-rules';
export type { ConstTensor } from './const-tensor';
