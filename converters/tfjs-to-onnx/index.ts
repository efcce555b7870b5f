/**
 * tfjs-to-onnx: converts tfjs LayersModels (NHWC) to ONNX graphs (NCHW) by permuting
 * weights instead of transposing activations. One mapper per layer class in a frozen table
 * (registry.ts), one dispatcher (emit.ts); see converters/README.md for the supported layers.
 */
export { tfjsToOnnx, onnxDims, type TfjsToOnnxOptions } from './convert';
export { emitLayersModel, checkOpset, MIN_OPSET, MAX_OPSET, type EmitOptions } from './emit';
export { SUPPORTED_LAYERS, LAYER_MAPPERS, buildRegistry } from './registry';
export { SUPPORTED_ACTIVATIONS } from './activations';
export type { EmitContext, LayerMapper, TensorRef } from './types';
export { simplifyGraph, type SimplifyReport } from './optimize';
