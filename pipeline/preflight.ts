/**
 * Checks made before any stage runs, so a bad job fails in a second with a one-line message
 * (exit code 2) instead of after the data stage: the encoder file parses as ONNX, passes the
 * structural check, onnxruntime can load it, every tap names a detected stage
 * (layer2, block3_pool…) or a tensor, and `encoder.trainable` names a valid cut.
 */
import type { JobConfig } from '../src/config/schema';
import { ConfigError } from '../src/errors';
import { createSession } from '../src/backends/ort';
import { encodeModel, loadModel } from '../src/onnx/model-io';
import { assertModelValid } from '../src/onnx/check';
import { detectArchitecture, imageInput } from '../pretrained/detect';
import { planCut } from './stages/encoder-cut';
import { compareWithSpec, getEncoderSpec } from '../pretrained/registry';
import { resolveTaps } from '../pretrained/taps';

/** Names of every tensor an encoder graph computes or takes as input. */
export function producedTensors(model: ReturnType<typeof loadModel>): string[] {
  const g = model.graph;
  const names = new Set<string>();
  for (const i of g?.input ?? []) if (i.name) names.add(i.name);
  for (const n of g?.node ?? []) for (const o of n.output ?? []) if (o) names.add(o);
  return [...names];
}

export async function preflight(job: JobConfig): Promise<void> {
  const model = loadModel(job.encoder.onnx);
  assertModelValid(model, job.encoder.onnx);
  const taps = await resolveTaps(model, job.encoder.taps, { label: job.encoder.onnx, input: job.encoder.input });
  // Fine-tuned stages must be a contiguous run ending at the deepest tap, after a frozen one (encoder-cut.ts).
  if (job.encoder.trainable) planCut(model, model, taps, job.encoder.trainable, { label: job.encoder.onnx, input: job.encoder.input ?? imageInput(model) ?? '' });
  // onnxruntime is the judge of what it can run (unknown ops, bad attributes): ask it now, on the CPU EP.
  const session = await createSession(encodeModel(model), { device: 'cpu', label: job.encoder.onnx });
  await session.release();
  if (job.encoder.registry) {
    const spec = getEncoderSpec(job.encoder.registry, { file: job.encoder.onnx, path: 'encoder.registry' });
    const problems = compareWithSpec(spec, detectArchitecture(model, { input: job.encoder.input }));
    if (problems.length) {
      throw new ConfigError(job.encoder.onnx, 'encoder.registry', `the file does not look like ${spec.name}: ${problems.join('; ')}`);
    }
  }
  const inputs = (model.graph?.input ?? []).map((x) => x.name as string);
  const initializers = new Set((model.graph?.initializer ?? []).map((x) => x.name));
  const realInputs = inputs.filter((n) => !initializers.has(n));
  if (job.encoder.input ? !realInputs.includes(job.encoder.input) : realInputs.length !== 1) {
    throw new ConfigError(
      job.encoder.onnx,
      'encoder.input',
      job.encoder.input
        ? `'${job.encoder.input}' is not an input of the encoder (inputs: ${realInputs.join(', ')})`
        : `the encoder has ${realInputs.length} inputs (${realInputs.join(', ')}); name the image input with encoder.input`,
    );
  }
}
