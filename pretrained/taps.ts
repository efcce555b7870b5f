/**
 * Resolving encoder taps: a tap is either a stage name from graph detection (`layer2`,
 * `block3_pool`, `stem`) or the name of a tensor the graph computes, or the whole list is `auto`
 * (auto-taps.ts). Unknown names fail before any work with a ConfigError that lists the detected
 * stages and suggests the closest name.
 */
import { ConfigError } from '../src/errors';
import type { ModelProto } from '../src/onnx/proto';
import { suggestClosest } from '../src/text';
import { autoTaps } from './auto-taps';
import { detectArchitecture, type DetectedArchitecture, type DetectedStage } from './detect';

/** One resolved tap. */
export interface ResolvedTap {
  /** What the job asked for. */
  requested: string;
  /** The graph tensor to cut at. */
  tensor: string;
  /** The detected stage, when `requested` named one (channels and stride come with it). */
  stage?: DetectedStage;
}

/** Options for {@link resolveTaps}. */
export interface ResolveTapsOptions {
  /** File name for error messages (default 'model'). */
  label?: string;
  /** YAML path of the tap list for error messages (default 'encoder.taps'). */
  path?: string;
  /** A detection already made for this model (null: none found), to avoid detecting twice. */
  architecture?: DetectedArchitecture | null;
  /** The image input, when the graph has several (default: the first non-initializer input). */
  input?: string;
}

/**
 * `taps: auto`: the last main-path tensor at each stride. Each tap's stage is the detected stage on
 * that tensor when there is one, else `auto/<stride>`.
 * @throws ConfigError when the graph has no convolutional feature map on its main path.
 */
function resolveAuto(model: ModelProto, arch: DetectedArchitecture | undefined, opts: ResolveTapsOptions): ResolvedTap[] {
  const taps = autoTaps(model, { input: opts.input });
  if (!taps.length) {
    throw new ConfigError(
      opts.label ?? 'model',
      opts.path ?? 'encoder.taps',
      "'auto' found no convolutional feature map on the graph's main path; list the taps by tensor name " +
        `('onnxtune inspect ${opts.label ?? '<model.onnx>'} --tensors')`,
    );
  }
  const byTensor = new Map((arch?.stages ?? []).map((s) => [s.tensor, s] as const));
  return taps.map((t) => ({
    requested: 'auto',
    tensor: t.tensor,
    stage: byTensor.get(t.tensor) ?? { name: `auto/${t.stride}`, tensor: t.tensor, channels: t.channels, stride: t.stride },
  }));
}

/** Tensors a tap may name: graph inputs (not initializers) and node outputs. */
function graphTensors(model: ModelProto): string[] {
  const g = model.graph;
  const inits = new Set((g?.initializer ?? []).map((t) => t.name));
  const names = new Set<string>();
  for (const i of g?.input ?? []) if (i.name && !inits.has(i.name)) names.add(i.name);
  for (const n of g?.node ?? []) for (const o of n.output ?? []) if (o) names.add(o);
  return [...names];
}

/**
 * Maps each tap to a graph tensor. An exact tensor name wins over a stage name of the same
 * spelling (it is the more explicit of the two); otherwise stage names come from
 * {@link detectArchitecture}; `'auto'` picks the last main-path tensor at each stride ({@link autoTaps}).
 * @throws ConfigError naming `path[i]`, the detected stages and the closest valid name, for an unknown tap.
 */
export async function resolveTaps(
  model: ModelProto, taps: readonly string[] | 'auto', opts: ResolveTapsOptions = {},
): Promise<ResolvedTap[]> {
  const tensors = graphTensors(model);
  const tensorSet = new Set(tensors);
  const arch = opts.architecture === undefined ? detectArchitecture(model, { input: opts.input }) : opts.architecture ?? undefined;
  if (taps === 'auto') return resolveAuto(model, arch, opts);
  const stages = new Map((arch?.stages ?? []).map((s) => [s.name, s] as const));
  return taps.map((tap, i) => {
    if (tensorSet.has(tap)) return { requested: tap, tensor: tap };
    const stage = stages.get(tap);
    if (stage) return { requested: tap, tensor: stage.tensor, stage };
    const hint = suggestClosest(tap, [...stages.keys()]) ?? suggestClosest(tap, tensors);
    const known = arch
      ? `the detected ${arch.variant} has stages ${[...stages.keys()].join(', ')}`
      : "no named stages were detected in this graph, so taps must be tensor names or 'auto'";
    throw new ConfigError(
      opts.label ?? 'model',
      `${opts.path ?? 'encoder.taps'}[${i}]`,
      `'${tap}' is neither a stage nor a tensor of the model` + (hint ? `; did you mean '${hint}'?` : '') +
        ` (${known}; list tensors with 'onnxtune inspect ${opts.label ?? '<model.onnx>'} --tensors')`,
    );
  });
}
