/**
 * Stage `encoder`: imports the ONNX encoder, cuts it at the requested taps (dead nodes and
 * unused weights pruned), puts channel adaptation (gray → RGB) and input normalization in
 * front of it as ONNX nodes, and measures each tap's channels and stride on the dataset's
 * image size by one onnxruntime run. Writes `encoder.onnx` and `io.json`; with `encoder.trainable`
 * also `prefix.onnx` and `trainable.onnx`, the two sides of the cut (encoder-cut.ts).
 */
import * as path from 'node:path';
import { createSession } from '../../src/backends/ort';
import { initTf } from '../../src/backends/tf';
import type { JobConfig } from '../../src/config/schema';
import { ConfigError } from '../../src/errors';
import { writeJsonAtomic } from '../../src/io/atomic';
import { sha256File } from '../../src/io/hash';
import { log } from '../../src/log';
import { GraphBuilder } from '../../src/onnx/builder';
import { assertModelValid } from '../../src/onnx/check';
import { mergeModels } from '../../src/onnx/compose';
import { extractSubModel } from '../../src/onnx/extract';
import { modelInfo } from '../../src/onnx/info';
import { encodeModel, loadModel, saveModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { getEncoderSpec } from '../../pretrained/registry';
import { resolveTaps } from '../../pretrained/taps';
import { encoderModelFile, prefixModelFile, readManifest, trainableModelFile, type EncoderIo } from '../artifacts';
import { defineStage } from '../define-stage';
import { buildEncoderLayers } from '../train/encoder-layers';
import { finetuneIo, planCut } from './encoder-cut';

/** The tensor name of the image input of every encoder this stage writes. */
export const ENCODER_IMAGE_INPUT = 'image';

function encoderInputName(model: ModelProto, job: JobConfig): string {
  if (job.encoder.input) return job.encoder.input;
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  return (model.graph?.input ?? []).map((i) => i.name as string).find((n) => !inits.has(n)) as string;
}

/** Channels the encoder's input declares (undefined when symbolic). */
function declaredChannels(model: ModelProto, input: string): number | undefined {
  const info = modelInfo(model).inputs.find((i) => i.name === input);
  const c = info?.dims[1];
  return typeof c === 'number' && c > 0 ? c : undefined;
}

/**
 * Builds `image → [channel repeat] → [(x − mean) / std] → encoder input` as a model to merge
 * in front of the encoder, or undefined when the encoder takes the image as it is.
 */
function preprocessModel(job: JobConfig, dataChannels: number, encChannels: number, opset: number): ModelProto | undefined {
  const norm = job.encoder.normalization ?? (job.encoder.registry ? getEncoderSpec(job.encoder.registry).normalization : undefined);
  const repeat = encChannels !== dataChannels;
  if (!norm && !repeat) return undefined;
  if (repeat && !(dataChannels === 1 && encChannels === 3)) {
    throw new ConfigError(job.encoder.onnx, 'encoder', `the encoder takes ${encChannels} channels but the data has ${dataChannels}`);
  }
  const b = new GraphBuilder();
  b.addInput(ENCODER_IMAGE_INPUT, ['batch', dataChannels, 'height', 'width']);
  let x = ENCODER_IMAGE_INPUT;
  if (repeat) {
    b.addNode('Concat', [x, x, x], ['pre_rgb'], { axis: 1 });
    x = 'pre_rgb';
  }
  if (norm) {
    const c = encChannels;
    const expand = (v: readonly number[], what: string) => {
      if (v.length !== 1 && v.length !== c) {
        throw new ConfigError(job.encoder.onnx, `encoder.normalization.${what}`, `expected 1 or ${c} values, got ${v.length}`);
      }
      return Float32Array.from({ length: c }, (_, i) => v[v.length === 1 ? 0 : i]);
    };
    b.addInitializer('pre_mean', [1, c, 1, 1], expand(norm.mean, 'mean'));
    b.addInitializer('pre_std', [1, c, 1, 1], expand(norm.std, 'std'));
    b.addNode('Sub', [x, 'pre_mean'], ['pre_centered']);
    b.addNode('Div', ['pre_centered', 'pre_std'], ['pre_out']);
    x = 'pre_out';
  }
  b.addOutput(x, ['batch', encChannels, 'height', 'width']);
  return b.toModel({ opset });
}

export const encoderStage = defineStage({
  name: 'encoder',
  version: 1,
  description: 'import the ONNX encoder, cut at the taps, add preprocessing',
  inputs: ['data'],
  configSlice: (job) => ({
    taps: job.encoder.taps, input: job.encoder.input, normalization: job.encoder.normalization, registry: job.encoder.registry,
    // Only the cut changes this stage's output (not at_epoch / lr_multiplier); absent, old keys stay valid.
    ...(job.encoder.trainable ? { trainable: { stages: job.encoder.trainable.stages, last: job.encoder.trainable.last } } : {}),
  }),
  externalKey: (job) => ({ encoder: sha256File(job.encoder.onnx) }),
  async run(ctx) {
    const { job } = ctx;
    const manifest = readManifest(ctx.inputs.data as string);
    const source = loadModel(job.encoder.onnx);
    const input = encoderInputName(source, job);
    const encChannels = declaredChannels(source, input) ?? manifest.channels;
    const resolved = await resolveTaps(source, job.encoder.taps, { label: job.encoder.onnx, input });
    const tensors = resolved.map((r) => r.tensor);
    let model = extractSubModel(source, tensors, [input]);
    const opset = modelInfo(model).opsets.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 17;
    const pre = preprocessModel(job, manifest.channels, encChannels, opset);
    let imageInput = input;
    if (pre) {
      model = mergeModels(pre, model, {
        connect: [[(pre.graph?.output?.[0]?.name as string), input]],
        outputs: tensors,
        prefixA: '',
        prefixB: '',
      });
      imageInput = ENCODER_IMAGE_INPUT;
    }
    assertModelValid(model, 'encoder.onnx');
    const file = encoderModelFile(ctx.outDir);
    saveModel(model, file);

    // One run on a zero image of the training size gives every tap's shape, hence its stride.
    const train = manifest.splits.train[0];
    const { height: H, width: W } = train;
    const C = manifest.channels;
    const session = await createSession(encodeModel(model), { device: job.device, label: job.encoder.onnx });
    const out = await session.run({ [imageInput]: { data: new Float32Array(C * H * W), dims: [1, C, H, W] } });
    await session.release();
    const taps = tensors.map((name, i) => {
      const dims = out[name].dims;
      if (dims.length !== 4) {
        throw new ConfigError(job.encoder.onnx, `encoder.taps[${i}]`, `tap '${name}' has shape [${dims}]; expected a 4-D NCHW feature map`);
      }
      const [, ch, h, w] = dims;
      const stride = H / h;
      if (!Number.isInteger(stride) || W / w !== stride) {
        throw new ConfigError(
          job.encoder.onnx,
          `encoder.taps[${i}]`,
          `tap '${name}' is ${h}×${w} for a ${H}×${W} training image: not an integer stride; make the training size a multiple of the encoder's total stride`,
        );
      }
      return { name, stage: resolved[i].stage?.name, channels: ch, stride };
    });
    const strideMultiple = Math.max(1, ...taps.map((t) => t.stride));
    const io: EncoderIo = {
      input: imageInput,
      channels: C,
      taps,
      strideMultiple,
      source: { file: job.encoder.onnx, sha256: sha256File(job.encoder.onnx) },
    };
    if (job.encoder.trainable) {
      const plan = planCut(model, source, resolved, job.encoder.trainable, { label: job.encoder.onnx, input });
      const prefixSession = await createSession(encodeModel(plan.prefix), { device: job.device, label: 'prefix.onnx' });
      const cutOut = await prefixSession.run({ [imageInput]: { data: new Float32Array(C * H * W), dims: [1, C, H, W] } }, [plan.cutTensor]);
      await prefixSession.release();
      const [, cutChannels, cutH] = cutOut[plan.cutTensor].dims;
      io.finetune = finetuneIo(plan, taps, { name: plan.cutTensor, channels: cutChannels, stride: H / cutH });
      // Converted now, not after featurize: an op the ONNX → tfjs converter lacks fails in seconds.
      const { tf } = await initTf({ device: job.device });
      buildEncoderLayers(tf, plan.trainable, io.finetune).model.dispose();
      saveModel(plan.prefix, prefixModelFile(ctx.outDir));
      saveModel(plan.trainable, trainableModelFile(ctx.outDir));
      log.info(
        `Fine-tuning encoder stages ${plan.stages.join(', ')}: frozen prefix up to '${plan.cutTensor}' (${cutChannels}ch /${H / cutH}) runs once in featurize; ` +
          `taps ${plan.trainableTaps.map((k) => taps[k].stage ?? taps[k].name).join(', ')} come from the TF.js layers`,
      );
    }
    writeJsonAtomic(path.join(ctx.outDir, 'io.json'), io);
    log.info(`Encoder ${path.basename(job.encoder.onnx)}: taps ${taps.map((t) => `${t.stage ? t.stage + ' = ' : ''}${t.name} ${t.channels}ch /${t.stride}`).join(', ')}`);
    return { taps, nodes: model.graph?.node?.length ?? 0, preprocessing: Boolean(pre), finetune: io.finetune ? { stages: io.finetune.stages, cut: io.finetune.cut.name } : undefined };
  },
});
