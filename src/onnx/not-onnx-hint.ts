/**
 * What a file that failed to parse as ONNX most likely is, for the error message: users hand
 * model-reading commands a Git LFS pointer, an HTML page saved by a failed download, a PyTorch or
 * Keras checkpoint, a TF.js model.json, a job YAML or an image. Recognized by leading bytes only.
 * Runtime-free (the web page shows the same hints).
 */

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
const startsWith = (bytes: Uint8Array, magic: readonly number[], at = 0) => magic.every((b, i) => bytes[at + i] === b);

const IMAGE_MAGIC: ReadonlyArray<[string, readonly number[]]> = [
  ['PNG', [0x89, 0x50, 0x4e, 0x47]],
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
];

const TORCH_EXPORT = 'export it to ONNX first (torch.onnx.export)';

/** The leading text of `bytes` (BOM and leading blank space dropped), when it reads as text. */
function leadingText(bytes: Uint8Array): string | null {
  const head = bytes.subarray(0, 512);
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) return null;
  return new TextDecoder().decode(head).replace(/^\uFEFF/, '').trimStart();
}

/**
 * A clause for an error message ('; it is …'), or '' when the bytes match nothing known.
 * @param bytes the file's contents (its first few hundred bytes suffice)
 */
export function notOnnxHint(bytes: Uint8Array): string {
  const hint = (what: string) => `; it is ${what}`;
  const text = leadingText(bytes);
  if (text !== null) {
    if (text.startsWith('version https://git-lfs')) return hint('a Git LFS pointer, not the model itself — run `git lfs pull` (or download the file itself)');
    if (/^<(!doctype html|html|\?xml|head|body)/i.test(text)) return hint('an HTML/XML page, not a model — a download that saved an error or login page? Download the .onnx file itself');
    if (text.startsWith('{')) return hint('JSON — a TF.js model.json? `onnxtune convert model.json model.onnx` makes an ONNX file of it');
    if (/^(#[^\n]*\n\s*)*(name|data|encoder|decoder|train):/m.test(text)) return hint('a YAML job file — `onnxtune run <job.yaml>` runs one; model-reading commands take an .onnx file');
    return hint('a text file, not a model (an ONNX file is binary protobuf)');
  }
  for (const [name, magic] of IMAGE_MAGIC) {
    if (startsWith(bytes, magic)) return hint(`a ${name} image, not a model — to denoise it: onnxtune denoise --model gray-blind <image> --out DIR`);
  }
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return hint('a WebP image, not a model — to denoise it: onnxtune denoise --model gray-blind <image> --out DIR');
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return hint(`a zip archive — a PyTorch checkpoint (.pt/.pth)? ${TORCH_EXPORT}`);
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return hint(`a Python pickle — an older PyTorch checkpoint (.pt/.pth)? ${TORCH_EXPORT}`);
  if (startsWith(bytes, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) return hint('an HDF5 file — a Keras .h5 model? Convert it with tf2onnx (python -m tf2onnx.convert --keras model.h5)');
  if (ascii(bytes, 4, 8) === 'TFL3') return hint('a TensorFlow Lite model — convert it with tf2onnx (python -m tf2onnx.convert --tflite model.tflite)');
  if (startsWith(bytes, [0x1f, 0x8b])) return hint('gzip-compressed — decompress it first (gunzip, or tar -xzf for a .tar.gz)');
  if (bytes.length >= 10 && bytes[8] === 0x7b && bytes[9] === 0x22 && bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0) {
    return hint(`a safetensors file: weights without a graph — ${TORCH_EXPORT} from the model that loads them`);
  }
  return '';
}
