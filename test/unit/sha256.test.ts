/**
 * The core's pure SHA-256 (src/sha256.ts) against node:crypto, the independent reference,
 * across the padding boundaries (55/56/64 bytes) and multi-block and UTF-8 inputs.
 */
import { createHash } from 'node:crypto';
import { sha256Bytes } from '../../src/sha256';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256Bytes', () => {
  const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000];
  for (const n of lengths) {
    it(`matches node:crypto for ${n} bytes`, () => {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff);
      expect(hex(sha256Bytes(data))).toBe(createHash('sha256').update(data).digest('hex'));
    });
  }

  it('hashes strings as UTF-8', () => {
    const s = JSON.stringify([42, 'noise', 'σ', 3]);
    expect(hex(sha256Bytes(s))).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
  });
});
