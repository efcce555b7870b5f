/**
 * Seeded Gaussian noise for the page, σ on the 0–255 scale like the job files
 * (x + (σ/255)·N(0,1), optionally clipped to [0,1]). The generator is a small self-contained
 * xoshiro128** seeded through splitmix32, so page and Node draw the same noise for a seed
 * without src/random.ts (which hashes seeds with node:crypto).
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded stream of uniform and standard normal numbers (not for cryptography). */
export class NoiseRng {
  private s: Uint32Array;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const next = splitmix32(seed);
    this.s = new Uint32Array([next(), next(), next(), next()]);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** 32 random bits (xoshiro128**). */
  nextUint32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform in (0, 1): never 0, so log() is safe. */
  uniform(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const a = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A noisy copy of `clean`: clean + (σ/255)·N(0,1) per element.
 * @param sigma standard deviation on the 0–255 scale (0 returns a copy)
 * @param clip clip the result to [0, 1]
 * @throws RangeError when sigma is negative or not finite
 */
export function addGaussianNoise(clean: Float32Array, sigma: number, seed: number, clip: boolean): Float32Array {
  if (!Number.isFinite(sigma) || sigma < 0) throw new RangeError(`sigma must be a finite number >= 0, got ${sigma}`);
  const out = new Float32Array(clean.length);
  const std = sigma / 255;
  const rng = new NoiseRng(seed);
  for (let i = 0; i < clean.length; i++) {
    const v = sigma === 0 ? clean[i] : clean[i] + std * rng.normal();
    out[i] = clip ? (v < 0 ? 0 : v > 1 ? 1 : v) : v;
  }
  return out;
}
