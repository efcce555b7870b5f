/**
 * Static int8 quantization in QDQ form: plan (which convs run on int8), calibrate (activation
 * ranges from running the float model on calibration inputs in onnxruntime-node), rewrite
 * (Q/DQ pairs, int8 per-channel weights, int32 biases). The result keeps the model's inputs,
 * outputs and dynamic sizes, and records how it was calibrated in its metadata.
 */
import type { FloatTensor } from '../../src/backends/ort';
import { getMetadata, setMetadata } from '../../src/onnx/metadata';
import type { ModelProto, onnx } from '../../src/onnx/proto';
import { calibrateRanges } from './calibrate';
import { compareOutputs, type OutputDiff } from './check';
import { foldUpsampleConvs, type FoldedUpsample } from './fold-upsample';
import { addInputResiduals, type InputResidual } from './input-residual';
import { hintConcatLayouts } from './layout-hints';
import { padInputConvs } from './pad-inputs';
import { padOutputConvs, type PaddedConv } from './pad-outputs';
import { planQuantization, type KeepFloatPolicy } from './plan';
import { type CalibrationMethod, type TensorRange } from './ranges';
import { insertQdq, type ActivationParams, type ActivationType } from './rewrite';
import { splitMixedRangeConcats, type ConcatSplit } from './split-concat';
import { materializeConvWeights } from './weights';

export { CALIBRATION_METHODS, chooseRange, entropyThreshold, percentileThreshold, type CalibrationMethod, type TensorRange } from './ranges';
export { KEEP_FLOAT_POLICIES, planQuantization, type KeepFloatPolicy, type PlannedAdd, type PlannedConv, type QuantizationPlan } from './plan';
export { ACTIVATION_TYPES, activationParams, insertQdq, type ActivationType } from './rewrite';
export { calibrateRanges, observeRanges, withExtraOutputs, type ObservedRange } from './calibrate';
export { loadCalibrationFeeds, type CalibrationDataOptions } from './data';
export { materializeConvWeights } from './weights';
export { depthToSpaceSteps, foldUpsampleConvs, upsamplePhaseWeights, type FoldedUpsample } from './fold-upsample';
export { OUTPUT_CHANNEL_BLOCK, padOutputConvs, type PaddedConv } from './pad-outputs';
export { INPUT_CHANNEL_GROUP, padInputConvs } from './pad-inputs';
export { hintConcatLayouts } from './layout-hints';
export { addInputResiduals, residualFactor, MAX_RESIDUAL_FACTOR, type InputResidual } from './input-residual';
export { splitMixedRangeConcats, type ConcatSplit, type SplitConcatOptions } from './split-concat';

/**
 * `foldUpsample: 'auto'` keeps the fold when its int8 error (mean abs vs fp32 on the calibration inputs) is at most
 * this many times the unfolded model's. gray-s25 1.007 (BSD68 σ = 25: −0.004 dB; kept), color-blind 1.27 (CBSD68
 * σ = 25: −0.050 dB; not kept).
 */
export const AUTO_FOLD_MAX_ERROR_GROWTH = 1.05;

/** Metadata key holding the JSON {@link StaticQuantizationReport} summary. */
export const QUANTIZATION_METADATA_KEY = 'onnxtune.quantization';

/** Options of {@link quantizeStatic}. */
export interface StaticQuantizeOptions {
  /**
   * Default 'percentile' (99.999 % of |x|): on gray-s25 and DnCNN it beats min/max by 0.006–0.009 dB on BSD68 σ = 25 and
   * 0.06–0.08 dB on flat drawings; 'entropy' (KL) clips denoiser features too hard (gray-s25: −0.35 dB).
   */
  method?: CalibrationMethod;
  /** For 'percentile' (default 99.999). */
  percentile?: number;
  /** Default 'uint8' (onnxruntime's fast u8×s8 path on x86). */
  activations?: ActivationType;
  /** Default 'none': every Conv with float weights runs on int8 (see plan.ts). */
  keepFloat?: KeepFloatPolicy;
  excludeNodes?: readonly string[];
  /** Int8 Add where both inputs are quantized, with one scale for its inputs and output (default true; see plan.ts). */
  quantizeAdd?: boolean;
  /**
   * With keepFloat 'none': a last Conv with fewer output channels than this gets zero channels up to it and a Slice
   * after (pad-outputs.ts; default 16, onnxruntime's int8 output-channel block; 0 = off).
   */
  padOutputs?: number;
  /**
   * With keepFloat 'none': a Conv reading fewer input channels than this gets zero channels up to it by a float Pad
   * (pad-inputs.ts; default 4, the input-channel group of onnxruntime's int8 kernels; 0 = off).
   */
  padInputs?: number;
  /** uint8 nearest Resize and QLinearConcat between quantized Convs (default true; see plan.ts). */
  quantizeLayout?: boolean;
  /** A Concat's sole-reader inputs quantized onto its output's grid, so QLinearConcat copies them (default true; see plan.ts). */
  shareConcatGrid?: boolean;
  /**
   * Split a Conv over a channel Concat of inputs with very different ranges (ReLU features next to the raw
   * image) into one Conv per range group plus float Adds, so each group gets its own 8-bit scale (default true).
   */
  splitConcat?: boolean;
  /** How (see split-concat.ts): 'scale' (default) or 'split'. */
  splitConcatMode?: 'scale' | 'split';
  /**
   * Fold a nearest ×2 Resize that a Concat feeds into a 3×3 Conv into that Conv: a phase Conv at low resolution,
   * DepthToSpace (as NHWC Transpose/Reshape steps) and an int8 Add (fold-upsample.ts; exact in float, no upsampled
   * tensor). gray-s25 int8 ~15 % faster at 1 and 2 threads, but the Add's one shared scale can coarsen the Conv's output:
   * color-blind loses 0.05 dB more on int8. Default 'auto': quantize both ways and keep the fold only when its fp32 →
   * int8 mean abs difference on the calibration inputs is at most {@link AUTO_FOLD_MAX_ERROR_GROWTH} × the unfolded
   * one's (twice the calibration time for models it applies to); true / false force it.
   */
  foldUpsample?: boolean | 'auto';
  /**
   * A zero-padded 1-channel input (the image) gets its rounding error, scaled up, in the first padding channel, and the
   * Convs reading it the image weights ÷ that factor: the image reaches them with up to 4 more bits (input-residual.ts;
   * default true).
   */
  inputResidual?: boolean;
  /**
   * A Transpose → Reshape → Transpose no-op on the 8-bit side of a Concat input that is not a Conv output, so that
   * onnxruntime runs that QLinearConcat in NHWC between its NHWC int8 Convs (layout-hints.ts; default true).
   */
  layoutHints?: boolean;
  /** What the calibration inputs were, written to the metadata (e.g. `{ source: 'train400', count: 16, sigma: 25 }`). */
  calibration?: Record<string, unknown>;
  threads?: number;
}

/** What {@link quantizeStatic} did. */
export interface StaticQuantizationReport {
  scheme: 'qdq-static';
  weights: 'int8 symmetric per output channel';
  activations: ActivationType;
  method: CalibrationMethod;
  percentile?: number;
  calibration: Record<string, unknown>;
  /** Conv weights/biases read from Cast (float16 storage), Constant or other constant chains, made float initializers first. */
  materializedWeights: number;
  /** Convs whose nearest ×2 upsampled input was folded into them (see `foldUpsample`). */
  foldedUpsamples: FoldedUpsample[];
  /** With `foldUpsample: 'auto'` and something to fold: both int8 errors (mean abs vs fp32 on the calibration inputs) and the choice. */
  foldDecision?: { foldedMeanAbs: number; unfoldedMeanAbs: number; folded: boolean };
  /** fp32 → int8 difference of the returned model on the calibration inputs, where quantizeStatic measured it (the 'auto' fold choice). */
  calibrationDiff?: OutputDiff;
  /** Convs split over their mixed-range Concat inputs (see `splitConcat`). */
  splitConvs: ConcatSplit[];
  /** Last Convs given zero output channels up to onnxruntime's int8 block (see `padOutputs`). */
  paddedConvs: PaddedConv[];
  /** Convs given zero input channels up to onnxruntime's int8 input group (see `padInputs`). */
  paddedInputs: PaddedConv[];
  /** Convs running on int8 (with a Relu folded in when `fusedRelu`). */
  quantized: Array<{ node: string; fusedRelu: boolean }>;
  /** Adds running on int8 (QLinearAdd). */
  adds: Array<{ node: string; fusedRelu: boolean }>;
  /** Concats reading 8-bit inputs (QLinearConcat), and Resize outputs kept on their input's 8-bit grid. */
  concats: string[];
  resizes: string[];
  /** Tensors that DepthToSpace, Transpose or Reshape steps (`foldUpsample`'s) move on their input's 8-bit grid. */
  moved: string[];
  /** Zero-padded 1-channel inputs given their rounding error in a padding channel (see `inputResidual`). */
  inputResiduals: InputResidual[];
  /** 8-bit Concat inputs given the NHWC layout hint (see `layoutHints`). */
  layoutHints: string[];
  /** Activations quantized onto their Concat output's grid (QLinearConcat copies them; see plan.ts `concatGrid`). */
  concatGrid: string[];
  keptFloat: Array<{ node: string; reason: string }>;
  /** Per activation: calibrated range and the 8-bit scale / zero point. */
  tensors: Array<{ name: string; range: TensorRange } & ActivationParams>;
}

/**
 * Quantizes `model` statically (see the module comment).
 * @param feeds calibration inputs, each a full feed of the model's inputs.
 * @throws InputError when nothing can be quantized, the opset is below 13, or `feeds` is empty.
 */
export async function quantizeStatic(
  model: ModelProto,
  feeds: readonly Record<string, FloatTensor>[],
  opts: StaticQuantizeOptions = {},
): Promise<{ model: onnx.ModelProto; report: StaticQuantizationReport }> {
  // float16 weight storage (shipped denoisers) and Constant-node weights: plain float initializers first.
  const { model: materializedModel, materialized } = materializeConvWeights(model);
  const fold = opts.foldUpsample ?? 'auto';
  const { model: prepared, folded } = fold !== false ? await foldUpsampleConvs(materializedModel, feeds, { threads: opts.threads, excludeNodes: opts.excludeNodes }) : { model: materializedModel, folded: [] };
  const result = await quantizePrepared(prepared, folded, materialized, feeds, opts);
  if (fold !== 'auto' || !folded.length) return result;
  const plain = await quantizePrepared(materializedModel, [], materialized, feeds, opts);
  // The fold's own cost, measured without the input residual (which both variants get): that pass shrinks the rest of
  // the error, so the ratio would grow although the fold costs no more than before (gray-s25: 1.007 without, 1.30 with).
  const [withFold, without] = [await compareOutputs(model, result.unrefined, feeds), await compareOutputs(model, plain.unrefined, feeds)];
  const keep = withFold.meanAbs <= AUTO_FOLD_MAX_ERROR_GROWTH * without.meanAbs;
  const chosen = keep ? result : plain;
  chosen.report.foldDecision = { foldedMeanAbs: withFold.meanAbs, unfoldedMeanAbs: without.meanAbs, folded: keep };
  chosen.report.calibrationDiff = chosen.report.inputResiduals.length ? await compareOutputs(model, chosen.model, feeds) : keep ? withFold : without;
  const meta = JSON.parse(getMetadata(chosen.model)[QUANTIZATION_METADATA_KEY] ?? '{}') as Record<string, unknown>;
  setMetadata(chosen.model, { [QUANTIZATION_METADATA_KEY]: JSON.stringify({ ...meta, foldDecision: chosen.report.foldDecision }) });
  return chosen;
}

/** The passes after weight materialization and the optional fold, calibration and Q/DQ insertion (see quantizeStatic). */
async function quantizePrepared(
  prepared: onnx.ModelProto,
  folded: FoldedUpsample[],
  materialized: number,
  feeds: readonly Record<string, FloatTensor>[],
  opts: StaticQuantizeOptions,
): Promise<{ model: onnx.ModelProto; report: StaticQuantizationReport; unrefined: onnx.ModelProto }> {
  const method = opts.method ?? 'percentile';
  const activations = opts.activations ?? 'uint8';
  const { model: split, splits } = opts.splitConcat === false ? { model: prepared, splits: [] } : await splitMixedRangeConcats(prepared, feeds, { threads: opts.threads, mode: opts.splitConcatMode });
  const keepFloat = opts.keepFloat ?? 'none';
  const { model: padded, padded: paddedConvs } = keepFloat === 'none' ? padOutputConvs(split, { block: opts.padOutputs, excludeNodes: opts.excludeNodes }) : { model: split, padded: [] };
  const { model: widened, padded: paddedInputs } = keepFloat === 'none' ? padInputConvs(padded, { group: opts.padInputs, excludeNodes: opts.excludeNodes }) : { model: padded, padded: [] };
  const model: ModelProto = widened;
  const plan = planQuantization(model, { keepFloat, excludeNodes: opts.excludeNodes, quantizeAdd: opts.quantizeAdd ?? true, quantizeLayout: opts.quantizeLayout, shareConcatGrid: opts.shareConcatGrid });
  const ranges = await calibrateRanges(model, plan.activations, feeds, { method, percentile: opts.percentile, threads: opts.threads });
  const { model: qdq, params } = insertQdq(model, plan, ranges, activations);
  const { model: refined, residuals } = opts.inputResidual === false ? { model: qdq, residuals: [] } : addInputResiduals(qdq, new Map([...ranges].map(([name, r]) => [name, r.channels])), params);
  const { model: out, hinted } = opts.layoutHints === false ? { model: refined, hinted: [] } : hintConcatLayouts(refined);
  const producers = new Map((model.graph?.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n.opType] as const)));
  const tiedBy = (op: string) => Object.keys(plan.tied).filter((t) => producers.get(t) === op);
  const report: StaticQuantizationReport = {
    scheme: 'qdq-static',
    weights: 'int8 symmetric per output channel',
    activations,
    method,
    ...(method === 'percentile' ? { percentile: opts.percentile ?? 99.999 } : {}),
    calibration: { inputs: feeds.length, ...opts.calibration },
    materializedWeights: materialized,
    foldedUpsamples: folded,
    splitConvs: splits,
    paddedConvs,
    paddedInputs,
    quantized: plan.convs.map((c) => ({ node: c.node, fusedRelu: c.fusedRelu })),
    adds: plan.adds.map((a) => ({ node: a.node, fusedRelu: a.fusedRelu })),
    concats: plan.concats,
    resizes: tiedBy('Resize'),
    moved: ['DepthToSpace', 'Transpose', 'Reshape'].flatMap(tiedBy),
    concatGrid: Object.keys(plan.concatGrid),
    inputResiduals: residuals,
    layoutHints: hinted,
    keptFloat: plan.keptFloat,
    tensors: plan.activations.map((name) => ({ name, range: ranges.get(name) as TensorRange, ...(params.get(name) as ActivationParams) })),
  };
  const { tensors: _tensors, ...summary } = report;
  setMetadata(out, { [QUANTIZATION_METADATA_KEY]: JSON.stringify({ ...summary, quantized: report.quantized.length, adds: report.adds.length, concats: plan.concats.length, resizes: report.resizes.length, moved: report.moved.length, concatGrid: report.concatGrid.length, layoutHints: hinted.length, inputResiduals: residuals.length, foldedUpsamples: folded.length, splitConvs: splits.length, paddedConvs: paddedConvs.length, paddedInputs: paddedInputs.length }) });
  return { model: out, report, unrefined: qdq };
}
export { compareOutputs, optimizedOpCounts, type OutputDiff } from './check';
