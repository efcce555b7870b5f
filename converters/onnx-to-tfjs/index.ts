/**
 * onnx-to-tfjs: converts ONNX models (NCHW) to tfjs LayersModels (NHWC) through declarative
 * per-op mapping tables (ops/*.ts, indexed in registry.ts) and one dispatcher (convert.ts)
 * that folds constant subgraphs and permutes weights; see converters/README.md.
 */
export {
  onnxToTfjs, UnsupportedOnnxOpsError, ONNX_TO_TFJS_OPSETS,
  type OnnxToTfjsOptions, type OnnxToTfjsResult, type OnnxToTfjsReport, type ConversionProblem,
} from './convert';
export { OP_MAPPERS, OP_FAMILIES, CONVERTIBLE_OPS, FOLDABLE_OPS, ONNX_TO_TFJS_OPS, buildOpTable } from './registry';
export { registerOnnxLayers, ONNX_LAYER_CLASSES, type OnnxLayerClasses } from './custom-layers';
export type { OpMapper, BuildContext, FoldContext, Value } from './types';
