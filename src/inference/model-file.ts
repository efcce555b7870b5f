/**
 * Reading a denoiser for the web commands: the file's bytes described by the same parser the
 * page uses (src/denoise/model-info.ts), so `onnxtune web`/`export --target web` refuse and
 * describe models exactly as the page would.
 */
import * as fs from 'node:fs';
import { readDenoiserInfo, type DenoiserInfo } from '../denoise/model-info';
import { ModelFormatError } from '../onnx/reader';
import { InputError } from '../errors';

/** A model file with its description. */
export interface WebModel {
  file: string;
  bytes: Uint8Array;
  info: DenoiserInfo;
}

/**
 * Reads and describes a denoiser.
 * @throws InputError when the file is unreadable, not ONNX, or not a runnable image denoiser
 */
export function readWebModel(file: string): WebModel {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new InputError(file, `cannot read the model: ${(err as Error).message}`, { cause: err });
  }
  try {
    return { file, bytes, info: readDenoiserInfo(bytes) };
  } catch (err) {
    if (err instanceof ModelFormatError) throw new InputError(file, err.message, { cause: err });
    throw err;
  }
}
