/**
 * A U-Net level's first Conv reads Concat(nearest ×2 Resize(x), skips…). On int8, onnxruntime spends a fifth of such a
 * model's time in the uint8 Resize (its generic NHWC path) and in the QLinearConcat that copies the upsampled tensor.
 * A 3×3 Conv (pad 1) of a nearest ×2 upsampling is four 2×2 convs of x, one per output phase (sub-pixel convolution), so
 *
 *   Conv(Concat(Up(x), r…), W, b) = DepthToSpace(Conv(x, W′), 2) + Conv(Concat(r…), W_r, b)
 *
 * with W′ [4·Cout, Cx, 3, 3] the phase sums of W's x channels in DepthToSpace's DCR order: exact in float, the same
 * MACs, the x part at a quarter of the pixels with four times the output channels, and no upsampled tensor at all.
 * The input model is not modified.
 */
import type { FloatTensor } from '../../src/backends/ort';
import { GraphBuilder, makeAttribute } from '../../src/onnx/builder';
import { constantResolver } from '../../src/onnx/constants';
import { attrInt, attrInts } from '../../src/onnx/const-rules';
import { isDefaultDomain, onnx, type ModelProto, type NodeProto } from '../../src/onnx/proto';
import { floatTensor, int64Tensor, tensorDims, tensorToFloat32 } from '../../src/onnx/tensor';
import { defaultOpset, pruneUnused } from '../model-utils';
import { observeRanges } from './calibrate';
import { plainFloatConvDims } from './pad-outputs';
import { stringAttr } from './plan';

/** One Conv whose upsampled input was folded into it. */
export interface FoldedUpsample {
  conv: string;
  resize: string;
  /** Channels of the upsampled tensor x, and of the rest of the Concat (0: the Conv read Up(x) alone). */
  channels: { upsampled: number; rest: number };
}

/**
 * True when `n` is a nearest Resize whose output pixel y reads input pixel ⌊y/2⌋ on both spatial axes (scales
 * [1, 1, 2, 2]); the coordinate modes that give exactly that at scale 2 are listed, anything else is left alone.
 */
function isNearestUpsample2(n: NodeProto, scalesOf: (name: string) => number[] | undefined): boolean {
  if (n.opType !== 'Resize' || !isDefaultDomain(n.domain) || stringAttr(n, 'mode', 'nearest') !== 'nearest') return false;
  // Resize-11+ (the caller folds opset ≥ 11 models only): [X, roi, scales, sizes]; sizes could be anything, not folded.
  const [, , scalesName, sizesName] = n.input ?? [];
  if (!scalesName || sizesName) return false;
  const scales = scalesOf(scalesName);
  if (!scales || scales.length !== 4 || scales.join() !== '1,1,2,2' || attrInts(n, 'axes')) return false;
  const ct = stringAttr(n, 'coordinate_transformation_mode', 'half_pixel');
  const nm = stringAttr(n, 'nearest_mode', 'round_prefer_floor');
  if (ct === 'asymmetric') return nm === 'floor' || nm === 'round_prefer_floor';
  if (ct === 'half_pixel' || ct === 'pytorch_half_pixel') return nm === 'round_prefer_floor' || nm === 'round_prefer_ceil';
  if (ct === 'tf_half_pixel_for_nn') return nm === 'floor';
  // y·(n − 1)/(2n − 1) lies within ½ below y/2 for y < 2n: rounding gives ⌊y/2⌋ at every size.
  if (ct === 'align_corners') return nm === 'round_prefer_floor' || nm === 'round_prefer_ceil';
  return false;
}

/** A 3×3, stride-1, pad-1, undilated Conv (the only kind folded). */
function isSame3x3(n: NodeProto): boolean {
  const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const ok = (v: number[] | undefined, want: number) => !v || v.every((x) => x === want);
  return stringAttr(n, 'auto_pad', 'NOTSET') === 'NOTSET' && pads.length === 4 && pads.every((p) => p === 1) && ok(attrInts(n, 'strides'), 1) && ok(attrInts(n, 'dilations'), 1);
}

/**
 * The phase weights W′ [4·cout, cx, 3, 3] of a 3×3 conv over a nearest ×2 upsampling of x, whose weights for x's
 * channels are `w` [cout, cin, 3, 3] at channel offset `off`. Output row 2i + a, kernel row ky (offset ky − 1) reads
 * upsampled row 2i + a + ky − 1 = x row i + ⌊(a + ky − 1)/2⌋, i.e. low-resolution kernel row ⌊(a + ky − 1)/2⌋ + 1.
 */
export function upsamplePhaseWeights(w: Float32Array, cout: number, cin: number, off: number, cx: number): Float32Array {
  const out = new Float32Array(4 * cout * cx * 9);
  const low = (phase: number, k: number) => Math.floor((phase + k - 1) / 2) + 1;
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      for (let o = 0; o < cout; o++) {
        const oc = (a * 2 + b) * cout + o; // DCR: blocks of cout channels, row offset major
        for (let c = 0; c < cx; c++) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              out[((oc * cx + c) * 3 + low(a, ky)) * 3 + low(b, kx)] += w[((o * cin + off + c) * 3 + ky) * 3 + kx];
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Folds every nearest ×2 Resize that only a Concat reads, feeding only a 3×3 Conv, into that Conv (see the module
 * comment). Channel counts come from running the float model on `feeds` (one is enough).
 */
export async function foldUpsampleConvs(model: ModelProto, feeds: readonly Record<string, FloatTensor>[], opts: { threads?: number; excludeNodes?: readonly string[] } = {}): Promise<{ model: onnx.ModelProto; folded: FoldedUpsample[] }> {
  const graph = model.graph as onnx.GraphProto | undefined;
  if (!graph || !feeds.length || defaultOpset(model) < 11) return { model: onnx.ModelProto.create(model), folded: [] };
  const excluded = new Set(opts.excludeNodes ?? []);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const producer = new Map<string, NodeProto>();
  const readCount = new Map<string, number>();
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) if (i) readCount.set(i, (readCount.get(i) ?? 0) + 1);
  }
  for (const o of graph.output ?? []) readCount.set(o.name ?? '', (readCount.get(o.name ?? '') ?? 0) + 1);
  const consts = constantResolver(model);
  const scalesOf = (name: string) => {
    const v = consts.isConstant(name) ? consts.value(name) : undefined;
    return v ? Array.from(v.data as ArrayLike<number>, Number) : undefined;
  };
  const onlyOnce = (t: string) => readCount.get(t) === 1;

  const candidates = (graph.node ?? []).flatMap((conv) => {
    const dims = plainFloatConvDims(conv, inits, excluded);
    if (!dims || dims[2] !== 3 || dims[3] !== 3 || !isSame3x3(conv)) return [];
    const cat = producer.get(conv.input?.[0] ?? '');
    if (!cat || cat.opType !== 'Concat' || !isDefaultDomain(cat.domain) || !onlyOnce(cat.output?.[0] ?? '')) return [];
    const axis = attrInt(cat, 'axis', 0);
    if ((axis !== 1 && axis !== -3) || new Set(cat.input).size !== cat.input?.length) return [];
    const ups = (cat.input ?? []).filter((t) => {
      const r = producer.get(t);
      return r && onlyOnce(t) && isNearestUpsample2(r, scalesOf);
    });
    return ups.length === 1 ? [{ conv, cat, up: ups[0], resize: producer.get(ups[0]) as NodeProto, dims }] : [];
  });
  if (!candidates.length) return { model: onnx.ModelProto.create(model), folded: [] };

  const stats = await observeRanges(model, [...new Set(candidates.flatMap((c) => c.cat.input ?? []))], feeds.slice(0, 1), { threads: opts.threads });
  const names = GraphBuilder.fromGraph(graph);
  const replace = new Map<NodeProto, onnx.NodeProto[]>();
  const drop = new Set<NodeProto>();
  const newInits: onnx.TensorProto[] = [];
  const folded: FoldedUpsample[] = [];
  for (const { conv, cat, up, resize, dims } of candidates) {
    const inputs = cat.input as string[];
    const channels = inputs.map((t) => stats.get(t)?.channels ?? 0);
    const [cout, cin] = dims;
    if (channels.some((c) => !c) || channels.reduce((a, c) => a + c, 0) !== cin) continue;
    const k = inputs.indexOf(up);
    const off = channels.slice(0, k).reduce((a, c) => a + c, 0);
    const cx = channels[k];
    const w = tensorToFloat32(inits.get(conv.input?.[1] as string) as onnx.TensorProto);
    const bias = conv.input?.[2] ? tensorToFloat32(inits.get(conv.input[2]) as onnx.TensorProto) : undefined;
    const convName = conv.name || (conv.output?.[0] as string);
    const out = conv.output?.[0] as string;
    const nodes: onnx.NodeProto[] = [];

    // The upsampled part: phase conv at low resolution, then DepthToSpace (as NHWC steps).
    const x = resize.input?.[0] as string;
    const wUp = names.uniqueName(`${conv.input?.[1]}_phases`);
    newInits.push(floatTensor(wUp, [4 * cout, cx, 3, 3], upsamplePhaseWeights(w, cout, cin, off, cx)));
    const rest = inputs.filter((t) => t !== up);
    const upInputs = [x, wUp];
    if (!rest.length && bias) {
      const bUp = names.uniqueName(`${conv.input?.[2]}_phases`);
      newInits.push(floatTensor(bUp, [4 * cout], Float32Array.from({ length: 4 * cout }, (_, i) => bias[i % cout])));
      upInputs.push(bUp);
    }
    const phases = names.uniqueName(`${out}_phases`);
    nodes.push(onnx.NodeProto.create({ ...conv, name: names.uniqueName(`${convName}/phases`), input: upInputs, output: [phases], attribute: [...(conv.attribute ?? [])] }));
    const upOut = rest.length ? names.uniqueName(`${out}_upsampled`) : out;
    const steps = depthToSpaceSteps(phases, upOut, cout, `${convName}/depth_to_space`, names);
    nodes.push(...steps.nodes);
    newInits.push(...steps.initializers);

    // The rest at full resolution, with the bias; the two parts summed into the Conv's old output.
    if (rest.length) {
      const restChannels = inputs.flatMap((t, i) => (t === up ? [] : Array.from({ length: channels[i] }, (_, c) => channels.slice(0, i).reduce((a, n) => a + n, 0) + c)));
      const wRest = new Float32Array(cout * restChannels.length * 9);
      for (let o = 0; o < cout; o++) restChannels.forEach((c, j) => wRest.set(w.subarray((o * cin + c) * 9, (o * cin + c + 1) * 9), (o * restChannels.length + j) * 9));
      const wRestName = names.uniqueName(`${conv.input?.[1]}_rest`);
      newInits.push(floatTensor(wRestName, [cout, restChannels.length, 3, 3], wRest));
      let r = rest[0];
      if (rest.length > 1) {
        r = names.uniqueName(`${cat.output?.[0]}_rest`);
        nodes.push(onnx.NodeProto.create({ ...cat, name: names.uniqueName(`${cat.name || 'Concat'}_rest`), input: rest, output: [r], attribute: [...(cat.attribute ?? [])] }));
      }
      const restOut = names.uniqueName(`${out}_rest`);
      nodes.push(onnx.NodeProto.create({ ...conv, name: names.uniqueName(`${convName}/rest`), input: [r, wRestName, ...(conv.input?.[2] ? [conv.input[2]] : [])], output: [restOut], attribute: [...(conv.attribute ?? [])] }));
      nodes.push(onnx.NodeProto.create({ opType: 'Add', name: names.uniqueName(`${convName}/sum`), input: [upOut, restOut], output: [out] }));
    }
    replace.set(conv, nodes);
    drop.add(cat).add(resize);
    folded.push({ conv: convName, resize: resize.name || up, channels: { upsampled: cx, rest: cin - cx } });
  }
  if (!folded.length) return { model: onnx.ModelProto.create(model), folded };
  const nodes = (graph.node ?? []).flatMap((n) => (drop.has(n) ? [] : (replace.get(n) ?? [n as onnx.NodeProto])));
  const out = onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...newInits] as onnx.TensorProto[] });
  pruneUnused(out, { allNodes: true });
  return { model: onnx.ModelProto.create({ ...model, graph: out }), folded };
}

/**
 * DepthToSpace(x, 2, DCR) of x [N, 4·C, H, W] as NHWC steps: Transpose to [N, H, W, 4C], Reshape [N, H, W, 2, 2C],
 * swap the row phase with W (a single-axis Transpose: copies of 2C contiguous values), Reshape [N, 2H, 2W, C] and
 * Transpose back. onnxruntime runs its int8 convs in NHWC, so the outer Transposes cancel the ones it inserts around
 * them, and the middle one is a block copy; its DepthToSpace has only an NCHW kernel (single-threaded, generic for
 * uint8) between two layout Transposes. The target shape is read from x (Shape → [H, W] × 2), so sizes stay dynamic.
 */
export function depthToSpaceSteps(x: string, out: string, channels: number, prefix: string, names: GraphBuilder): { nodes: onnx.NodeProto[]; initializers: onnx.TensorProto[] } {
  const t = (suffix: string) => names.uniqueName(`${out}_${suffix}`);
  const perm = (p: number[]) => [makeAttribute('perm', p)];
  const node = (opType: string, input: string[], output: string, attribute: onnx.AttributeProto[] = []) =>
    onnx.NodeProto.create({ opType, name: names.uniqueName(`${prefix}/${opType}`), input, output: [output], attribute });
  const [nhwc, split, swapped, merged] = [t('nhwc'), t('phase_rows'), t('rows_interleaved'), t('nhwc_upsampled')];
  const [shape, hw, hw2, target] = [t('shape'), t('hw'), t('hw2'), t('target_shape')];
  const [splitShape, two, starts, ends, batch, depth] = [t('split_shape'), t('two'), t('hw_start'), t('hw_end'), t('copy_batch'), t('depth')];
  const initializers = [
    int64Tensor(splitShape, [5], [0, 0, 0, 2, 2 * channels]),
    int64Tensor(two, [1], [2]),
    int64Tensor(starts, [1], [2]),
    int64Tensor(ends, [1], [4]),
    int64Tensor(batch, [1], [0]),
    int64Tensor(depth, [1], [channels]),
  ];
  const nodes = [
    node('Transpose', [x], nhwc, perm([0, 2, 3, 1])),
    node('Reshape', [nhwc, splitShape], split),
    node('Transpose', [split], swapped, perm([0, 1, 3, 2, 4])),
    node('Shape', [x], shape),
    node('Slice', [shape, starts, ends], hw),
    node('Mul', [hw, two], hw2),
    node('Concat', [batch, hw2, depth], target, [makeAttribute('axis', 0)]),
    node('Reshape', [swapped, target], merged),
    node('Transpose', [merged], out, perm([0, 3, 1, 2])),
  ];
  return { nodes, initializers };
}
