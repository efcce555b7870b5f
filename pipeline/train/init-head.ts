/**
 * Warm start (`decoder.init_from`): copies the decoder-head weights of a model onnxtune exported
 * (a shipped denoiser or any run's export) into a freshly built head of the same design, so a job
 * can adapt, say, `color-blind` to real camera noise instead of starting from random weights.
 * Weights are matched by layer name (export keeps the tfjs layer names as `decoder/<layer>/Conv`)
 * and read through the constant resolver, so float16 (Cast) storage works too
 * (tested; an int8 QDQ model's weight DequantizeLinear resolves the same way, untested). The tap standardization layers are copied as well: the head starts as that model.
 * Runtime-free.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import { convKernel } from '../../converters/onnx-to-tfjs/layout';
import { InputError } from '../../src/errors';
import { constantResolver } from '../../src/onnx/constants';
import { getMetadata } from '../../src/onnx/metadata';
import type { ModelProto } from '../../src/onnx/proto';
import type { TapShape } from './decoder';

const DECODER_PREFIX = 'decoder/';

/** What {@link initHeadFrom} copied. */
export interface HeadInit {
  /** Layers whose weights were copied. */
  layers: number;
  /** Weight values copied. */
  values: number;
  /** Encoder stages the source model had fine-tuned (its head was trained on those features, not the job's encoder). */
  finetunedStages: string[];
}

/**
 * Sets every weight of `head` from the same-named layer of the exported `model`'s decoder.
 * @param label the model's file or shipped name, for errors
 * @throws InputError when `model` is not an onnxtune export, lacks one of the head's layers, has
 *   decoder layers the head lacks, or a weight's shape differs (another decoder design or taps)
 */
export function initHeadFrom(tf: Tf, head: TfModule.LayersModel, model: ModelProto, taps: readonly TapShape[], label: string): HeadInit {
  const metadata = getMetadata(model);
  const tapsJson = metadata['onnxtune.encoder.taps'];
  if (!tapsJson) throw new InputError(label, 'decoder.init_from: has no onnxtune.encoder.taps metadata; expected a model exported by onnxtune (onnxtune models lists the shipped ones)');
  const theirs = JSON.parse(tapsJson) as Array<{ channels: number; stride: number }>;
  const sameTaps = theirs.length === taps.length && theirs.every((t, k) => t.channels === taps[k].channels && t.stride === taps[k].stride);
  if (!sameTaps) {
    const fmt = (ts: ReadonlyArray<{ channels: number; stride: number }>) => ts.map((t) => `${t.channels}ch /${t.stride}`).join(', ');
    throw new InputError(label, `decoder.init_from: its head reads taps ${fmt(theirs)}, this job's encoder gives ${fmt(taps)}; use the same encoder.taps`);
  }
  const consts = constantResolver(model, { label });
  const convs = new Map<string, { kernel: string; bias: string }>();
  for (const n of model.graph?.node ?? []) {
    const name = n.name ?? '';
    if (n.opType !== 'Conv' || !name.startsWith(DECODER_PREFIX)) continue;
    convs.set(name.slice(DECODER_PREFIX.length).replace(/\/Conv$/, ''), { kernel: n.input?.[1] ?? '', bias: n.input?.[2] ?? '' });
  }
  const wanted = head.layers.filter((l) => l.getWeights().length > 0);
  const missing = wanted.filter((l) => !convs.has(l.name)).map((l) => l.name);
  const extra = [...convs.keys()].filter((k) => !wanted.some((l) => l.name === k));
  if (missing.length || extra.length) {
    throw new InputError(
      label,
      'decoder.init_from: its decoder head has another design' +
        (missing.length ? `; it lacks layer(s) ${missing.join(', ')}` : '') +
        (extra.length ? `; it has layer(s) ${extra.join(', ')} this decoder lacks` : '') +
        ' (give this job the decoder: block of the job that made it: type, widths, convs_per_level, image_skip, normalize_taps)',
    );
  }
  let values = 0;
  for (const layer of wanted) {
    const src = convs.get(layer.name)!;
    const current = layer.getWeights();
    const kernel = consts.value(src.kernel);
    const bias = consts.value(src.bias);
    if (!kernel || !bias || kernel.dims.length !== 4) {
      throw new InputError(label, `decoder.init_from: layer ${layer.name} has no constant 4-D kernel and bias`);
    }
    const [o, i, kh, kw] = kernel.dims;
    const want = current[0].shape;
    const depthwise = want[3] === 1 && want[2] === o && i === 1;
    const shape = depthwise ? [kh, kw, o, 1] : [kh, kw, i, o];
    if (shape.join() !== want.join() || bias.dims.join() !== current[1].shape.join()) {
      throw new InputError(
        label,
        `decoder.init_from: layer ${layer.name} has kernel [${kernel.dims.join(', ')}] and bias [${bias.dims.join(', ')}], this decoder needs ` +
          `[${want.join(', ')}] (tfjs layout) and [${current[1].shape.join(', ')}]; give this job the decoder: block of the job that made it`,
      );
    }
    // Depthwise [C, 1, kh, kw] permutes to [kh, kw, 1, C]: the same element order as tfjs's [kh, kw, C, 1].
    const weights = [tf.tensor(convKernel(kernel).data, shape), tf.tensor1d(Float32Array.from(bias.data))];
    layer.setWeights(weights);
    tf.dispose(weights);
    values += kernel.data.length + bias.data.length;
  }
  const stages = metadata['onnxtune.encoder.finetuned_stages'];
  return { layers: wanted.length, values, finetunedStages: stages ? (JSON.parse(stages) as string[]) : [] };
}
