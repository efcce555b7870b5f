/**
 * Input normalization constants for pretrained encoders: which pixel range the encoder saw in
 * training, and the per-channel mean/std it subtracted and divided by. The encoder stage bakes
 * these into the cut encoder as Sub/Div nodes; they are never stored in the ONNX files we import.
 */

/** How an encoder expects its input: `(x - mean[c]) / std[c]` on pixels in `range`, channels in `channelOrder`. */
export interface Normalization {
  /** Short name for logs and run.json. */
  readonly name: string;
  /** Channel order of the input tensor's axis 1. */
  readonly channelOrder: 'RGB' | 'BGR' | 'gray';
  /** Pixel range before the mean/std step, e.g. [0, 1] for torchvision's ToTensor(). */
  readonly range: readonly [number, number];
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * torchvision's ImageNet statistics: RGB, ToTensor() to [0, 1], then Normalize(mean, std).
 * Also what resnet20_cifar10 was trained with (see /work/shared/models/README.md), not the CIFAR statistics.
 */
export const IMAGENET: Normalization = Object.freeze({
  name: 'imagenet',
  channelOrder: 'RGB',
  range: Object.freeze([0, 1]) as readonly [number, number],
  mean: Object.freeze([0.485, 0.456, 0.406]),
  std: Object.freeze([0.229, 0.224, 0.225]),
});
