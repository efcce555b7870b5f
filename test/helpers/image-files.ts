/**
 * Plain writers of BMP and PGM/PPM files for tests, written from the format specs independently
 * of src/images (the decoders under test), so a shared misunderstanding cannot hide.
 */

export interface BmpSpec {
  width: number;
  height: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  header?: 12 | 40 | 124;
  /** For 16/32-bit: BI_BITFIELDS masks (r, g, b). */
  masks?: [number, number, number];
  /** For palette images: BGR entries and one index per pixel. */
  palette?: [number, number, number][];
  indices?: Uint8Array;
  /** For 16/24/32-bit: RGB pixels (already on the representable grid). */
  rgb?: Uint8Array;
}

/** Lays out a BMP file byte by byte from the spec (no shared code with the decoder). */
export function writeBmp(s: BmpSpec): Uint8Array {
  const W = s.width;
  const H = s.height;
  const header = s.header ?? 40;
  const stride = Math.floor((s.bpp * W + 31) / 32) * 4;
  const entry = header === 12 ? 3 : 4;
  const palBytes = (s.palette?.length ?? 0) * entry;
  const maskBytes = s.masks && header === 40 ? 12 : 0;
  const offset = 14 + header + maskBytes + palBytes;
  const buf = new Uint8Array(offset + stride * H);
  const dv = new DataView(buf.buffer);
  buf[0] = 0x42;
  buf[1] = 0x4d;
  dv.setUint32(2, buf.length, true);
  dv.setUint32(10, offset, true);
  dv.setUint32(14, header, true);
  if (header === 12) {
    dv.setUint16(18, W, true);
    dv.setInt16(20, s.topDown ? -H : H, true);
    dv.setUint16(22, 1, true);
    dv.setUint16(24, s.bpp, true);
  } else {
    dv.setInt32(18, W, true);
    dv.setInt32(22, s.topDown ? -H : H, true);
    dv.setUint16(26, 1, true);
    dv.setUint16(28, s.bpp, true);
    dv.setUint32(30, s.masks ? 3 : 0, true);
    dv.setUint32(46, s.palette?.length ?? 0, true);
    if (s.masks) s.masks.forEach((m, i) => dv.setUint32(54 + 4 * i, m, true));
  }
  const palStart = 14 + header + maskBytes;
  s.palette?.forEach(([b, g, r], i) => buf.set([b, g, r], palStart + i * entry));
  for (let y = 0; y < H; y++) {
    const row = offset + stride * (s.topDown ? y : H - 1 - y);
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (s.bpp <= 8) {
        const perByte = 8 / s.bpp;
        buf[row + Math.floor(x / perByte)] |= s.indices![p] << (8 - s.bpp * ((x % perByte) + 1));
      } else if (s.bpp === 24 || (s.bpp === 32 && !s.masks)) {
        const o = row + x * (s.bpp / 8);
        buf.set([s.rgb![3 * p + 2], s.rgb![3 * p + 1], s.rgb![3 * p]], o);
        if (s.bpp === 32) buf[o + 3] = 0x80; // alpha/padding byte: ignored
      } else {
        const [rm, gm, bm] = s.masks!;
        const put = (v: number, m: number) => {
          const shift = Math.log2(m & -m);
          const max = m / 2 ** shift;
          return Math.round((v * max) / 255) * 2 ** shift;
        };
        const v = put(s.rgb![3 * p], rm) + put(s.rgb![3 * p + 1], gm) + put(s.rgb![3 * p + 2], bm);
        if (s.bpp === 16) dv.setUint16(row + 2 * x, v, true);
        else dv.setUint32(row + 4 * x, v >>> 0, true);
      }
    }
  }
  return buf;
}

/** A PGM/PPM file with a comment in its header; binary samples above 255 are big-endian pairs. */
export function writePnm(magic: 'P2' | 'P3' | 'P5' | 'P6', samples: ArrayLike<number>, maxval: number, W: number, H: number): Uint8Array {
  const head = `${magic}\n# written by the test\n${W} ${H}\n${maxval}\n`;
  if (magic === 'P2' || magic === 'P3') return new TextEncoder().encode(head + Array.from(samples).join(' ') + '\n');
  const size = maxval > 255 ? 2 : 1;
  const out = new Uint8Array(head.length + samples.length * size);
  out.set(new TextEncoder().encode(head));
  for (let i = 0; i < samples.length; i++) {
    if (size === 2) out.set([samples[i] >> 8, samples[i] & 255], head.length + 2 * i);
    else out[head.length + i] = samples[i];
  }
  return out;
}
