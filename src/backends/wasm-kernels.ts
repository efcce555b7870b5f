/**
 * Training kernels that TF.js 4.22 backends lack or get wrong, written with other ops and
 * registered per backend with `tf.registerKernel`. wasm ships no `Conv2DBackpropFilter` (conv
 * training fails), a slow `Conv2DBackpropInput`, a `MaxPoolGrad` that is wrong with 'same'
 * padding and resize gradients that ignore `halfPixelCenters`; the cpu backend's resize gradients
 * are wrong for batch > 1 (nearest) and non-square images (bilinear). Background and numbers:
 * /work/shared/notes/backends.md ("Making wasm train convolutions") and test/backends/.
 */
import type * as TfModule from '@tensorflow/tfjs';

type Tf = typeof TfModule;
type Tensor = TfModule.Tensor;
type Tensor4D = TfModule.Tensor4D;
type KernelFunc = TfModule.KernelFunc;
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
type PadAttr = 'valid' | 'same' | number | ExplicitPadding;
type Pair = [number, number];

/** Marks kernel functions registered by this module, so a second call changes nothing. */
const MARK = Symbol.for('onnxtune.trainingKernel');

/** Kernel names registered for 'wasm' by registerWasmTrainingKernels. */
export const WASM_TRAINING_KERNELS = Object.freeze([
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'ResizeNearestNeighborGrad',
  'ResizeBilinearGrad',
  'UnsortedSegmentSum',
] as const);
/** Kernel names registered for 'cpu' by registerCpuTrainingKernels. */
export const CPU_TRAINING_KERNELS = Object.freeze([
  'Conv2DBackpropFilter',
  'ResizeNearestNeighborGrad',
  'ResizeBilinearGrad',
] as const);
export type TrainingKernelName = (typeof WASM_TRAINING_KERNELS)[number];

const FACTORIES: Readonly<Record<TrainingKernelName, (tf: Tf) => KernelFunc>> = Object.freeze({
  Conv2DBackpropFilter: (tf: Tf) => conv2dBackpropFilter(tf),
  Conv2DBackpropInput: (tf: Tf) => conv2dBackpropInput(tf),
  DepthwiseConv2dNativeBackpropFilter: (tf: Tf) => depthwiseBackpropFilter(tf),
  DepthwiseConv2dNativeBackpropInput: (tf: Tf) => depthwiseBackpropInput(tf),
  MaxPoolGrad: (tf: Tf) => maxPoolGrad(tf),
  ResizeNearestNeighborGrad: (tf: Tf) => resizeGrad(tf, 'nearest'),
  ResizeBilinearGrad: (tf: Tf) => resizeGrad(tf, 'bilinear'),
  UnsortedSegmentSum: (tf: Tf) => unsortedSegmentSum(tf),
});

interface ConvAttrs {
  strides: number | Pair;
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | Pair;
}

interface Geometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  top: number;
  left: number;
}

function checkNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(
      `${kernel} (onnxtune training kernel): dataFormat '${dataFormat}' is not supported; only 'NHWC'. ` +
        'Transpose NCHW tensors to NHWC before the convolution.',
    );
  }
}

function checkNoDilation(kernel: string, dilations: number | Pair | undefined): void {
  const d = dilations === undefined ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (d[0] !== 1 || d[1] !== 1) {
    throw new Error(`${kernel} (onnxtune training kernel): dilations [${d.join(', ')}] are not supported; only 1.`);
  }
}

/** Forward-convolution geometry, computed exactly as tfjs-core does for the forward op. */
function geometry(
  tf: Tf,
  inShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): Geometry {
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    inH: info.inHeight,
    inW: info.inWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * Pads (positive amounts) or crops (negative amounts) axes 1 and 2 of an NHWC tensor.
 * Cropping happens when the forward conv never read the last rows/columns ('valid', stride 2).
 */
function padOrCrop(tf: Tf, x: Tensor4D, top: number, bottom: number, left: number, right: number): Tensor4D {
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = y.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    const hh = h - t - Math.max(0, -bottom);
    const ww = w - l - Math.max(0, -right);
    y = tf.slice(y, [0, t, l, 0], [n, hh, ww, c]);
  }
  const pads: Pair[] = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  if (pads[1][0] || pads[1][1] || pads[2][0] || pads[2][1]) y = tf.pad(y, pads);
  return y;
}

/**
 * Inserts (s-1) zeros after every row/column of an NHWC tensor: [N,H,W,C] → [N,H·sh,W·sw,C],
 * with one 6-D pad. The trailing zeros are harmless: callers pad/crop to the exact extent after.
 */
function zeroInsert(tf: Tf, x: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/** Inputs arrive as Tensors from the ops; a bare TensorInfo is wrapped (and freed by the tidy). */
function tensorInput(tf: Tf, inputs: TfModule.NamedTensorInfoMap, name: string, kernel: string): Tensor {
  const info = inputs[name];
  if (!info) throw new Error(`${kernel} (onnxtune training kernel): missing input '${name}'.`);
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

function input(tf: Tf, inputs: TfModule.NamedTensorInfoMap, name: string, kernel: string): Tensor4D {
  const t = tensorInput(tf, inputs, name, kernel);
  if (t.rank !== 4) {
    throw new Error(`${kernel} (onnxtune training kernel): input '${name}' must be rank 4, got rank ${t.rank}.`);
  }
  return t as Tensor4D;
}

/** Wraps a body that computes the output with other ops; intermediates are freed by tf.tidy. */
function kernel<A>(tf: Tf, body: (inputs: TfModule.NamedTensorInfoMap, attrs: A) => Tensor): KernelFunc {
  return ({ inputs, attrs }) => tf.tidy(() => body(inputs, attrs as unknown as A));
}

type FilterAttrs = ConvAttrs & { filterShape: [number, number, number, number] };
type InputAttrs = ConvAttrs & { inputShape: [number, number, number, number] };

/**
 * dW for an NHWC conv: a stride-1 conv of the input (channels as batch, batch as channels)
 * with dy as the filter, dilated by the forward strides.
 * dW[a,b,ci,co] = Σ_{n,i,j} xpad[n, a + i·sh, b + j·sw, ci] · dy[n,i,j,co].
 */
function conv2dBackpropFilter(tf: Tf): KernelFunc {
  const name = 'Conv2DBackpropFilter';
  return kernel<FilterAttrs>(tf, (inputs, a) => {
    checkNhwc(name, a.dataFormat);
    const x = input(tf, inputs, 'x', name);
    const dy = input(tf, inputs, 'dy', name);
    const g = geometry(tf, x.shape, a.filterShape, a, false);
    checkDy(name, dy.shape, g);
    const bottom = g.kh + (g.outH - 1) * g.sh - g.inH - g.top;
    const right = g.kw + (g.outW - 1) * g.sw - g.inW - g.left;
    const xs = padOrCrop(tf, tf.transpose(x, [3, 1, 2, 0]), g.top, bottom, g.left, right); // [Cin,H',W',N]
    const f = tf.transpose(dy, [1, 2, 0, 3]); // [Ho,Wo,N,Cout]
    const dw = tf.conv2d(xs, f, 1, 'valid', 'NHWC', [g.sh, g.sw]); // [Cin,kh,kw,Cout]
    return tf.transpose(dw, [1, 2, 0, 3]);
  });
}

/**
 * dx for an NHWC conv (and the forward pass of conv2dTranspose): insert sh-1 / sw-1 zeros
 * between dy's rows/columns, pad by k-1-pad, and correlate with the spatially flipped
 * filter whose in/out channels are swapped.
 */
function conv2dBackpropInput(tf: Tf): KernelFunc {
  const name = 'Conv2DBackpropInput';
  return kernel<InputAttrs>(tf, (inputs, a) => {
    checkNhwc(name, a.dataFormat);
    const dy = input(tf, inputs, 'dy', name);
    const filter = input(tf, inputs, 'filter', name);
    const g = geometry(tf, a.inputShape, filter.shape, a, false);
    checkDy(name, dy.shape, g);
    const padded = spreadAndPad(tf, dy, g);
    const wf = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D; // [kh,kw,Cout,Cin]
    return tf.conv2d(padded, wf, 1, 'valid');
  });
}

/** dy with zeros inserted and padded/cropped so that a 'valid' stride-1 k×k correlation gives H×W. */
function spreadAndPad(tf: Tf, dy: Tensor4D, g: Geometry): Tensor4D {
  const up = zeroInsert(tf, dy, g.sh, g.sw);
  const top = g.kh - 1 - g.top;
  const left = g.kw - 1 - g.left;
  const bottom = g.inH + g.kh - 1 - top - up.shape[1];
  const right = g.inW + g.kw - 1 - left - up.shape[2];
  return padOrCrop(tf, up, top, bottom, left, right);
}

/**
 * dW for an NHWC depthwise conv (channel multiplier M): one depthwise conv whose "channels"
 * are (batch, channel) pairs and whose filter is dy, dilated by the strides; then a sum over batch.
 */
function depthwiseBackpropFilter(tf: Tf): KernelFunc {
  const name = 'DepthwiseConv2dNativeBackpropFilter';
  return kernel<FilterAttrs>(tf, (inputs, a) => {
    checkNoDilation(name, a.dilations);
    const x = input(tf, inputs, 'x', name);
    const dy = input(tf, inputs, 'dy', name);
    const g = geometry(tf, x.shape, a.filterShape, a, true);
    checkDy(name, dy.shape, g);
    const [n, , , c] = x.shape;
    const m = a.filterShape[3];
    const bottom = g.kh + (g.outH - 1) * g.sh - g.inH - g.top;
    const right = g.kw + (g.outW - 1) * g.sw - g.inW - g.left;
    // [1,H,W,N·C]: channel index n·C + c.
    const xs = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, g.inH, g.inW, n * c]) as Tensor4D;
    const xp = padOrCrop(tf, xs, g.top, bottom, g.left, right);
    // dy [N,Ho,Wo,C·M] → filter [Ho,Wo,N·C,M].
    const dy5 = tf.reshape(dy, [n, g.outH, g.outW, c, m]);
    const f = tf.reshape(tf.transpose(dy5, [1, 2, 0, 3, 4]), [g.outH, g.outW, n * c, m]) as Tensor4D;
    const out = tf.depthwiseConv2d(xp, f, 1, 'valid', 'NHWC', [g.sh, g.sw]); // [1,kh,kw,N·C·M]
    return tf.sum(tf.reshape(out, [g.kh, g.kw, n, c, m]), 2);
  });
}

/**
 * dx for an NHWC depthwise conv: zero insertion + pad as for Conv2DBackpropInput, then a
 * stride-1 depthwise conv with the flipped filter; for M > 1, per (c,m) pair and summed over m.
 */
function depthwiseBackpropInput(tf: Tf): KernelFunc {
  const name = 'DepthwiseConv2dNativeBackpropInput';
  return kernel<InputAttrs>(tf, (inputs, a) => {
    checkNoDilation(name, a.dilations);
    const dy = input(tf, inputs, 'dy', name);
    const filter = input(tf, inputs, 'filter', name);
    const g = geometry(tf, a.inputShape, filter.shape, a, true);
    checkDy(name, dy.shape, g);
    const [n] = dy.shape;
    const [kh, kw, c, m] = filter.shape;
    const padded = spreadAndPad(tf, dy, g); // [N,H+kh-1,W+kw-1,C·M]
    const flipped = tf.reverse(filter, [0, 1]) as Tensor4D;
    if (m === 1) return tf.depthwiseConv2d(padded, flipped, 1, 'valid');
    const per = tf.depthwiseConv2d(padded, tf.reshape(flipped, [kh, kw, c * m, 1]) as Tensor4D, 1, 'valid');
    return tf.sum(tf.reshape(per, [n, g.inH, g.inW, c, m]), 4);
  });
}

interface PoolAttrs {
  filterSize: number | Pair;
  strides: number | Pair;
  pad: PadAttr;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * dx for an NHWC max pool. wasm's own MaxPoolGrad is wrong with 'same' padding. For each
 * window offset (a,b), the strided view of the (−∞-padded) input that the forward pool read
 * there is compared with the pool's output; the first offset in row-major order that holds the
 * max gets dy (the cpu backend's tie rule). Each offset's share is then spread back with
 * zero insertion; non-overlapping pools (k = s) interleave all shares with one transpose instead.
 */
function maxPoolGrad(tf: Tf): KernelFunc {
  const name = 'MaxPoolGrad';
  return kernel<PoolAttrs>(tf, (inputs, a) => {
    const dy = input(tf, inputs, 'dy', name);
    const x = input(tf, inputs, 'input', name);
    const y = input(tf, inputs, 'output', name);
    const info = tf.backend_util.computePool2DInfo(x.shape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
    const [n, h, w, c] = x.shape;
    const { top, left } = info.padInfo;
    const ph = Math.max(h + top, (oh - 1) * sh + kh); // padded extent actually read, ≥ the input
    const pw = Math.max(w + left, (ow - 1) * sw + kw);
    const xp = tf.pad(x, [[0, 0], [top, ph - h - top], [left, pw - w - left], [0, 0]], -Infinity);
    const shares: Tensor4D[] = [];
    let taken: Tensor | undefined;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const end = [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c];
        const view = tf.stridedSlice(xp, [0, i, j, 0], end, [1, sh, sw, 1]);
        let hit = tf.equal(view, y);
        if (taken) hit = tf.logicalAnd(hit, tf.logicalNot(taken));
        taken = taken ? tf.logicalOr(taken, hit) : hit;
        shares.push(tf.where(hit, dy, tf.zerosLike(dy)) as Tensor4D);
      }
    }
    let dxp: Tensor4D;
    if (kh === sh && kw === sw) {
      // [kh·kw,N,oh,ow,C] → [N,oh,kh,ow,kw,C] → [N,oh·kh,ow·kw,C]
      const stacked = tf.reshape(tf.stack(shares), [kh, kw, n, oh, ow, c]);
      dxp = tf.reshape(tf.transpose(stacked, [2, 3, 0, 4, 1, 5]), [n, oh * kh, ow * kw, c]) as Tensor4D;
      dxp = padOrCrop(tf, dxp, 0, ph - oh * kh, 0, pw - ow * kw);
    } else {
      const placed = shares.map((share, k) => {
        const i = Math.floor(k / kw);
        const j = k % kw;
        const up = zeroInsert(tf, share, sh, sw);
        return padOrCrop(tf, up, i, ph - i - up.shape[1], j, pw - j - up.shape[2]);
      });
      dxp = tf.addN(placed);
    }
    return tf.slice(dxp, [0, top, left, 0], [n, h, w, c]);
  });
}

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Interpolation matrices [out, in] per axis, read off the forward op itself (a small cache). */
const resizeMatrices = new Map<string, Float32Array>();
const RESIZE_CACHE_LIMIT = 64;

function resizeMatrix(
  tf: Tf,
  kind: 'nearest' | 'bilinear',
  inSize: number,
  outSize: number,
  a: ResizeAttrs,
): Float32Array {
  const key = `${kind}|${inSize}|${outSize}|${a.alignCorners}|${a.halfPixelCenters}`;
  let m = resizeMatrices.get(key);
  if (!m) {
    // Resizing a [1,in,1,in] identity image along H gives out[i, h] = weight of source row h for row i.
    m = tf.tidy(() => {
      const eye = tf.reshape(tf.eye(inSize), [1, inSize, 1, inSize]) as Tensor4D;
      const r =
        kind === 'nearest'
          ? tf.image.resizeNearestNeighbor(eye, [outSize, 1], a.alignCorners, a.halfPixelCenters)
          : tf.image.resizeBilinear(eye, [outSize, 1], a.alignCorners, a.halfPixelCenters);
      return r.dataSync() as Float32Array;
    });
    if (resizeMatrices.size >= RESIZE_CACHE_LIMIT) resizeMatrices.clear();
    resizeMatrices.set(key, m);
  }
  return m;
}

/** Repetition factor k when m is the "each source row k times" pattern of integer upsampling, else 0. */
function repeatFactor(m: Float32Array, inSize: number, outSize: number): number {
  if (outSize % inSize !== 0) return 0;
  const k = outSize / inSize;
  for (let i = 0; i < outSize; i++) {
    for (let h = 0; h < inSize; h++) {
      if (m[i * inSize + h] !== (Math.floor(i / k) === h ? 1 : 0)) return 0;
    }
  }
  return k;
}

/**
 * dx for resizeNearestNeighbor / resizeBilinear. wasm's own ignore halfPixelCenters; cpu's are
 * wrong for batch > 1 (nearest) and non-square images (bilinear). Both resizes are separable,
 * out = Ry·x·Rxᵀ, with Ry/Rx read off the forward op, so dx = Ryᵀ·dy·Rx as two batched
 * matmuls; integer nearest upsampling (the UpSampling2D case) is a reshape + sum.
 */
function resizeGrad(tf: Tf, kind: 'nearest' | 'bilinear'): KernelFunc {
  const name = kind === 'nearest' ? 'ResizeNearestNeighborGrad' : 'ResizeBilinearGrad';
  return kernel<ResizeAttrs>(tf, (inputs, a) => {
    const images = input(tf, inputs, 'images', name);
    const dy = input(tf, inputs, 'dy', name);
    const [n, h, w, c] = images.shape;
    const [, oh, ow] = dy.shape;
    const ry = resizeMatrix(tf, kind, h, oh, a);
    const rx = resizeMatrix(tf, kind, w, ow, a);
    if (kind === 'nearest') {
      const kh = repeatFactor(ry, h, oh);
      const kw = repeatFactor(rx, w, ow);
      if (kh && kw) return tf.sum(tf.reshape(dy, [n, h, kh, w, kw, c]), [2, 4]);
    }
    const rows = tf.matMul(tf.tensor2d(ry, [oh, h]), tf.reshape(dy, [n, oh, ow * c]), true, false); // [N,H,ow·C]
    const cols = tf.matMul(tf.tensor2d(rx, [ow, w]), tf.reshape(rows, [n * h, ow, c]), true, false); // [N·H,W,C]
    return tf.reshape(cols, [n, h, w, c]);
  });
}

/** unsortedSegmentSum (the gradient of gather) as oneHot(ids)ᵀ · x; wasm has no such kernel. */
function unsortedSegmentSum(tf: Tf): KernelFunc {
  const name = 'UnsortedSegmentSum';
  return kernel<{ numSegments: number }>(tf, (inputs, a) => {
    const x = tensorInput(tf, inputs, 'x', name);
    const ids = tensorInput(tf, inputs, 'segmentIds', name);
    const count = ids.size;
    const rest: number[] = (x.shape as number[]).slice(ids.rank);
    const inner = rest.reduce((p: number, d: number) => p * d, 1);
    // Out-of-range ids give all-zero one-hot rows, so they are dropped as the op specifies.
    const oneHot = tf.oneHot(tf.cast(tf.reshape(ids, [count]), 'int32'), a.numSegments);
    const xf = tf.reshape(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), [count, inner]);
    const out = tf.reshape(tf.matMul(tf.cast(oneHot, 'float32'), xf, true, false), [a.numSegments, ...rest]);
    return x.dtype === 'float32' ? out : tf.cast(out, x.dtype);
  });
}

function checkDy(kernel: string, dyShape: number[], g: Geometry): void {
  if (dyShape[1] !== g.outH || dyShape[2] !== g.outW) {
    throw new Error(
      `${kernel} (onnxtune training kernel): dy is ${dyShape[1]}×${dyShape[2]} but the forward conv ` +
        `gives ${g.outH}×${g.outW}.`,
    );
  }
}

function register(tf: Tf, backendName: string, kernelName: TrainingKernelName): void {
  type Marked = KernelFunc & { [MARK]?: true };
  const existing = tf.getKernel(kernelName, backendName) as { kernelFunc: Marked } | undefined;
  if (existing?.kernelFunc[MARK]) return;
  if (existing) tf.unregisterKernel(kernelName, backendName);
  const kernelFunc: Marked = FACTORIES[kernelName](tf);
  kernelFunc[MARK] = true;
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}

/**
 * Registers the training kernels for backend 'wasm' (idempotent), replacing wasm's own where it
 * has one. Call it after `require('@tensorflow/tfjs-backend-wasm')`: that package registers its
 * kernels when loaded and would put its slower or wrong ones back.
 * @param tf the `@tensorflow/tfjs` module whose kernel registry to use.
 * @throws Error when the wasm backend package has not been loaded yet.
 */
export function registerWasmTrainingKernels(tf: Tf): void {
  if (!tf.findBackendFactory('wasm')) {
    throw new Error(
      "registerWasmTrainingKernels: load '@tensorflow/tfjs-backend-wasm' first (it would overwrite these kernels).",
    );
  }
  for (const name of WASM_TRAINING_KERNELS) register(tf, 'wasm', name);
}

/**
 * Registers fixes for the pure-JS cpu backend (idempotent): correct resize gradients, and a
 * Conv2DBackpropFilter built on conv2d (cpu's own is correct but pathologically slow).
 * @param tf the `@tensorflow/tfjs` module whose kernel registry to use.
 */
export function registerCpuTrainingKernels(tf: Tf): void {
  for (const name of CPU_TRAINING_KERNELS) register(tf, 'cpu', name);
}
