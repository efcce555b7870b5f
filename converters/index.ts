/**
 * The converters: ONNX ↔ tfjs (onnx-to-tfjs/, tfjs-to-onnx/), float16 and int8 weight
 * transforms, opset conversion, an NHWC interface wrapper, model files and the parity
 * checker. See converters/README.md.
 */
export * from './onnx-to-tfjs';
export { tfjsToOnnx, emitLayersModel, simplifyGraph, SUPPORTED_LAYERS, type TfjsToOnnxOptions } from './tfjs-to-onnx';
export { float16Weights, type Float16WeightsOptions, type Float16WeightsReport } from './fp16-weights';
export { convertToFloat16, FP32_INPUT_SLOTS, type Float16Options, type Float16Report } from './fp16';
export { quantizeWeightsInt8, quantizeSymmetric, QUANTIZED_OPS, type QuantizeOptions, type QuantizeReport, type QuantizedWeight } from './quantize';
export {
  quantizeStatic, loadCalibrationFeeds, planQuantization, QUANTIZATION_METADATA_KEY,
  type StaticQuantizeOptions, type StaticQuantizationReport, type CalibrationMethod,
} from './quantize-static';
export { convertOpset, OPSET_ADAPTERS, OPSET_ADAPTED_OPS, OPSET_SOURCE_RANGE, OPSET_TARGET_RANGE, type OpsetReport, type OpsetAdapter } from './opset';
export { wrapNhwc, modelLayout, LAYOUT_KEY } from './nhwc';
export { modelFormat, loadTfjsModel, saveTfjsModel, modelBytes, tfjsDir, type ModelFormat } from './io';
export { verifyModels, assertParity, compareRunners, onnxRunner, tfjsRunner, type VerifyOptions, type VerifyReport, type OutputComparison } from './verify';
export { SUPPORTED_ONNX_OPS, SUPPORTED_TFJS_LAYERS, OPSET_CHANGES, supportedOpsMarkdown } from './supported-ops';
export { defaultOpset } from './model-utils';
export { convertModelFile, type ConvertFileOptions, type ConvertFileReport } from './convert-file';
