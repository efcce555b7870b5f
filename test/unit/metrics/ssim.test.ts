/**
 * SSIM against (1) a naive per-window implementation written here, (2) reference numbers
 * from a NumPy/SciPy transcription of scikit-image's structural_similarity, and (3) exact cases.
 */
import { batchSsim, meanSsim, ssim } from '../../../src/metrics/ssim';

/** Direct definition: for every full 7×7 window, means and sample (co)variances by explicit loops. */
function naiveSsim(x: ArrayLike<number>, y: ArrayLike<number>, W: number, H: number, C: number): number {
  const win = 7;
  const n = win * win;
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    let count = 0;
    for (let y0 = 0; y0 + win <= H; y0++) {
      for (let x0 = 0; x0 + win <= W; x0++) {
        const at = (img: ArrayLike<number>, dy: number, dx: number) => img[((y0 + dy) * W + x0 + dx) * C + c];
        let mx = 0;
        let my = 0;
        for (let dy = 0; dy < win; dy++) for (let dx = 0; dx < win; dx++) {
          mx += at(x, dy, dx) / n;
          my += at(y, dy, dx) / n;
        }
        let vx = 0;
        let vy = 0;
        let cov = 0;
        for (let dy = 0; dy < win; dy++) for (let dx = 0; dx < win; dx++) {
          const a = at(x, dy, dx) - mx;
          const b = at(y, dy, dx) - my;
          vx += (a * a) / (n - 1);
          vy += (b * b) / (n - 1);
          cov += (a * b) / (n - 1);
        }
        sum += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        count += 1;
      }
    }
    total += sum / count;
  }
  return total / C;
}

/** The gray test pair: a[y,x] = ((7x + 13y) mod 17)/16, b = clip(a + 0.1·sin(1.3x + 0.7y), 0, 1); 12×16. */
function grayPair(): { a: Float64Array; b: Float64Array; W: number; H: number } {
  const W = 16;
  const H = 12;
  const a = new Float64Array(W * H);
  const b = new Float64Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = ((x * 7 + y * 13) % 17) / 16;
      a[y * W + x] = v;
      b[y * W + x] = Math.min(1, Math.max(0, v + 0.1 * Math.sin(x * 1.3 + y * 0.7)));
    }
  }
  return { a, b, W, H };
}

/** The RGB test pair: a[y,x,c] = ((5x + 3y + 11c) mod 13)/12, b = 0.8a + 0.1 + 0.05·cos(x + 2y + c); 9×10×3. */
function rgbPair(): { a: Float64Array; b: Float64Array; W: number; H: number } {
  const W = 10;
  const H = 9;
  const a = new Float64Array(W * H * 3);
  const b = new Float64Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * W + x) * 3 + c;
        a[i] = ((x * 5 + y * 3 + c * 11) % 13) / 12;
        b[i] = a[i] * 0.8 + 0.1 + 0.05 * Math.cos(x + 2 * y + c);
      }
    }
  }
  return { a, b, W, H };
}

/*
 * Reference values: scikit-image is not installed on the machine that produced these, so they come
 * from this line-by-line NumPy/SciPy transcription of skimage.metrics.structural_similarity
 * (gaussian_weights=False → scipy.ndimage.uniform_filter, use_sample_covariance=True, data_range=1,
 * crop of (win_size-1)//2 before the mean, channel mean for colour), run with numpy 2.4.6 / scipy 1.17.1:
 *
 *   import numpy as np
 *   from scipy.ndimage import uniform_filter
 *   def ssim_ref(x, y, win=7, R=1.0, K1=0.01, K2=0.03):
 *       NP = win * win; cov = NP / (NP - 1)
 *       f = lambda a: uniform_filter(a, size=win)
 *       ux, uy = f(x), f(y)
 *       vx = cov * (f(x * x) - ux * ux); vy = cov * (f(y * y) - uy * uy); vxy = cov * (f(x * y) - ux * uy)
 *       C1, C2 = (K1 * R) ** 2, (K2 * R) ** 2
 *       S = ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux ** 2 + uy ** 2 + C1) * (vx + vy + C2))
 *       p = (win - 1) // 2
 *       return S[p:-p, p:-p].mean(dtype=np.float64)
 *   Y, X = np.mgrid[0:12, 0:16].astype(np.float64)
 *   a = ((X * 7 + Y * 13) % 17) / 16
 *   b = np.clip(a + 0.1 * np.sin(X * 1.3 + Y * 0.7), 0, 1)
 *   print(repr(ssim_ref(a, b)))                                           # 0.9755385667765657
 *   Y, X, C = np.mgrid[0:9, 0:10, 0:3].astype(np.float64)
 *   a = ((X * 5 + Y * 3 + C * 11) % 13) / 12
 *   b = a * 0.8 + 0.1 + 0.05 * np.cos(X + 2 * Y + C)
 *   print(repr(np.mean([ssim_ref(a[..., c], b[..., c]) for c in range(3)])))  # 0.9676946251527333
 *
 * With scikit-image available, `structural_similarity(a, b, data_range=1)` (gray) and
 * `structural_similarity(a, b, data_range=1, channel_axis=-1)` (RGB) should print the same numbers.
 */
const REF_GRAY = 0.9755385667765657;
const REF_RGB = 0.9676946251527333;

describe('ssim', () => {
  it('is exactly 1 for identical images (gray and RGB)', () => {
    const { a, W, H } = grayPair();
    expect(ssim(a, a, { width: W, height: H })).toBeCloseTo(1, 14);
    const rgb = rgbPair();
    expect(ssim(rgb.a, rgb.a, { width: rgb.W, height: rgb.H, channels: 3 })).toBeCloseTo(1, 14);
  });

  it('matches a naive windowed implementation', () => {
    const g = grayPair();
    expect(ssim(g.b, g.a, { width: g.W, height: g.H })).toBeCloseTo(naiveSsim(g.b, g.a, g.W, g.H, 1), 12);
    const c = rgbPair();
    expect(ssim(c.b, c.a, { width: c.W, height: c.H, channels: 3 })).toBeCloseTo(naiveSsim(c.b, c.a, c.W, c.H, 3), 12);
  });

  it('does not drift on a tall image (sliding sums over 400 rows)', () => {
    const W = 9;
    const H = 400;
    const a = new Float64Array(W * H);
    const b = new Float64Array(W * H);
    for (let i = 0; i < a.length; i++) {
      a[i] = ((i * 37) % 101) / 100;
      b[i] = Math.min(1, Math.max(0, a[i] + 0.2 * Math.sin(i * 0.37)));
    }
    expect(ssim(a, b, { width: W, height: H })).toBeCloseTo(naiveSsim(a, b, W, H, 1), 12);
  });

  it('matches the scikit-image algorithm reference numbers', () => {
    const g = grayPair();
    expect(ssim(g.a, g.b, { width: g.W, height: g.H })).toBeCloseTo(REF_GRAY, 12);
    const c = rgbPair();
    expect(ssim(c.a, c.b, { width: c.W, height: c.H, channels: 3 })).toBeCloseTo(REF_RGB, 12);
  });

  it('is symmetric for in-range images', () => {
    const g = grayPair();
    expect(ssim(g.a, g.b, { width: g.W, height: g.H })).toBeCloseTo(ssim(g.b, g.a, { width: g.W, height: g.H }), 14);
  });

  it('handles the smallest image (7×7: one window) by hand', () => {
    // x = 0,1,…,48 scaled by 1/48; y = 1 − x. Means 0.5 and 0.5; var_x = var_y = sample variance; cov = −var.
    const x = Float64Array.from({ length: 49 }, (_, i) => i / 48);
    const y = x.map((v) => 1 - v);
    let v = 0;
    for (const t of x) v += (t - 0.5) ** 2;
    v /= 48;
    const c1 = 1e-4;
    const c2 = 9e-4;
    const expected = ((2 * 0.25 + c1) * (-2 * v + c2)) / ((0.5 + c1) * (2 * v + c2));
    expect(ssim(x, y, { width: 7, height: 7 })).toBeCloseTo(expected, 14);
  });

  it('clips the first image to [0, 1] unless told not to', () => {
    const g = grayPair();
    const over = g.a.map((v) => v * 1.5 - 0.25);
    const clipped = over.map((v) => Math.min(1, Math.max(0, v)));
    const opts = { width: g.W, height: g.H };
    expect(ssim(over, g.a, opts)).toBeCloseTo(ssim(clipped, g.a, { ...opts, clip: false }), 14);
    expect(ssim(over, g.a, { ...opts, clip: false })).not.toBeCloseTo(ssim(clipped, g.a, opts), 6);
  });

  it('averages over a batch', () => {
    const g = grayPair();
    const n = g.W * g.H;
    const out = new Float64Array(2 * n);
    const ref = new Float64Array(2 * n);
    out.set(g.a, 0);
    ref.set(g.a, 0);
    out.set(g.a, n);
    ref.set(g.b, n);
    const per = batchSsim(out, ref, [2, g.H, g.W, 1]);
    expect(per[0]).toBeCloseTo(1, 14);
    expect(per[1]).toBeCloseTo(REF_GRAY, 12);
    expect(meanSsim(out, ref, [2, g.H, g.W, 1])).toBeCloseTo((1 + REF_GRAY) / 2, 12);
  });

  it('rejects bad geometry', () => {
    const a = new Float64Array(36);
    expect(() => ssim(a, a, { width: 6, height: 6 })).toThrow(/exceeds/);
    expect(() => ssim(a, a, { width: 5, height: 6 })).toThrow(/does not match/);
    expect(() => ssim(a, a, { width: 6, height: 6, winSize: 4 })).toThrow(/odd/);
  });

  it('takes milliseconds on a 512×512 image', () => {
    const W = 512;
    const a = new Float32Array(W * W);
    const b = new Float32Array(W * W);
    for (let i = 0; i < a.length; i++) {
      a[i] = (i % 251) / 250;
      b[i] = Math.min(1, Math.max(0, a[i] + 0.05 * Math.sin(i)));
    }
    ssim(a, b, { width: W, height: W }); // warm-up (JIT)
    const t0 = process.hrtime.bigint();
    const v = ssim(a, b, { width: W, height: W });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(v).toBeGreaterThan(0);
    expect(v).toBeLessThan(1);
    // Generous bound so a loaded CI machine does not flake; typically ~10 ms.
    expect(ms).toBeLessThan(500);
  });
});
