/**
 * The onnxtune library API: every public export, listed by name. The CLI calls only these,
 * so a program can do everything the command line does.
 */
export { runJob, type RunJobOptions, type RunJobResult } from '../pipeline/runner';
export { STAGE_NAMES, type StageName, type Stage, type StageContext, type StageRecord } from '../pipeline/types';
export { STAGES, getStage } from '../pipeline/stages';
export { loadJobConfig, type LoadJobOptions } from './config/load';
export { jobSchema, type FinetuneConfig, type JobConfig, type NoiseConfig } from './config/schema';
export { NODE_PATHS } from './config/node-paths';
export { pretrainMnistEncoder, MNIST_ENCODER_DIR, MNIST_ENCODER_TAPS } from '../pipeline/pretrain-mnist-encoder';
export {
  detectArchitecture, describeArchitecture, type DetectedArchitecture, type DetectedStage, type DetectOptions,
} from '../pretrained/detect';
export {
  ENCODERS, ENCODER_NAMES, ENCODER_ALIASES, getEncoderSpec, isEncoderName, compareWithSpec, type EncoderName, type EncoderSpec, type StageSpec,
} from '../pretrained/registry';
export { IMAGENET, type Normalization } from '../pretrained/normalization';
export { resolveTaps, type ResolvedTap, type ResolveTapsOptions } from '../pretrained/taps';
export { autoTaps, type AutoTap } from '../pretrained/auto-taps';
export { DENOISERS_DIR, listDenoiserCards, readCard, resolveModel, type DenoiserCard, type CardScore, type CardReference, type CardRegression } from '../pretrained/shipped';
export { tfjsToOnnx } from '../converters/tfjs-to-onnx';
export {
  onnxToTfjs, registerOnnxLayers, convertToFloat16, quantizeWeightsInt8, quantizeStatic, loadCalibrationFeeds, convertOpset, wrapNhwc, verifyModels,
  verifyModels as verifyParity, convertModelFile, loadTfjsModel, saveTfjsModel, SUPPORTED_ONNX_OPS, SUPPORTED_TFJS_LAYERS,
} from '../converters';
export { combine as combineEncoderDecoder, exportMetadata } from '../pipeline/stages/export';
export { splitDenoiser, type SplitDenoiser } from '../pipeline/finetune/split';
export {
  HeadTrainer, buildHeadData, cutPatches, exportFinetuned, headToTfjs, parseSigma,
  type EncoderCall, type FinetuneRecord, type Head, type HeadData, type HeadTrainOptions, type Patches,
} from '../pipeline/finetune/finetune';
export { finetuneFiles, type FinetuneFilesOptions, type FinetuneFilesResult } from '../pipeline/finetune/run';
export { buildDecoder } from '../pipeline/train/decoder';
export { type TrainSplit, type EpochLog } from '../pipeline/train/loop';
export { trainDecoder } from '../pipeline/train/fit-node';
export { loadModel, saveModel, encodeModel, decodeModel } from './onnx/model-io';
export { modelInfo } from './onnx/info';
export { checkModel, assertModelValid } from './onnx/check';
export { extractSubModel } from './onnx/extract';
export { mergeModels } from './onnx/compose';
export { getMetadata, setMetadata } from './onnx/metadata';
export { GraphBuilder } from './onnx/builder';
export { createSession, DEVICE_TO_EP, type OrtSession, type FloatTensor } from './backends/ort';
export { initTf, TF_BACKENDS, type TfRuntime, type TfBackendName } from './backends/tf';
export { DEVICES, type Device } from './backends/device';
export { mse } from './metrics/mse';
export { psnr } from './metrics/psnr';
export { ssim } from './metrics/ssim';
export { NOISE_MODELS, applyNoise } from './noise';
export { readImage, type DecodedImage } from './images/png';
export { writeImage, OUTPUT_FORMATS } from './images/write';
export { INPUT_EXTENSIONS, SUPPORTED_INPUT_FORMATS } from './images/formats';
export { listPairs, loadPair, type ImagePairFiles } from './data/pairs';
export { openDenoiser, type OnnxDenoiser } from './inference/onnx-denoiser';
export {
  evaluateMethod, evaluatePairs, loadTestImages, loadTestPairs, noisyImage, summaryTable, type EvalRow, type EvalSummary, type EvalPair, type EvalNoise,
} from './eval/evaluate';
export { evaluateBaseline, evaluateBaselineOnPairs } from './eval/baseline-method';
export { BASELINES, gaussianBlur, medianFilter } from './baselines/filters';
export { createRng, forkRng } from './random';
export { setLogLevel, type LogLevel } from './log';
export {
  OnnxtuneError, ConfigError, InputError, UnsupportedOpError, BackendUnavailableError, StageError, ParityError, TrainingError,
} from './errors';
export { ONNXTUNE_VERSION } from './version';
export { buildWebApp, ensureWebBuild, type WebBuild } from './cli/web/build';
export { startWebDemo, exportWebSite, type WebDemo, type WebDemoOptions, type WebExport } from './cli/web/site';
export { openNodeDenoiser, type NodeDenoiser } from './inference/node-denoise';
export { serveStatic, type StaticServer } from './cli/web/server';
export {
  readDenoiserInfo, describeDenoiser, denoiseImage, runTiled, planTiles, type DenoiserInfo, type Planar, type TileOptions,
} from './denoise';
