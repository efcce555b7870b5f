/**
 * The page's pure core, shared with Node (the CLI and tests): model description from the ONNX
 * bytes, pixel packing, seeded noise, tiled denoising, PSNR. Nothing here touches the DOM,
 * Node's APIs or a runtime; the runtime call is passed in.
 */
export { ModelFormatError, ONNX_ELEM_TYPES, readOnnxSummary, type OnnxModelSummary, type OnnxValueInfo } from '../onnx/reader';
export {
  MODEL_DTYPES, defaultSigma, describeDenoiser, formatNoise, metadataRows, parseValueRange, readDenoiserInfo,
  type DenoiserInfo, type ModelDtype, type NoiseSpec,
} from './model-info';
export { checkTileOptions, DEFAULT_TILING, defaultOverlap, extractTile, planTiles, rampWeights, runTiled, tileStarts, type Planar, type TileOptions, type TileRect, type TileRunner } from './tiling';
export { addGaussianNoise } from '../noise/gaussian';
export { decodeOutput, encodeInput, fromModelRange, planarToRgba, rgbaToPlanar, toModelRange, type ModelTensorData } from './pixels';
export { ENSEMBLE_SIZES, ensembleViews, fromView, selfEnsemble, toView, type EnsembleSize } from './ensemble';
export { denoiseImage, tilingFor, type DenoiseOptions, type DenoiseResult, type ModelCall } from './denoise';
export { psnr } from '../metrics/psnr';
