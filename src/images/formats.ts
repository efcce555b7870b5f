/**
 * Which image files onnxtune reads and writes, and the pure-TypeScript decoding of the ones
 * sharp (libvips) does not read: BMP and PGM/PPM, recognised by their first bytes rather than
 * the extension. No `node:` imports: the browser page uses the same table and decoders.
 */
import { decodeBmp, isBmp } from './bmp';
import { decodePnm, isPnm } from './pnm';
import type { Raster } from './raster';

/** Extensions of the image files read everywhere (data folders, eval, denoise, the page). */
export const INPUT_EXTENSIONS = Object.freeze([
  '.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.bmp', '.pgm', '.ppm', '.pnm', '.gif',
] as const);

/** One line for messages: the formats read. */
export const SUPPORTED_INPUT_FORMATS = 'PNG, JPEG, TIFF (8/16-bit), WebP, BMP (1/4/8/16/24/32-bit), PGM/PPM (8/16-bit), GIF';

/**
 * Decodes a file sharp cannot read (BMP, PGM/PPM), recognised by its signature.
 * @returns the raster, or undefined when the bytes are another format (leave those to sharp)
 * @throws {DecodeError} when the signature matches but the file is malformed or unsupported
 */
export function decodeBuiltin(bytes: Uint8Array, maxPixels?: number): Raster | undefined {
  if (isBmp(bytes)) return decodeBmp(bytes, maxPixels);
  if (isPnm(bytes)) return decodePnm(bytes, maxPixels);
  return undefined;
}
