/**
 * Decoder heads. `unet`: starts at the deepest tap, upsamples by the stride ratio to each
 * shallower tap and concatenates it, and finally concatenates the noisy image itself at full
 * resolution, so fine detail need not survive the encoder (with `image_skip: every_level`, also at each
 * lower level through a learned stride-s patch embedding). `plain`: upsamples the deepest tap
 * alone (×2 per level) back to full resolution, no skips. Each level has `convs_per_level` 3×3
 * convs of its width (one count for all levels, or one per level). The output layer is linear (a sigmoid with MSE collapses to black);
 * 'residual' predicts the (negated) noise and adds it to the input. Every head takes the same
 * inputs (`tap0…tapK`, `image`; a plain direct head ignores all but the deepest tap), so export
 * wires any head the same way. Inputs are NHWC with dynamic height/width. With `tapNorms`
 * (decoder.normalize_taps) each used tap first passes a frozen per-channel affine `tap<k>_norm`;
 * with `decoder.tap_gate` that affine trains, starting at gate × the standardization.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { decoderSchema, DECODER_TYPES, type DecoderConfig } from '../../src/config/schema';
import type { z } from 'zod';
import type { TapNorm } from './tap-stats';

type Tf = typeof TfModule;

export interface TapShape {
  channels: number;
  stride: number;
}

/** Input names of the decoder: `tap0…tapK` in the order of `encoder.taps`, then `image`. */
export const tapInputName = (i: number) => `tap${i}`;
export const IMAGE_INPUT = 'image';
/** The fixed standardizing layer of tap i (present when `tapNorms` are given). */
export const tapNormLayerName = (i: number) => `tap${i}_norm`;

export interface BuildDecoderOptions {
  /**
   * Per-tap standardization (`decoder.normalize_taps`): a 1×1 depthwise conv (frozen unless
   * `decoder.tap_gate`) computing (x − mean)·scale per channel right after each tap input. It is
   * an ordinary layer, so it is saved with the model and exported as a grouped 1×1 Conv with
   * constant weights (the exported model's inputs are unchanged). It draws no seed, so heads
   * without it keep their weights.
   */
  tapNorms?: readonly TapNorm[];
}

/** The decoder heads by `decoder.type`. */
export const DECODERS: Readonly<Record<DecoderConfig['type'], string>> = Object.freeze({
  unet: 'upsampling decoder fed by every tap (skip connections) and the noisy input',
  plain: 'upsampling decoder fed by the deepest tap only (×2 per level)',
});
if (DECODER_TYPES.some((n) => !(n in DECODERS))) throw new Error('DECODERS and DECODER_TYPES differ');

function activation(tf: Tf, kind: DecoderConfig['activation'], name: string): TfModule.layers.Layer {
  if (kind === 'leaky_relu') return tf.layers.leakyReLU({ alpha: 0.1, name });
  return tf.layers.activation({ activation: kind, name });
}

/** The levels a head passes through: strides from the deepest to 1, and which taps join at each. */
function levels(type: DecoderConfig['type'], taps: readonly TapShape[]): Array<{ stride: number; taps: number[] }> {
  const strides = [...new Set(taps.map((t) => t.stride))].sort((a, b) => b - a);
  for (const s of strides) {
    if (!Number.isInteger(s) || s < 1) throw new Error(`tap stride ${s} is not a positive integer`);
  }
  const deepest = strides[0];
  if (type === 'plain') {
    const first = taps.findIndex((t) => t.stride === deepest);
    const out = [{ stride: deepest, taps: [first] }];
    for (let s = deepest; s > 1; ) {
      s = s % 2 === 0 ? s / 2 : 1;
      out.push({ stride: s, taps: [] });
    }
    return out;
  }
  const out = strides.filter((s) => s > 1).map((s) => ({ stride: s, taps: taps.flatMap((t, i) => (t.stride === s ? [i] : [])) }));
  out.push({ stride: 1, taps: taps.flatMap((t, i) => (t.stride === 1 ? [i] : [])) });
  return out;
}

/**
 * Builds the decoder for taps of the given channels/strides and an image with `imageChannels`.
 * @param cfgIn the `decoder:` block; omitted fields take their schema defaults
 * @param seed makes the weight initialization reproducible.
 */
export function buildDecoder(
  tf: Tf,
  taps: readonly TapShape[],
  imageChannels: number,
  cfgIn: z.input<typeof decoderSchema>,
  seed: number,
  opts: BuildDecoderOptions = {},
): TfModule.LayersModel {
  const cfg = decoderSchema.parse(cfgIn);
  if (opts.tapNorms && opts.tapNorms.length !== taps.length) throw new Error(`${opts.tapNorms.length} tap normalizations for ${taps.length} taps`);
  // +1: tfjs treats a seed of 0 as "no seed" (Math.random), which made seed 0's first layer random.
  let layerSeed = seed * 1000 + 1;
  const init = () => tf.initializers.heNormal({ seed: layerSeed++ });
  const tapInputs = taps.map((t, i) => tf.input({ shape: [null, null, t.channels], name: tapInputName(i) }));
  const image = tf.input({ shape: [null, null, imageChannels], name: IMAGE_INPUT });
  const normLayers: Array<{ layer: TfModule.layers.Layer; norm: TapNorm }> = [];
  // A gate needs the affine even for raw taps: there it starts from the identity.
  const gated = cfg.tap_gate !== undefined;
  const identity = (c: number): TapNorm => ({ mean: new Array<number>(c).fill(0), scale: new Array<number>(c).fill(1) });
  const tapIn = (i: number): TfModule.SymbolicTensor => {
    const norm = opts.tapNorms?.[i] ?? (gated ? identity(taps[i].channels) : undefined);
    if (!norm) return tapInputs[i];
    if (norm.mean.length !== taps[i].channels) throw new Error(`tap ${i}: ${norm.mean.length} normalization channels, expected ${taps[i].channels}`);
    const layer = tf.layers.depthwiseConv2d({
      kernelSize: 1, depthMultiplier: 1, useBias: true, trainable: gated, name: tapNormLayerName(i),
      depthwiseInitializer: 'ones', biasInitializer: 'zeros',
    });
    normLayers.push({ layer, norm });
    return layer.apply(tapInputs[i]) as TfModule.SymbolicTensor;
  };

  const width = (level: number) => cfg.widths[Math.min(level, cfg.widths.length - 1)];
  const perLevel = typeof cfg.convs_per_level === 'number' ? [cfg.convs_per_level] : cfg.convs_per_level;
  const depth = (level: number) => perLevel[Math.min(level, perLevel.length - 1)];

  const conv = (x: TfModule.SymbolicTensor, filters: number, name: string) => {
    let y = x;
    if (cfg.dropout > 0) y = tf.layers.dropout({ rate: cfg.dropout, seed: layerSeed++, name: `${name}_drop` }).apply(y) as TfModule.SymbolicTensor;
    y = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: init(), name }).apply(y) as TfModule.SymbolicTensor;
    return activation(tf, cfg.activation, `${name}_act`).apply(y) as TfModule.SymbolicTensor;
  };
  const join = (xs: TfModule.SymbolicTensor[], name: string) =>
    xs.length === 1 ? xs[0] : (tf.layers.concatenate({ axis: -1, name }).apply(xs) as TfModule.SymbolicTensor);

  let h: TfModule.SymbolicTensor | undefined;
  let prevStride = 0;
  levels(cfg.type, taps).forEach(({ stride: s, taps: here }, level) => {
    const parts: TfModule.SymbolicTensor[] = [];
    if (h) {
      const factor = prevStride / s;
      if (!Number.isInteger(factor)) throw new Error(`tap strides ${prevStride} and ${s} are not integer multiples`);
      parts.push(tf.layers.upSampling2d({ size: [factor, factor], name: `up${level}` }).apply(h) as TfModule.SymbolicTensor);
    }
    parts.push(...here.map(tapIn));
    if (s === 1 && cfg.type === 'unet') parts.push(image);
    if (s > 1 && cfg.type === 'unet' && cfg.image_skip === 'every_level') {
      // A linear s×s conv with stride s and s²·C filters can hold every input pixel of its cell
      // (a learned space-to-depth), so detail lost inside the frozen encoder is still in reach.
      parts.push(
        tf.layers
          .conv2d({ filters: s * s * imageChannels, kernelSize: s, strides: s, padding: 'valid', kernelInitializer: init(), name: `image${level}` })
          .apply(image) as TfModule.SymbolicTensor,
      );
    }
    h = conv(join(parts, `cat${level}`), width(level), `conv${level}`);
    for (let j = 1; j < depth(level); j++) h = conv(h, width(level), `conv${level}_${j}`);
    prevStride = s;
  });
  // A residual head starts at zero (output = the noisy input) so early steps refine rather than undo it.
  const headInit = cfg.output === 'residual' ? tf.initializers.zeros() : init();
  let out = tf.layers
    .conv2d({ filters: imageChannels, kernelSize: 3, padding: 'same', kernelInitializer: headInit, name: 'head' })
    .apply(h as TfModule.SymbolicTensor) as TfModule.SymbolicTensor;
  if (cfg.output === 'residual') {
    // tfjs has no Subtract layer: the head learns the negated noise and it is added to the input.
    out = tf.layers.add({ name: 'denoised' }).apply([image, out]) as TfModule.SymbolicTensor;
  }
  const model = tf.model({ inputs: [...tapInputs, image], outputs: out, name: 'decoder' });
  // A gate of 0 starts the head as the head alone: the taps' gradients open it where they help.
  const g = cfg.tap_gate ?? 1;
  for (const { layer, norm } of normLayers) {
    const c = norm.scale.length;
    const weights = [
      tf.tensor4d(Float32Array.from(norm.scale, (v) => v * g), [1, 1, c, 1]),
      tf.tensor1d(Float32Array.from(norm.mean, (m, k) => -m * norm.scale[k] * g)),
    ];
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  return model;
}
