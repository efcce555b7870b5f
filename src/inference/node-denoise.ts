/**
 * Denoising with onnxruntime-node through the page's own pipeline (src/denoise/denoise.ts):
 * the same metadata-driven pre/post-processing and tiling, so the CLI and the page give the same
 * pixels for the same input. The browser test uses it as the reference.
 */
import { denoiseImage, type DenoiseOptions, type DenoiseResult } from '../denoise/denoise';
import type { DenoiserInfo } from '../denoise/model-info';
import type { Planar } from '../denoise/tiling';
import { createSession, type OrtSession, type SessionOptions } from '../backends/ort';
import { InputError } from '../errors';
import { readWebModel } from './model-file';

/** A model opened in onnxruntime-node. */
export interface NodeDenoiser {
  info: DenoiserInfo;
  session: OrtSession;
  denoise(image: Planar, opts?: DenoiseOptions): Promise<DenoiseResult>;
  release(): Promise<void>;
}

/**
 * Opens a denoiser file in onnxruntime-node.
 * @throws InputError when the model is not a runnable denoiser, or takes float16 (src/backends/ort.ts feeds float32 only)
 */
export async function openNodeDenoiser(file: string, opts: SessionOptions = {}): Promise<NodeDenoiser> {
  const { bytes, info } = readWebModel(file);
  if (info.input.type !== 'float32' || info.output.type !== 'float32') {
    throw new InputError(file, `input ${info.input.type} / output ${info.output.type}: onnxruntime-node runs float32-IO models here; float16 ones run in the page`);
  }
  const session = await createSession(bytes, { device: 'cpu', label: file, ...opts });
  return {
    info,
    session,
    denoise: (image, dopts) =>
      denoiseImage(
        image,
        info,
        async (input, dims) => {
          const out = await session.run({ [info.input.name]: { data: input.data as Float32Array, dims } }, [info.output.name]);
          return out[info.output.name].data;
        },
        dopts,
      ),
    release: () => session.release(),
  };
}
