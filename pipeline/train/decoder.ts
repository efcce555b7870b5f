/**
 * The U-Net-style decoder head: starts at the deepest tap, upsamples by the stride ratio to
 * each shallower tap and concatenates it, and finally concatenates the noisy image itself at
 * full resolution, so fine detail need not survive the encoder. The output layer is linear
 * (a sigmoid with MSE collapses to black); 'residual' predicts the (negated) noise and adds it to the input.
 * Inputs are NHWC with dynamic height/width, so the exported graph takes any image size.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { JobConfig } from '../../src/config/schema';

type Tf = typeof TfModule;

export interface TapShape {
  channels: number;
  stride: number;
}

/** Input names of the decoder: `tap0…tapK` in the order of `encoder.taps`, then `image`. */
export const tapInputName = (i: number) => `tap${i}`;
export const IMAGE_INPUT = 'image';

function activation(tf: Tf, kind: JobConfig['decoder']['activation'], name: string): TfModule.layers.Layer {
  if (kind === 'leaky_relu') return tf.layers.leakyReLU({ alpha: 0.1, name });
  return tf.layers.activation({ activation: kind, name });
}

/**
 * Builds the decoder for taps of the given channels/strides and an image with `imageChannels`.
 * @param seed makes the weight initialization reproducible.
 */
export function buildDecoder(
  tf: Tf,
  taps: readonly TapShape[],
  imageChannels: number,
  cfg: JobConfig['decoder'],
  seed: number,
): TfModule.LayersModel {
  let layerSeed = seed * 1000;
  const init = () => tf.initializers.heNormal({ seed: layerSeed++ });
  const tapInputs = taps.map((t, i) => tf.input({ shape: [null, null, t.channels], name: tapInputName(i) }));
  const image = tf.input({ shape: [null, null, imageChannels], name: IMAGE_INPUT });

  // Levels from the deepest stride to stride 1 (the image itself).
  const strides = [...new Set(taps.map((t) => t.stride))].sort((a, b) => b - a);
  for (const s of strides) {
    if (!Number.isInteger(s) || s < 1) throw new Error(`tap stride ${s} is not a positive integer`);
  }
  const width = (level: number) => cfg.widths[Math.min(level, cfg.widths.length - 1)];

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
  let level = 0;
  for (const s of [...strides.filter((x) => x > 1), 1]) {
    const here = taps.map((t, i) => (t.stride === s ? tapInputs[i] : undefined)).filter((x): x is TfModule.SymbolicTensor => !!x);
    if (s === 1) here.push(image);
    const parts: TfModule.SymbolicTensor[] = [];
    if (h) {
      const factor = prevStride / s;
      if (!Number.isInteger(factor)) throw new Error(`tap strides ${prevStride} and ${s} are not integer multiples`);
      parts.push(tf.layers.upSampling2d({ size: [factor, factor], name: `up${level}` }).apply(h) as TfModule.SymbolicTensor);
    }
    parts.push(...here);
    h = conv(join(parts, `cat${level}`), width(level), `conv${level}`);
    prevStride = s;
    level += 1;
  }
  // A residual head starts at zero (output = the noisy input) so early steps refine rather than undo it.
  const headInit = cfg.output === 'residual' ? tf.initializers.zeros() : init();
  let out = tf.layers
    .conv2d({ filters: imageChannels, kernelSize: 3, padding: 'same', kernelInitializer: headInit, name: 'head' })
    .apply(h as TfModule.SymbolicTensor) as TfModule.SymbolicTensor;
  if (cfg.output === 'residual') {
    // tfjs has no Subtract layer: the head learns the negated noise and it is added to the input.
    out = tf.layers.add({ name: 'denoised' }).apply([image, out]) as TfModule.SymbolicTensor;
  }
  return tf.model({ inputs: [...tapInputs, image], outputs: out, name: 'decoder' });
}
