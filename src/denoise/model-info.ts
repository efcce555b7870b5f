/**
 * What a denoiser model declares about itself, read from its `onnxtune.*` metadata_props (see
 * pipeline/stages/export.ts exportMetadata) and its graph input: layout, channels, value range,
 * input dtype, training noise, job and version. The page and the CLI both pre/post-process from
 * this one description. Models without onnxtune metadata are accepted when their input says
 * enough (rank 4 NCHW, 1 or 3 channels), with a warning per assumption.
 */
import { ModelFormatError, readOnnxSummary, type OnnxModelSummary, type OnnxValueInfo } from '../onnx/reader';

/** Input/output element types the page and CLI can feed and read. */
export const MODEL_DTYPES = Object.freeze(['float32', 'float16'] as const);
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** The training noise recorded in `onnxtune.noise` (a job's `data.noise` block). */
export interface NoiseSpec {
  type: string;
  sigma?: number | [number, number];
  clip?: boolean;
  [key: string]: unknown;
}

/** A denoiser as the page and the CLI use it. */
export interface DenoiserInfo {
  /** True when the model carries onnxtune metadata (`onnxtune.task` = denoise). */
  isOnnxtune: boolean;
  input: { name: string; type: ModelDtype; dims: Array<number | string | null> };
  output: { name: string; type: ModelDtype };
  layout: 'NCHW';
  channels: 1 | 3;
  /** The model's pixel range: [0,1] images are mapped to [lo, hi] before and back after. */
  valueRange: [number, number];
  /** Fixed spatial size when the input declares numeric H and W; null for any size. */
  fixedSize: [number, number] | null;
  /** Image sides the model pads to internally (onnxtune.stride_multiple); 1 if unknown. */
  strideMultiple: number;
  noise: NoiseSpec | null;
  job: string | null;
  jobSha256: string | null;
  version: string | null;
  decoderOutput: string | null;
  encoder: string | null;
  opsets: Array<{ domain: string; version: number }>;
  /** Every metadata_prop, as written. */
  metadata: Record<string, string>;
  /** Assumptions made for missing or unreadable metadata, one sentence each. */
  warnings: string[];
}

const isDtype = (t: string): t is ModelDtype => (MODEL_DTYPES as readonly string[]).includes(t);

/**
 * Parses `onnxtune.value_range` ('[0,1]', '[0, 255]', '[-1,1]').
 * @returns [lo, hi] or undefined when it is not two finite numbers with lo < hi
 */
export function parseValueRange(text: string): [number, number] | undefined {
  const m = /^\s*\[\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*,\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*\]\s*$/i.exec(text);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return Number.isFinite(lo) && Number.isFinite(hi) && lo < hi ? [lo, hi] : undefined;
}

function pickInput(summary: OnnxModelSummary, wanted: string | undefined): OnnxValueInfo {
  if (wanted) {
    const found = summary.inputs.find((i) => i.name === wanted);
    if (!found) {
      throw new ModelFormatError(`metadata names input '${wanted}' but the graph's inputs are ${summary.inputs.map((i) => i.name).join(', ') || 'none'}`);
    }
    if (summary.inputs.length > 1) {
      throw new ModelFormatError(`the model takes ${summary.inputs.length} inputs (${summary.inputs.map((i) => i.name).join(', ')}); a denoiser takes one image`);
    }
    return found;
  }
  if (summary.inputs.length !== 1) {
    throw new ModelFormatError(`the model takes ${summary.inputs.length} inputs (${summary.inputs.map((i) => i.name).join(', ') || 'none'}); a denoiser takes one image`);
  }
  return summary.inputs[0];
}

/**
 * Describes a model summary as a denoiser.
 * @throws ModelFormatError when the model cannot be run as an image denoiser (input count, dtype, layout, channels)
 */
export function describeDenoiser(summary: OnnxModelSummary): DenoiserInfo {
  const meta = summary.metadata;
  const warnings: string[] = [];
  const isOnnxtune = meta['onnxtune.task'] === 'denoise';
  if (!isOnnxtune) warnings.push('no onnxtune metadata: layout NCHW and value range [0,1] are assumed');

  const input = pickInput(summary, meta['onnxtune.input']);
  const outName = meta['onnxtune.output'] ?? summary.outputs[0]?.name;
  const output = summary.outputs.find((o) => o.name === outName);
  if (!output) throw new ModelFormatError(`output '${outName ?? '?'}' is not a graph output`);
  if (!isDtype(input.type)) throw new ModelFormatError(`input '${input.name}' is ${input.type}; only float32 and float16 inputs are supported`);
  if (!isDtype(output.type)) throw new ModelFormatError(`output '${output.name}' is ${output.type}; only float32 and float16 outputs are supported`);

  const layout = meta['onnxtune.layout'] ?? 'NCHW';
  if (layout !== 'NCHW') throw new ModelFormatError(`layout '${layout}' is not supported (NCHW expected)`);
  const dims = input.dims ?? ['N', null, 'H', 'W'];
  if (!input.dims) warnings.push(`input '${input.name}' declares no shape: [N,C,H,W] is assumed`);
  if (dims.length !== 4) throw new ModelFormatError(`input '${input.name}' has rank ${dims.length}; an NCHW image input has rank 4`);

  const declared = meta['onnxtune.channels'] !== undefined ? Number(meta['onnxtune.channels']) : undefined;
  const fromShape = typeof dims[1] === 'number' ? dims[1] : undefined;
  if (declared !== undefined && fromShape !== undefined && declared !== fromShape) {
    throw new ModelFormatError(`metadata says ${declared} channels but input '${input.name}' has ${fromShape}`);
  }
  const channels = declared ?? fromShape;
  if (channels !== 1 && channels !== 3) {
    throw new ModelFormatError(`channels ${channels ?? 'unknown'}: only 1 (gray) and 3 (RGB) channel models are supported`);
  }

  let valueRange: [number, number] = [0, 1];
  if (meta['onnxtune.value_range'] !== undefined) {
    const parsed = parseValueRange(meta['onnxtune.value_range']);
    if (parsed) valueRange = parsed;
    else warnings.push(`onnxtune.value_range '${meta['onnxtune.value_range']}' is unreadable: [0,1] is assumed`);
  }

  let noise: NoiseSpec | null = null;
  if (meta['onnxtune.noise'] !== undefined) {
    try {
      const parsed = JSON.parse(meta['onnxtune.noise']) as unknown;
      if (parsed && typeof parsed === 'object' && typeof (parsed as NoiseSpec).type === 'string') noise = parsed as NoiseSpec;
      else warnings.push('onnxtune.noise is not a noise block');
    } catch {
      warnings.push('onnxtune.noise is not JSON');
    }
  }

  const fixedSize: [number, number] | null = typeof dims[2] === 'number' && typeof dims[3] === 'number' ? [dims[2], dims[3]] : null;
  const stride = Number(meta['onnxtune.stride_multiple'] ?? '1');
  return {
    isOnnxtune,
    input: { name: input.name, type: input.type, dims },
    output: { name: output.name, type: output.type },
    layout: 'NCHW',
    channels,
    valueRange,
    fixedSize,
    strideMultiple: Number.isInteger(stride) && stride > 0 ? stride : 1,
    noise,
    job: meta['onnxtune.job'] ?? null,
    jobSha256: meta['onnxtune.job_sha256'] ?? null,
    version: meta['onnxtune.version'] ?? null,
    decoderOutput: meta['onnxtune.decoder_output'] ?? null,
    encoder: meta['onnxtune.encoder.source'] ?? null,
    opsets: summary.opsets,
    metadata: { ...meta },
    warnings,
  };
}

/**
 * Reads and describes a denoiser from its file bytes.
 * @throws ModelFormatError when the bytes are not an ONNX model or not a runnable denoiser
 */
export function readDenoiserInfo(bytes: Uint8Array): DenoiserInfo {
  return describeDenoiser(readOnnxSummary(bytes));
}

/** One-line text of a noise block, e.g. `gaussian σ=127.5 (clipped)`. */
export function formatNoise(noise: NoiseSpec | null): string {
  if (!noise) return 'not recorded';
  const parts: string[] = [noise.type];
  if (typeof noise.sigma === 'number') parts.push(`σ=${noise.sigma}`);
  else if (Array.isArray(noise.sigma)) parts.push(`σ∈[${noise.sigma[0]}, ${noise.sigma[1]}] (blind)`);
  for (const [k, v] of Object.entries(noise)) {
    if (['type', 'sigma', 'clip', 'realizations'].includes(k)) continue;
    parts.push(`${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  if (noise.clip) parts.push('(clipped)');
  return parts.join(' ');
}

/** The σ (0–255 scale) the page offers by default: the training σ of a Gaussian model, else 25. */
export function defaultSigma(info: DenoiserInfo): number {
  const sigma = info.noise?.type === 'gaussian' ? info.noise.sigma : undefined;
  if (typeof sigma === 'number') return sigma;
  return Array.isArray(sigma) ? Math.round((sigma[0] + sigma[1]) / 2) : 25;
}

/** The rows the page and `onnxtune web`/`export --target web` show for a model. */
export function metadataRows(info: DenoiserInfo): Array<[string, string]> {
  const dims = `[${info.input.dims.map((d) => d ?? '?').join(', ')}]`;
  return [
    ['input', `${info.input.name} ${info.input.type} ${dims}`],
    ['output', `${info.output.name} ${info.output.type}`],
    ['layout', info.layout],
    ['channels', info.channels === 1 ? '1 (gray)' : '3 (RGB)'],
    ['value range', `[${info.valueRange[0]}, ${info.valueRange[1]}]`],
    ['size', info.fixedSize ? `fixed ${info.fixedSize[0]}×${info.fixedSize[1]}` : info.strideMultiple > 1 ? `any (padded to multiples of ${info.strideMultiple} inside)` : 'any'],
    ['training noise', formatNoise(info.noise)],
    ['training job', info.job ? `${info.job}${info.jobSha256 ? ` (${info.jobSha256})` : ''}` : 'not recorded'],
    ['onnxtune version', info.version ?? 'not recorded'],
    ['encoder', info.encoder ?? 'not recorded'],
    ['opset', info.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')],
  ];
}
