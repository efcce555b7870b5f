/**
 * Splits an exported onnxtune denoiser back into what fine-tuning needs: the frozen encoder
 * (image → taps, run in onnxruntime once per patch) and the decoder head as its own ONNX graph
 * with the inputs `tap0…`, `image` that the pipeline's decoder has, so the head converts to
 * tfjs, trains, and goes back through the same export + combine code as the CLI. Runtime-free.
 */
import { InputError } from '../../src/errors';
import { renameGraph } from '../../src/onnx/compose';
import { extractSubModel } from '../../src/onnx/extract';
import { getMetadata } from '../../src/onnx/metadata';
import { isDefaultDomain, onnx, toNumber, type ModelProto } from '../../src/onnx/proto';
import type { EncoderIo } from '../encoder-io';
import { IMAGE_INPUT, tapInputName } from '../train/decoder';
import { EXPORT_INPUT } from '../export-model';

/** The parts of a split denoiser. */
export interface SplitDenoiser {
  /** image [N,C,H,W] (sides multiples of `io.strideMultiple`) → taps, tensor names as in `io.taps`. */
  encoder: onnx.ModelProto;
  /** tap0…, image → the head's output (before crop and clip), as the pipeline's decoder is wired. */
  decoder: onnx.ModelProto;
  /** How `combine` wires encoder and decoder (the same record the encoder stage writes). */
  io: EncoderIo;
  /** Default-domain opset of the model. */
  opset: number;
  /** The model's metadata_props. */
  metadata: Record<string, string>;
}

const ENCODER_PREFIX = 'encoder/';
const DECODER_PREFIX = 'decoder/';

/**
 * Splits a model written by onnxtune's export (`pipeline/export-model.ts` combine).
 * @param label the file name, for errors
 * @throws InputError when the model lacks onnxtune's export structure or metadata
 */
export function splitDenoiser(model: ModelProto, label = 'model'): SplitDenoiser {
  const metadata = getMetadata(model);
  const tapsJson = metadata['onnxtune.encoder.taps'];
  if (!tapsJson) throw new InputError(label, 'has no onnxtune.encoder.taps metadata: only models exported by onnxtune can be fine-tuned');
  const taps = JSON.parse(tapsJson) as Array<{ name: string; channels: number; stride: number }>;
  const strideMultiple = Number(metadata['onnxtune.stride_multiple'] ?? '1');
  const channels = Number(metadata['onnxtune.channels'] ?? '1');
  const nodes = model.graph?.node ?? [];
  const byOutput = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  // What the encoder reads: the reflect-padded input when the model pads, else the input itself.
  const image = byOutput.has('export/padded') ? 'export/padded' : EXPORT_INPUT;
  const clip = nodes.find((n) => n.name === 'export/clip');
  if (!clip) throw new InputError(label, "has no 'export/clip' node: only models exported by onnxtune can be fine-tuned");
  const cropped = byOutput.get(clip.input?.[0] ?? '');
  const head = cropped?.name === 'export/cropped' ? (cropped.input?.[0] as string) : (clip.input?.[0] as string);
  const tapTensors = taps.map((t) => ENCODER_PREFIX + t.name);

  const encoder = extractSubModel(model, tapTensors, [image], label);
  encoder.graph = renameGraph(encoder.graph!, (n) => (n === image ? 'image' : n.startsWith(ENCODER_PREFIX) ? n.slice(ENCODER_PREFIX.length) : n));
  encoder.metadataProps = [];

  const decoder = extractSubModel(model, [head], [...tapTensors, image], label);
  const decoderNames = new Map<string, string>([[image, IMAGE_INPUT], ...tapTensors.map((t, i) => [t, tapInputName(i)] as [string, string])]);
  decoder.graph = renameGraph(decoder.graph!, (n) => decoderNames.get(n) ?? (n.startsWith(DECODER_PREFIX) ? n.slice(DECODER_PREFIX.length) : n));
  // Inputs the head does not read (a head may skip a tap) would become dangling tfjs inputs.
  const read = new Set((decoder.graph.node ?? []).flatMap((n) => n.input ?? []));
  decoder.graph.input = (decoder.graph.input ?? []).filter((i) => read.has(i.name ?? ''));
  decoder.metadataProps = [];

  const opset = toNumber((model.opsetImport ?? []).find((o) => isDefaultDomain(o.domain))?.version ?? 17);
  const io: EncoderIo = {
    input: 'image',
    channels,
    taps: taps.map((t) => ({ name: t.name, channels: t.channels, stride: t.stride })),
    strideMultiple,
    source: { file: metadata['onnxtune.encoder.source'] ?? 'encoder.onnx', sha256: metadata['onnxtune.encoder.sha256'] ?? '' },
  };
  return { encoder, decoder, io, opset, metadata };
}

/** ONNX NCHW dims of each decoder input, for the ONNX → tfjs converter (channels must be known). */
export function decoderInputShapes(split: SplitDenoiser): Record<string, number[]> {
  const shapes: Record<string, number[]> = { [IMAGE_INPUT]: [1, split.io.channels, 0, 0] };
  split.io.taps.forEach((t, i) => (shapes[tapInputName(i)] = [1, t.channels, 0, 0]));
  return shapes;
}
