/**
 * Runs any single-input, single-output ONNX denoiser on HWC images in [0,1]: an onnxtune export
 * (its `onnxtune.*` metadata gives names and channels) or a third-party model such as DnCNN
 * (names and channels read from the graph). Output is clipped to [0,1] per the protocol.
 */
import { createSession, type OrtSession } from '../backends/ort';
import type { Device } from '../backends/device';
import { InputError } from '../errors';
import { modelInfo } from '../onnx/info';
import { getMetadata } from '../onnx/metadata';
import { encodeModel, loadModel } from '../onnx/model-io';
import { nchwToNhwc, nhwcToNchw } from '../tensor/layout';

export interface OnnxDenoiser {
  file: string;
  input: string;
  output: string;
  channels: 1 | 3;
  metadata: Record<string, string>;
  ep: string;
  /** Denoises one HWC image. */
  run(image: Float32Array, width: number, height: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Opens `file` in onnxruntime.
 * @throws InputError when the model does not have exactly one image input and one output.
 */
export async function openDenoiser(file: string, opts: { device?: Device; threads?: number } = {}): Promise<OnnxDenoiser> {
  const model = loadModel(file);
  const info = modelInfo(model);
  const metadata = getMetadata(model);
  if (info.inputs.length !== 1 || info.outputs.length !== 1) {
    throw new InputError(file, `a denoiser needs one input and one output; this model has inputs [${info.inputs.map((i) => i.name)}] and outputs [${info.outputs.map((o) => o.name)}]`);
  }
  const inp = info.inputs[0];
  const declared = metadata['onnxtune.channels'] ? Number(metadata['onnxtune.channels']) : inp.dims[1];
  if (declared !== 1 && declared !== 3) {
    throw new InputError(file, `input '${inp.name}' has shape [${inp.dims}]; expected [N, 1 or 3, H, W]`);
  }
  const channels = declared as 1 | 3;
  const session: OrtSession = await createSession(encodeModel(model), { device: opts.device, threads: opts.threads, label: file });
  const output = info.outputs[0].name;
  return {
    file, input: inp.name, output, channels, metadata, ep: session.ep,
    async run(image, width, height) {
      const x = nhwcToNchw(image, 1, height, width, channels);
      const y = (await session.run({ [inp.name]: { data: x, dims: [1, channels, height, width] } }))[output];
      const out = nchwToNhwc(y.data, 1, channels, height, width);
      for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
      return out;
    },
    release: () => session.release(),
  };
}
