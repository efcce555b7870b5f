/**
 * Netpbm decoder: PGM (P2 text, P5 binary) and PPM (P3 text, P6 binary), maxval up to 65535
 * (binary samples above 255 are two bytes, big-endian, per the spec). Values keep their maxval,
 * so a 10-bit file with maxval 1023 scales by 1/1023. No `node:` imports (the browser uses it too).
 */
import { checkDeclaredSize, DecodeError, type Raster } from './raster';

const KINDS: Record<string, { channels: 1 | 3; binary: boolean }> = {
  P2: { channels: 1, binary: false },
  P3: { channels: 3, binary: false },
  P5: { channels: 1, binary: true },
  P6: { channels: 3, binary: true },
};

/** Whether the bytes start like a PGM/PPM file this decoder reads. */
export function isPnm(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x50 && `P${String.fromCharCode(bytes[1])}` in KINDS && isSpace(bytes[2]);
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

/** Reads whitespace-separated decimal tokens, skipping `#` comments; `pos` ends after the token. */
class Tokens {
  pos = 2;
  constructor(private readonly bytes: Uint8Array) {}

  next(what: string): number {
    const b = this.bytes;
    for (;;) {
      while (this.pos < b.length && isSpace(b[this.pos])) this.pos++;
      if (b[this.pos] !== 0x23) break;
      while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
    }
    if (this.pos >= b.length) throw new DecodeError(`truncated PNM: missing ${what}`);
    let v = 0;
    let digits = 0;
    while (this.pos < b.length && b[this.pos] >= 0x30 && b[this.pos] <= 0x39) {
      v = v * 10 + b[this.pos++] - 0x30;
      digits++;
    }
    if (digits === 0 || (this.pos < b.length && !isSpace(b[this.pos]) && b[this.pos] !== 0x23)) {
      throw new DecodeError(`malformed PNM: ${what} is not a number (byte ${this.pos})`);
    }
    return v;
  }
}

/**
 * Decodes a PGM/PPM file.
 * @param maxPixels refuse a larger declared size before allocating
 * @throws {DecodeError} on a malformed or truncated file, maxval outside 1–65535, or a sample above maxval
 */
export function decodePnm(bytes: Uint8Array, maxPixels = 2 ** 27): Raster {
  if (!isPnm(bytes)) throw new DecodeError('not a PGM/PPM file (expected P2, P3, P5 or P6)');
  const magic = `P${String.fromCharCode(bytes[1])}`;
  const { channels, binary } = KINDS[magic];
  const t = new Tokens(bytes);
  const width = t.next('width');
  const height = t.next('height');
  checkDeclaredSize(width, height, maxPixels);
  const maxval = t.next('maxval');
  if (maxval < 1 || maxval > 65535) throw new DecodeError(`PNM maxval must be 1–65535, got ${maxval}`);
  const n = width * height * channels;
  const samples = maxval > 255 ? new Uint16Array(n) : new Uint8Array(n);
  if (binary) {
    const start = t.pos + 1; // exactly one whitespace byte after maxval
    const size = maxval > 255 ? 2 : 1;
    if (start + n * size > bytes.length) {
      throw new DecodeError(`truncated ${magic}: ${bytes.length - start} bytes of pixel data, ${width}×${height} needs ${n * size}`);
    }
    for (let i = 0; i < n; i++) samples[i] = size === 2 ? (bytes[start + 2 * i] << 8) | bytes[start + 2 * i + 1] : bytes[start + i];
  } else {
    for (let i = 0; i < n; i++) {
      const v = t.next(`sample ${i} of ${n}`);
      if (v > maxval) throw new DecodeError(`sample ${i} is ${v}, above maxval ${maxval}`);
      samples[i] = v;
    }
    return { width, height, channels, samples, maxval };
  }
  for (let i = 0; i < n; i++) {
    if (samples[i] > maxval) throw new DecodeError(`sample ${i} is ${samples[i]}, above maxval ${maxval}`);
  }
  return { width, height, channels, samples, maxval };
}
