/**
 * BMP decoder (Windows bitmaps as the classic denoising sets ship them): palette 1/4/8-bit,
 * 16-bit (5-5-5 or bit fields), 24-bit and 32-bit (alpha dropped), bottom-up or top-down, with
 * the OS/2 core header or any Windows info header (40–124 bytes). RLE and embedded JPEG/PNG are
 * refused. A palette image whose used colours are all gray decodes to 1 channel, as a gray PNG does.
 * No `node:` imports (the browser page uses it too).
 */
import { checkDeclaredSize, DecodeError, type Raster } from './raster';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'embedded JPEG', 5: 'embedded PNG' };

/** Whether the bytes start like a BMP file. */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

interface Channel {
  mask: number;
  shift: number;
  max: number;
}

function channelOf(mask: number): Channel {
  const m = mask >>> 0;
  if (m === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((m >>> shift) & 1) === 0) shift++;
  return { mask: m, shift, max: m >>> shift };
}

/** A bit-field sample scaled to 8 bits (5-bit 31 → 255, as libraries round). */
function field(px: number, c: Channel): number {
  if (c.max === 0) return 0;
  const v = ((px & c.mask) >>> 0) >>> c.shift;
  return c.max === 255 ? v : Math.round((v * 255) / c.max);
}

/**
 * Decodes a BMP file.
 * @param maxPixels refuse a larger declared size before allocating
 * @throws {DecodeError} on a truncated, malformed or unsupported (RLE, JPEG/PNG-in-BMP) file
 */
export function decodeBmp(bytes: Uint8Array, maxPixels = 2 ** 27): Raster {
  if (!isBmp(bytes)) throw new DecodeError('not a BMP file (no "BM" signature)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const dibSize = dv.getUint32(14, true);
  const core = dibSize === 12;
  if (!core && dibSize < 40) throw new DecodeError(`unknown BMP header size ${dibSize}`);
  if (bytes.length < 14 + dibSize) throw new DecodeError('truncated BMP header');
  const width = core ? dv.getUint16(18, true) : dv.getInt32(18, true);
  const rawHeight = core ? dv.getInt16(20, true) : dv.getInt32(22, true);
  const bpp = core ? dv.getUint16(24, true) : dv.getUint16(28, true);
  const compression = core ? BI_RGB : dv.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  checkDeclaredSize(width, height, maxPixels);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    const name = COMPRESSION_NAMES[compression] ?? `compression ${compression}`;
    throw new DecodeError(`${name} BMP files are not supported; save it uncompressed (or as PNG)`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new DecodeError(`${bpp}-bit BMP files are not supported`);

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + stride * (height - 1) + Math.ceil((bpp * width) / 8) > bytes.length) {
    throw new DecodeError(`truncated BMP: ${bytes.length} bytes, pixel data needs ${dataOffset + stride * height}`);
  }
  const rowStart = (y: number): number => dataOffset + stride * (topDown ? y : height - 1 - y);

  if (bpp <= 8) return decodePalette(bytes, dv, { width, height, bpp, core, dibSize, dataOffset, rowStart });

  let masks: [number, number, number];
  if (compression === BI_RGB) {
    masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  } else {
    // Masks sit right after the 40-byte info header whether or not the header is longer.
    if (bytes.length < 14 + 40 + 12) throw new DecodeError('truncated BMP bit-field masks');
    masks = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)];
  }
  const [r, g, b] = masks.map(channelOf);
  const samples = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    let p = rowStart(y);
    let o = y * width * 3;
    for (let x = 0; x < width; x++) {
      if (bpp === 24 && compression === BI_RGB) {
        samples[o++] = bytes[p + 2];
        samples[o++] = bytes[p + 1];
        samples[o++] = bytes[p];
        p += 3;
        continue;
      }
      const px = bpp === 16 ? dv.getUint16(p, true) : bpp === 32 ? dv.getUint32(p, true) : bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16);
      p += bpp / 8;
      samples[o++] = field(px, r);
      samples[o++] = field(px, g);
      samples[o++] = field(px, b);
    }
  }
  return { width, height, channels: 3, samples, maxval: 255 };
}

interface Layout {
  width: number;
  height: number;
  bpp: number;
  core: boolean;
  dibSize: number;
  dataOffset: number;
  rowStart: (y: number) => number;
}

function decodePalette(bytes: Uint8Array, dv: DataView, l: Layout): Raster {
  const entry = l.core ? 3 : 4;
  const paletteStart = 14 + l.dibSize;
  const declared = l.core ? 0 : dv.getUint32(46, true);
  // Writers often store fewer than 2^bpp entries with a 0 count; the pixel data offset bounds the table.
  const room = Math.floor((l.dataOffset - paletteStart) / entry);
  const count = Math.min(declared || 1 << l.bpp, 1 << l.bpp, room > 0 ? room : 1 << l.bpp);
  if (paletteStart + count * entry > bytes.length) throw new DecodeError('truncated BMP palette');
  const n = l.width * l.height;
  const index = new Uint8Array(n);
  const perByte = 8 / l.bpp;
  const bitMask = (1 << l.bpp) - 1;
  for (let y = 0; y < l.height; y++) {
    const row = l.rowStart(y);
    for (let x = 0; x < l.width; x++) {
      const byte = bytes[row + Math.floor(x / perByte)];
      const shift = 8 - l.bpp * ((x % perByte) + 1);
      const i = (byte >> shift) & bitMask;
      if (i >= count) throw new DecodeError(`pixel (${x}, ${y}) uses palette entry ${i} of ${count}`);
      index[y * l.width + x] = i;
    }
  }
  const rgb = (i: number, k: number): number => bytes[paletteStart + i * entry + 2 - k];
  const used = new Uint8Array(count);
  for (let p = 0; p < n; p++) used[index[p]] = 1;
  let gray = true;
  for (let i = 0; i < count && gray; i++) if (used[i] && !(rgb(i, 0) === rgb(i, 1) && rgb(i, 1) === rgb(i, 2))) gray = false;
  const channels = gray ? 1 : 3;
  const samples = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < channels; k++) samples[p * channels + k] = rgb(index[p], k);
  }
  return { width: l.width, height: l.height, channels, samples, maxval: 255 };
}
