/**
 * The cut of the encoder for fine-tuning (`encoder.trainable`): the stages to fine-tune are a
 * contiguous run of stage boundaries ending at the deepest tap; the cut is the output of the
 * boundary before them. `prefix.onnx` (image → frozen taps + cut) runs once in featurize;
 * `trainable.onnx` (cut → the taps inside the fine-tuned stages) becomes TF.js layers in train.
 * Boundaries are the detected stages (pretrained/detect.ts), or the taps when none are detected.
 */
import type { FinetuneConfig } from '../../src/config/schema';
import { ConfigError } from '../../src/errors';
import { extractSubModel } from '../../src/onnx/extract';
import type { ModelProto } from '../../src/onnx/proto';
import { detectArchitecture } from '../../pretrained/detect';
import type { ResolvedTap } from '../../pretrained/taps';
import type { CachedTensor, FinetuneIo } from '../artifacts';

/** What {@link planCut} returns: the io.json entry (without the cut's measured shape) and both sub-models. */
export interface CutPlan {
  stages: string[];
  cutTensor: string;
  frozenTaps: number[];
  trainableTaps: number[];
  prefix: ModelProto;
  trainable: ModelProto;
}

/**
 * Splits `model` (the cut encoder, taps as outputs) at the first fine-tuned stage.
 * @param source the original ONNX file's model (stage detection runs on it; tensor names are shared)
 * @throws ConfigError naming `encoder.trainable` when the stages are unknown, not contiguous, do not end at
 *   the deepest tap, start at the first boundary, or the trainable part reads more than the cut.
 */
export function planCut(
  model: ModelProto, source: ModelProto, taps: readonly ResolvedTap[], cfg: FinetuneConfig, opts: { label: string; input: string },
): CutPlan {
  const where = 'encoder.trainable';
  const producer = new Map<string, number>();
  (model.graph?.node ?? []).forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
  const arch = detectArchitecture(source, { input: opts.input });
  const detected = (arch?.stages ?? []).map((s) => ({ name: s.name, tensor: s.tensor }));
  const candidates = detected.length ? detected : taps.map((t) => ({ name: t.requested, tensor: t.tensor }));
  // Only boundaries the cut encoder computes, in graph order, up to the deepest tap.
  const order = (t: string) => producer.get(t) ?? -1;
  const deepest = Math.max(...taps.map((t) => order(t.tensor)));
  const bounds = candidates.filter((b) => order(b.tensor) >= 0 && order(b.tensor) <= deepest).sort((a, b) => order(a.tensor) - order(b.tensor));
  const names = bounds.map((b) => b.name);
  if (!bounds.length || order(bounds[bounds.length - 1].tensor) !== deepest) {
    throw new ConfigError(opts.label, where, `the deepest tap is not a stage boundary (boundaries: ${names.join(', ') || 'none'}); tap a stage output to fine-tune`);
  }
  let first: number;
  if (cfg.last !== undefined) {
    first = bounds.length - cfg.last;
  } else {
    const idx = (cfg.stages ?? []).map((s, i) => {
      const k = names.indexOf(s);
      if (k < 0) throw new ConfigError(opts.label, `${where}.stages[${i}]`, `'${s}' is not a stage up to the deepest tap; stages: ${names.join(', ')}`);
      return k;
    }).sort((a, b) => a - b);
    first = idx[0];
    const wanted = names.slice(first).join(', ');
    if (idx.length !== bounds.length - first || idx.some((k, i) => k !== first + i)) {
      throw new ConfigError(opts.label, `${where}.stages`, `fine-tuned stages must be a contiguous run ending at the deepest tap: use [${wanted}] (stages: ${names.join(', ')})`);
    }
  }
  if (first < 1) {
    throw new ConfigError(
      opts.label, where, `cannot fine-tune from the first stage '${names[0]}': the cut needs a frozen stage before it (stages: ${names.join(', ')}); fine-tune at most ${bounds.length - 1}`,
    );
  }
  const stages = names.slice(first);
  const cutTensor = bounds[first - 1].tensor;
  const cutOrder = order(cutTensor);
  const trainableTaps: number[] = [];
  const frozenTaps: number[] = [];
  taps.forEach((t, k) => (order(t.tensor) > cutOrder ? trainableTaps : frozenTaps).push(k));
  const trainable = extractSubModel(model, [...new Set(trainableTaps.map((k) => taps[k].tensor))], [cutTensor], opts.label);
  const extra = (trainable.graph?.input ?? []).map((i) => i.name as string).filter((n) => n !== cutTensor);
  if (extra.length) {
    throw new ConfigError(opts.label, where, `the stages [${stages.join(', ')}] read ${extra.join(', ')} besides the cut '${cutTensor}'; fine-tune fewer stages`);
  }
  const prefixOutputs = [...new Set([...frozenTaps.map((k) => taps[k].tensor), cutTensor])];
  const prefix = extractSubModel(model, prefixOutputs, [], opts.label);
  return { stages, cutTensor, frozenTaps, trainableTaps, prefix, trainable };
}

/**
 * The io.json entry: what featurize caches is the frozen taps, then the cut (once, when it is also a tap).
 * @param tapInfo every tap's measured channels/stride; `cut` the cut's measured shape
 */
export function finetuneIo(plan: CutPlan, tapInfo: readonly CachedTensor[], cut: CachedTensor): FinetuneIo & { cutIndex: number } {
  const cached = plan.frozenTaps.map((k) => tapInfo[k]);
  let cutIndex = cached.findIndex((c) => c.name === cut.name);
  if (cutIndex < 0) {
    cached.push(cut);
    cutIndex = cached.length - 1;
  }
  return { stages: plan.stages, cut, cached, frozenTaps: plan.frozenTaps, trainableTaps: plan.trainableTaps, cutIndex };
}
