/**
 * onnxtune's ONNX toolkit: protobuf types, model IO (with safe external data), tensors,
 * a graph builder, inspection, structural checks, sub-model extraction, composition and
 * metadata. Import from here rather than from the individual modules.
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
