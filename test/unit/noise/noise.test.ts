/** Noise models: statistics, clipping, determinism, order independence, schema and registry. */
import { z } from 'zod';
import { OnnxtuneError } from '../../../src/errors';
import {
  applyNoise,
  getNoiseModel,
  logFactorial,
  NOISE_MODELS,
  NOISE_TYPES,
  noiseSchema,
  samplePoisson,
  type NoiseConfig,
} from '../../../src/noise';
import { createRng, forkRng } from '../../../src/random';

const N = 100000;

function meanVar(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, variance: v / (xs.length - 1) };
}

const cfg = (c: Record<string, unknown>): NoiseConfig => noiseSchema.parse(c);

describe('gaussian', () => {
  it('adds N(0, σ/255) without clipping by default', () => {
    const clean = new Float32Array(N).fill(0.5);
    const noisy = applyNoise(cfg({ type: 'gaussian', sigma: 25 }), clean, createRng(1));
    const added = noisy.map((v) => v - 0.5);
    const { mean, variance } = meanVar(added);
    const std = 25 / 255;
    expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(N));
    expect(Math.abs(Math.sqrt(variance) / std - 1)).toBeLessThan(0.02);
    expect(clean[0]).toBe(0.5); // input untouched
    // σ = 127.5: about 32% of values leave [0, 1] and stay there.
    const wide = applyNoise(cfg({ type: 'gaussian', sigma: 127.5 }), clean, createRng(2));
    expect(wide.some((v) => v < 0) && wide.some((v) => v > 1)).toBe(true);
  });

  it('clip: true reproduces the MNIST tutorial noise clip(x + 0.5·N(0, 1), 0, 1)', () => {
    const clean = new Float32Array(N).fill(0.5);
    const noisy = applyNoise(cfg({ type: 'gaussian', sigma: 127.5, clip: true }), clean, createRng(3));
    expect(Math.min(...noisy)).toBe(0);
    expect(Math.max(...noisy)).toBe(1);
    // P(0.5 + 0.5·Z <= 0) = P(Z <= −1) = 0.1587 ends up exactly at 0 (likewise at 1).
    const zeros = noisy.filter((v) => v === 0).length / N;
    const ones = noisy.filter((v) => v === 1).length / N;
    expect(Math.abs(zeros - 0.1587)).toBeLessThan(0.006);
    expect(Math.abs(ones - 0.1587)).toBeLessThan(0.006);
    // Same draws as the unclipped model, clipped afterwards.
    const raw = applyNoise(cfg({ type: 'gaussian', sigma: 127.5 }), clean, createRng(3));
    expect(noisy).toEqual(raw.map((v) => Math.min(1, Math.max(0, v))));
  });
});

describe('poisson', () => {
  it('samples Poisson(λ) with mean λ and variance λ on both sampler branches', () => {
    for (const lambda of [0.3, 4, 12, 80, 600]) {
      const rng = createRng(`poisson-${lambda}`);
      const xs = Float64Array.from({ length: N }, () => samplePoisson(lambda, rng));
      const { mean, variance } = meanVar(xs);
      expect(xs.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / N));
      // Var of the sample variance ≈ (μ4 − σ⁴)/n with μ4 = λ(1 + 3λ) for Poisson.
      const varOfVar = (lambda * (1 + 3 * lambda) - lambda * lambda) / N;
      expect(Math.abs(variance - lambda)).toBeLessThan(5 * Math.sqrt(varOfVar));
    }
  });

  it('matches the Poisson(15) probability mass function (PTRS branch)', () => {
    const lambda = 15;
    const rng = createRng('pmf');
    const counts = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const k = samplePoisson(lambda, rng);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (let k = 5; k <= 28; k++) {
      const p = Math.exp(-lambda + k * Math.log(lambda) - logFactorial(k));
      const observed = (counts.get(k) ?? 0) / N;
      expect(Math.abs(observed - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N) + 1e-4);
    }
  });

  it('logFactorial is exact on the table and continuous into Stirling', () => {
    expect(logFactorial(0)).toBe(0);
    expect(logFactorial(5)).toBeCloseTo(Math.log(120), 12);
    let direct = 0;
    for (let k = 1; k <= 300; k++) direct += Math.log(k);
    expect(logFactorial(300)).toBeCloseTo(direct, 9);
  });

  it('scales by the peak: E[x\u2032] = x and Var[x\u2032] = x / peak; λ = 0 stays 0', () => {
    const clean = new Float32Array(N).fill(0.4);
    clean[0] = 0;
    const noisy = applyNoise(cfg({ type: 'poisson', peak: 30 }), clean, createRng(4));
    expect(noisy[0]).toBe(0);
    const { mean, variance } = meanVar(noisy.subarray(1));
    expect(Math.abs(mean - 0.4)).toBeLessThan(5 * Math.sqrt(0.4 / 30 / N));
    expect(Math.abs(variance / (0.4 / 30) - 1)).toBeLessThan(0.03);
    const bright = new Float32Array(1000).fill(0.9);
    const clipped = applyNoise(cfg({ type: 'poisson', peak: 2, clip: true }), bright, createRng(5));
    expect(Math.max(...clipped)).toBeLessThanOrEqual(1);
  });
});

describe('salt-pepper', () => {
  it('replaces a fraction `amount` of elements, salt with probability salt_vs_pepper', () => {
    const clean = new Float32Array(N).fill(0.5);
    const noisy = applyNoise(cfg({ type: 'salt-pepper', amount: 0.2, salt_vs_pepper: 0.3 }), clean, createRng(6));
    const salt = noisy.filter((v) => v === 1).length / N;
    const pepper = noisy.filter((v) => v === 0).length / N;
    const kept = noisy.filter((v) => v === 0.5).length / N;
    expect(salt + pepper + kept).toBeCloseTo(1, 12);
    expect(Math.abs(salt - 0.06)).toBeLessThan(0.004);
    expect(Math.abs(pepper - 0.14)).toBeLessThan(0.005);
    expect(cfg({ type: 'salt-pepper', amount: 0.1 })).toMatchObject({ salt_vs_pepper: 0.5 });
  });
});

describe('speckle', () => {
  it('adds x·N(0, σ/255): zero stays zero, std scales with x', () => {
    const clean = new Float32Array(N).fill(0.8);
    clean[0] = 0;
    const noisy = applyNoise(cfg({ type: 'speckle', sigma: 51 }), clean, createRng(7));
    expect(noisy[0]).toBe(0);
    const { mean, variance } = meanVar(noisy.subarray(1));
    expect(Math.abs(mean - 0.8)).toBeLessThan(0.002);
    expect(Math.abs(Math.sqrt(variance) / (0.8 * 0.2) - 1)).toBeLessThan(0.02);
  });
});

describe('determinism and order independence', () => {
  const models: Array<Record<string, unknown>> = [
    { type: 'gaussian', sigma: 25 },
    { type: 'poisson', peak: 20 },
    { type: 'salt-pepper', amount: 0.1 },
    { type: 'speckle', sigma: 30 },
  ];
  const images = Array.from({ length: 6 }, (_, i) =>
    Float32Array.from({ length: 64 }, (_, j) => ((i * 64 + j) % 97) / 96),
  );

  for (const m of models) {
    it(`${String(m.type)}: same seed → same noise; forked streams do not depend on processing order`, () => {
      const c = cfg(m);
      expect(applyNoise(c, images[0], createRng(11))).toEqual(applyNoise(c, images[0], createRng(11)));
      expect(applyNoise(c, images[0], createRng(11))).not.toEqual(applyNoise(c, images[0], createRng(12)));
      const run = (order: number[]) => {
        const out = new Map<string, Float32Array>();
        for (const i of order) {
          for (let r = 0; r < 2; r++) {
            out.set(`${i}/${r}`, applyNoise(c, images[i], forkRng(42, 'noise', 'train', i, r)));
          }
        }
        return out;
      };
      const a = run([0, 1, 2, 3, 4, 5]);
      const b = run([5, 3, 1, 0, 2, 4]);
      for (const [k, v] of a) expect(b.get(k)).toEqual(v);
      expect(a.get('0/0')).not.toEqual(a.get('0/1'));
    });
  }
});

describe('noise schema', () => {
  it('fills defaults and requires the type-specific fields', () => {
    expect(cfg({ type: 'gaussian', sigma: 25 })).toEqual({ type: 'gaussian', sigma: 25, clip: false, realizations: 1 });
    const poisson = cfg({ type: 'poisson', peak: 10, realizations: 4 });
    expect(poisson).toEqual({ type: 'poisson', peak: 10, clip: false, realizations: 4 });
    expect(noiseSchema.safeParse({ type: 'poisson' }).success).toBe(false);
  });

  it('is strict and range-checked', () => {
    for (const bad of [
      { type: 'gaussian', sigma: 25, peak: 3 },
      { type: 'gaussian', sigma: 0 },
      { type: 'gaussian', sigma: 256 },
      { type: 'gaussian', sigma: 25, realizations: 0 },
      { type: 'gaussian', sigma: 25, realizations: 1.5 },
      { type: 'salt-pepper', amount: 0 },
      { type: 'salt-pepper', amount: 0.1, salt_vs_pepper: 1.1 },
      { type: 'poisson', peak: -1 },
      { type: 'blur', sigma: 3 },
    ]) {
      expect(noiseSchema.safeParse(bad).success).toBe(false);
    }
    expect(noiseSchema.safeParse({ type: 'gaussian', sigma: 255 }).success).toBe(true);
  });

  it('describes every field of every option', () => {
    const options = (noiseSchema as unknown as { options: z.ZodObject[] }).options;
    const tags = options.map((o) => (o.shape.type as unknown as { value: string }).value);
    expect(tags.sort()).toEqual([...NOISE_TYPES].sort());
    for (const o of options) {
      for (const [key, field] of Object.entries(o.shape)) {
        expect([key, (field as z.ZodType).description]).toEqual([key, expect.any(String)]);
      }
    }
  });
});

describe('NOISE_MODELS registry', () => {
  it('is frozen and keyed by config type', () => {
    expect(Object.isFrozen(NOISE_MODELS)).toBe(true);
    expect(Object.keys(NOISE_MODELS)).toEqual(['gaussian', 'poisson', 'salt-pepper', 'speckle']);
    const m = getNoiseModel('speckle').create({ type: 'speckle', sigma: 10, clip: false, realizations: 1 });
    expect(m.apply(new Float32Array([0]), createRng(0))).toEqual(new Float32Array([0]));
  });

  it('lists the valid names on a lookup miss', () => {
    expect(() => getNoiseModel('blur')).toThrow(OnnxtuneError);
    const expected = "Unknown noise type 'blur'. Valid types: gaussian, poisson, salt-pepper, speckle.";
    expect(() => getNoiseModel('blur')).toThrow(expected);
    expect(() => getNoiseModel('toString')).toThrow(/Valid types/);
  });
});

describe('gaussian sigma range (blind denoising)', () => {
  it('draws one level per image within [low, high], reproducibly', () => {
    const cfg = { type: 'gaussian' as const, sigma: [10, 50] as [number, number], clip: false, realizations: 1 };
    const clean = new Float32Array(20000).fill(0.5);
    const stds: number[] = [];
    for (let i = 0; i < 20; i++) {
      const noisy = applyNoise(cfg, clean, forkRng(3, 'img', i));
      let ss = 0;
      for (const v of noisy) ss += (v - 0.5) ** 2;
      stds.push(Math.sqrt(ss / noisy.length) * 255);
      expect(Array.from(applyNoise(cfg, clean, forkRng(3, 'img', i)).subarray(0, 5))).toEqual(Array.from(noisy.subarray(0, 5)));
    }
    expect(Math.min(...stds)).toBeGreaterThan(9);
    expect(Math.max(...stds)).toBeLessThan(51);
    expect(Math.max(...stds) - Math.min(...stds)).toBeGreaterThan(10); // levels really vary
  });

  it('rejects an inverted range', () => {
    expect(noiseSchema.safeParse({ type: 'gaussian', sigma: [50, 10] }).success).toBe(false);
  });

  it('a range may start at 0 (DnCNN-B draws from [0, 55]); a fixed level and the high end may not be 0', () => {
    expect(noiseSchema.safeParse({ type: 'gaussian', sigma: [0, 55] }).success).toBe(true);
    expect(noiseSchema.safeParse({ type: 'gaussian', sigma: 0 }).success).toBe(false);
    expect(noiseSchema.safeParse({ type: 'gaussian', sigma: [0, 0] }).success).toBe(false);
    expect(noiseSchema.safeParse({ type: 'gaussian', sigma: [-1, 5] }).success).toBe(false);
  });
});
