/**
 * ONNX → tfjs parity of every supported op, one generated case per configuration: each case
 * builds a tiny ONNX graph with seeded random weights, runs it in onnxruntime on a seeded
 * NCHW input, converts it, runs tfjs on the NHWC input, and requires max |diff| ≤ 1e-5. The
 * whole table runs once per tfjs backend (cpu, wasm, native tfjs-node when it loads).
 * The converted model is also exported back with tfjsToOnnx and run in onnxruntime again
 * (≤ 1e-5, and no more nodes than the original unless the case says why). A final test checks
 * that every op of the mapping table is covered by some case.
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { FloatTensor } from '../../src/backends/ort';
import type { Tf } from '../../src/backends/tf';
import { floatAttr, floatsAttr, GraphBuilder, type AttrValue } from '../../src/onnx/builder';
import { modelInfo } from '../../src/onnx/info';
import type { onnx } from '../../src/onnx/proto';
import { CONVERTIBLE_OPS, FOLDABLE_OPS, onnxToTfjs } from '../../converters/onnx-to-tfjs';
import { tfjsToOnnx } from '../../converters/tfjs-to-onnx';
import { runModel, seeded } from '../onnx/fixtures';
import { maxAbsDiff, predictNchw, randomInput } from './onnx-parity';
import { nativeTfUnavailable, useTfBackend, type ParityBackend } from './parity-helpers';

const ATOL = 1e-5;

/** Graph-building helpers for one case. */
class G {
  readonly b = new GraphBuilder('case');
  private k = 0;
  constructor(readonly x: string[], private seed: number) {}
  private name(p: string) {
    return `${p}${this.k++}`;
  }
  /** A seeded float initializer scaled by `scale`. */
  w(dims: number[], scale = 1, offset = 0): string {
    const n = dims.reduce((a, b) => a * b, 1);
    return this.b.addInitializer(this.name('w'), dims, seeded(n, this.seed++).map((v) => v * scale + offset));
  }
  /** A conv-style weight scaled by 1/√fan-in. */
  cw(dims: number[]): string {
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
    return this.w(dims, 1 / Math.sqrt(fanIn));
  }
  f(values: number[], dims = [values.length]): string {
    return this.b.addInitializer(this.name('f'), dims, Float32Array.from(values));
  }
  i64(values: number[], dims = [values.length]): string {
    return this.b.addInt64Initializer(this.name('i'), dims, values);
  }
  node(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, outputs = 1): string {
    return this.nodeOutputs(op, inputs, attrs, outputs)[0];
  }
  /** A node with `outputs` outputs; all their names. */
  nodeOutputs(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined>, outputs: number): string[] {
    const outs = Array.from({ length: outputs }, () => this.name(`${op.toLowerCase()}_`));
    this.b.addNode(op, inputs, outs, attrs, `/${op}_${this.k}`);
    return outs;
  }
  constantNode(t: onnx.TensorProto): string {
    return this.node('Constant', [], { value: t });
  }
}

interface OpCase {
  name: string;
  /** Op types this case exercises (for the coverage check). */
  ops: string[];
  opset?: number;
  /** NCHW input dims (batch included). */
  inputs: number[][];
  build: (g: G) => string[];
  /** Convert with the inputs' static shapes (default: symbolic batch/H/W). */
  staticShape?: boolean;
  /** Why the re-exported graph may have more nodes than the original. */
  growth?: string;
  /** Input scale (default 1.5). */
  scale?: number;
  /** A looser tolerance than ATOL, with the reason. */
  atol?: { value: number; why: string };
}

const cases: OpCase[] = [];
const add = (c: OpCase) => cases.push(c);
const X4 = [2, 3, 9, 11];

// Conv: kernel × stride × pads × dilation × bias, from a grid.
const padSets: Array<[string, (k: number) => number[] | undefined, string | undefined]> = [
  ['no pads', () => undefined, undefined],
  ['symmetric', (k) => [k >> 1, k >> 1, k >> 1, k >> 1], undefined],
  ['asymmetric', () => [0, 1, 1, 0], undefined],
  ['asymmetric big', () => [2, 1, 0, 1], undefined],
  ['SAME_UPPER', () => undefined, 'SAME_UPPER'],
  ['VALID', () => undefined, 'VALID'],
  ['SAME_LOWER', () => undefined, 'SAME_LOWER'],
];
for (const k of [1, 3, 4]) {
  for (const s of [1, 2]) {
    for (const [pname, pads, autoPad] of padSets) {
      for (const d of s === 1 && k > 1 ? [1, 2] : [1]) {
        if (autoPad === 'SAME_LOWER' && s > 1) continue;
        // onnxruntime refuses dilations with SAME_UPPER/SAME_LOWER.
        if (autoPad?.startsWith('SAME') && d > 1) continue;
        const bias = (k + s + d) % 2 === 0;
        add({
          name: `Conv k${k} s${s} d${d} ${pname} bias=${bias}`,
          ops: ['Conv'],
          inputs: [X4],
          build: (g) => [
            g.node('Conv', [g.x[0], g.cw([4, 3, k, k]), ...(bias ? [g.w([4])] : [])], {
              kernel_shape: [k, k], strides: [s, s], dilations: [d, d], pads: pads(k), auto_pad: autoPad,
            }),
          ],
        });
      }
    }
  }
}
for (const mult of [1, 2]) {
  for (const s of [1, 2]) {
    add({
      name: `Conv depthwise mult${mult} s${s} pads 1`,
      ops: ['Conv'],
      inputs: [X4],
      build: (g) => [g.node('Conv', [g.x[0], g.cw([3 * mult, 1, 3, 3]), g.w([3 * mult])], { kernel_shape: [3, 3], strides: [s, s], pads: [1, 1, 1, 1], group: 3 })],
    });
  }
}
const bn = (g: G, x: string, c: number) => g.node('BatchNormalization', [x, g.w([c], 0.5, 1), g.w([c]), g.w([c], 0.3), g.w([c], 0.4, 1)], { epsilon: floatAttr(1e-5) });
add({ name: 'Conv + BatchNormalization (folded)', ops: ['Conv', 'BatchNormalization'], inputs: [X4], build: (g) => [bn(g, g.node('Conv', [g.x[0], g.cw([4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), 4)] });
add({
  name: 'Conv + BatchNormalization + Relu (folded and fused)',
  ops: ['Conv', 'BatchNormalization', 'Relu'],
  inputs: [X4],
  build: (g) => [g.node('Relu', [bn(g, g.node('Conv', [g.x[0], g.cw([4, 3, 3, 3]), g.w([4])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), 4)])],
});
for (const act of ['Relu', 'Sigmoid', 'Tanh', 'Softplus', 'Softsign']) {
  add({
    name: `Conv + ${act} (fused)`,
    ops: ['Conv', act],
    inputs: [X4],
    build: (g) => [g.node(act, [g.node('Conv', [g.x[0], g.cw([4, 3, 3, 3]), g.w([4])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })])],
  });
}

// ConvTranspose: kernel × stride × pads × output_padding.
for (const k of [1, 2, 3, 4]) {
  for (const s of [1, 2, 3]) {
    for (const [pname, pads] of [['pads 0', [0, 0, 0, 0]], ['pads 1', [1, 1, 1, 1]], ['pads 0,1', [0, 1, 0, 1]]] as const) {
      for (const op of s > k ? [0, s - k] : [0]) {
        if (pads.some((p) => p > 0) && (k - 1) * 1 + 1 + (s - 1) * 4 - pads[0] - pads[2] <= 0) continue;
        add({
          name: `ConvTranspose k${k} s${s} ${pname} output_padding ${op}`,
          ops: ['ConvTranspose'],
          inputs: [[2, 3, 5, 6]],
          build: (g) => [
            g.node('ConvTranspose', [g.x[0], g.cw([3, 2, k, k]), ...(k % 2 ? [g.w([2])] : [])], {
              kernel_shape: [k, k], strides: [s, s], pads: [...pads], output_padding: op ? [op, op] : undefined,
            }),
          ],
        });
      }
    }
  }
}
add({
  name: 'ConvTranspose k3 s2 pads 1 output_padding 1 (the usual ×2 decoder)',
  ops: ['ConvTranspose'],
  inputs: [[2, 3, 5, 6]],
  build: (g) => [g.node('ConvTranspose', [g.x[0], g.cw([3, 2, 3, 3]), g.w([2])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })],
});
add({
  name: 'ConvTranspose + Relu (fused)',
  ops: ['ConvTranspose', 'Relu'],
  inputs: [[2, 3, 5, 6]],
  build: (g) => [g.node('Relu', [g.node('ConvTranspose', [g.x[0], g.cw([3, 4, 2, 2]), g.w([4])], { kernel_shape: [2, 2], strides: [2, 2] })])],
});

// Gemm / MatMul.
for (const transB of [0, 1]) {
  for (const [cname, cdims] of [['no C', undefined], ['C [N]', [5]], ['C [1,N]', [1, 5]], ['scalar C', [1]]] as const) {
    add({
      name: `Gemm transB=${transB} ${cname} alpha 0.5 beta 2`,
      ops: ['Gemm'],
      inputs: [[2, 6]],
      build: (g) => [
        g.node('Gemm', [g.x[0], g.cw(transB ? [5, 6] : [6, 5]), ...(cdims ? [g.w([...cdims])] : [])], { transB, alpha: floatAttr(0.5), beta: floatAttr(2) }),
      ],
    });
  }
}
add({ name: 'Gemm + Relu (fused)', ops: ['Gemm', 'Relu'], inputs: [[2, 6]], build: (g) => [g.node('Relu', [g.node('Gemm', [g.x[0], g.cw([4, 6]), g.w([4])], { transB: 1 })])] });
add({ name: 'MatMul [N,K]×[K,M]', ops: ['MatMul'], inputs: [[2, 6]], build: (g) => [g.node('MatMul', [g.x[0], g.cw([6, 3])])] });

// Activations.
for (const [op, attrs] of [
  ['Relu', {}], ['Sigmoid', {}], ['Tanh', {}], ['Softplus', {}], ['Softsign', {}], ['Elu', {}], ['Selu', {}], ['HardSigmoid', {}],
  ['LeakyRelu', {}], ['LeakyRelu', { alpha: floatAttr(0.2) }],
] as Array<[string, Record<string, AttrValue>]>) {
  add({ name: `${op} ${JSON.stringify(attrs)}`, ops: [op], inputs: [X4], build: (g) => [g.node(op, [g.x[0]], attrs)] });
}
add({ name: 'Softmax [N, C] axis 1', ops: ['Softmax'], inputs: [[2, 7]], build: (g) => [g.node('Softmax', [g.x[0]], { axis: 1 })] });
add({ name: 'Softmax [N, C] default axis (opset 11)', ops: ['Softmax'], opset: 11, inputs: [[2, 7]], build: (g) => [g.node('Softmax', [g.x[0]])] });
add({ name: 'Softmax over channels of [N, C, H, W]', ops: ['Softmax'], inputs: [X4], build: (g) => [g.node('Softmax', [g.x[0]], { axis: 1 })] });

// BatchNormalization not folded (after a Relu, on 4-D and 2-D).
add({ name: 'BatchNormalization standalone 4-D', ops: ['BatchNormalization'], inputs: [X4], build: (g) => [bn(g, g.node('Relu', [g.x[0]]), 3)] });
add({ name: 'BatchNormalization standalone 2-D', ops: ['BatchNormalization'], inputs: [[2, 6]], build: (g) => [bn(g, g.x[0], 6)] });

// Pooling.
for (const [op, extra] of [['MaxPool', {}], ['AveragePool', {}], ['AveragePool', { count_include_pad: 1 }]] as const) {
  for (const [k, s, pads, auto] of [
    [2, 2, undefined, undefined], [3, 2, undefined, undefined], [3, 1, [1, 1, 1, 1], undefined], [3, 2, [1, 1, 1, 1], undefined],
    [3, 2, [0, 1, 1, 0], undefined], [3, 2, undefined, 'SAME_UPPER'], [2, 1, undefined, 'SAME_UPPER'],
  ] as Array<[number, number, number[] | undefined, string | undefined]>) {
    const name = `${op} k${k} s${s} ${pads ? `pads ${pads.join(',')}` : (auto ?? 'valid')} ${JSON.stringify(extra)}`;
    const includePad = 'count_include_pad' in extra;
    if (op === 'AveragePool' && includePad && auto === 'SAME_UPPER' && s > 1) continue;
    add({
      name,
      ops: [op],
      inputs: [X4],
      build: (g) => [g.node(op, [g.x[0]], { kernel_shape: [k, k], strides: [s, s], pads, auto_pad: auto, ...extra })],
    });
  }
}
add({ name: 'GlobalAveragePool', ops: ['GlobalAveragePool'], inputs: [X4], build: (g) => [g.node('GlobalAveragePool', [g.x[0]])] });
add({ name: 'GlobalMaxPool', ops: ['GlobalMaxPool'], inputs: [X4], build: (g) => [g.node('GlobalMaxPool', [g.x[0]])] });
add({ name: 'GlobalAveragePool + Flatten (absorbed)', ops: ['GlobalAveragePool', 'Flatten'], inputs: [X4], build: (g) => [g.node('Flatten', [g.node('GlobalAveragePool', [g.x[0]])], { axis: 1 })] });
for (const keepdims of [0, 1]) {
  const growth = keepdims ? undefined : 'GlobalAveragePooling2D without keepDims exports as GlobalAveragePool + Flatten';
  add({ name: `ReduceMean axes (2,3) keepdims ${keepdims} (opset 17, attribute)`, ops: ['ReduceMean'], inputs: [X4], growth, build: (g) => [g.node('ReduceMean', [g.x[0]], { axes: [2, 3], keepdims })] });
  add({ name: `ReduceMean axes (2,3) keepdims ${keepdims} (opset 18, input)`, ops: ['ReduceMean'], opset: 18, inputs: [X4], growth, build: (g) => [g.node('ReduceMean', [g.x[0], g.i64([-1, 2])], { keepdims })] });
  add({ name: `ReduceMax axes (2,3) keepdims ${keepdims}`, ops: ['ReduceMax'], inputs: [X4], growth, build: (g) => [g.node('ReduceMax', [g.x[0]], { axes: [2, 3], keepdims })] });
}

// Elementwise ops: two activations, activation and constant (per channel, scalar, full), constant first.
for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
  add({ name: `${op} of two activations`, ops: [op], inputs: [X4, X4], build: (g) => [g.node(op, [g.x[0], op === 'Div' ? g.node('Sigmoid', [g.x[1]]) : g.x[1]])] });
  for (const [cname, dims] of [['[C,1,1]', [3, 1, 1]], ['[1,C,1,1]', [1, 3, 1, 1]], ['scalar', []], ['[W]', [11]], ['[C,H,W]', [3, 9, 11]]] as const) {
    add({ name: `${op} activation × constant ${cname}`, ops: [op], inputs: [X4], build: (g) => [g.node(op, [g.x[0], g.w([...dims], 1, op === 'Div' ? 2 : 0)])] });
  }
  add({ name: `${op} constant [C,1,1] first`, ops: [op], inputs: [X4], build: (g) => [g.node(op, [g.w([3, 1, 1], 1, 0), op === 'Div' ? g.node('Sigmoid', [g.x[0]]) : g.x[0]])] });
  add({ name: `${op} on [N, C] with constant [C]`, ops: [op], inputs: [[2, 5]], build: (g) => [g.node(op, [g.x[0], g.w([5], 1, op === 'Div' ? 2 : 0)])] });
}
add({
  name: 'Mul of [N,C,H,W] by [N,C,1,1] (squeeze-excite broadcast)',
  ops: ['Mul', 'GlobalAveragePool', 'Sigmoid'],
  inputs: [X4],
  build: (g) => [g.node('Mul', [g.x[0], g.node('Sigmoid', [g.node('GlobalAveragePool', [g.x[0]])])])],
});

// Clip (inputs from opset 11, attributes before).
for (const [lo, hi] of [[0, 6], [0, undefined], [-1, 1], [undefined, 0.5], [0.25, undefined]] as Array<[number | undefined, number | undefined]>) {
  add({
    name: `Clip min=${lo} max=${hi}`,
    ops: ['Clip'],
    inputs: [X4],
    build: (g) => [g.node('Clip', [g.x[0], lo === undefined ? '' : g.f([lo], []), hi === undefined ? '' : g.f([hi], [])].filter((v, i, a) => v !== '' || a.slice(i).some((u) => u !== '')))],
  });
}
add({ name: 'Clip min=-0.5 max=0.5 as attributes (opset 10)', ops: ['Clip'], opset: 10, inputs: [X4], build: (g) => [g.node('Clip', [g.x[0]], { min: floatAttr(-0.5), max: floatAttr(0.5) })] });

// Concat.
for (const axis of [1, 2, 3, -3]) {
  add({ name: `Concat axis ${axis}`, ops: ['Concat'], inputs: [X4, X4], build: (g) => [g.node('Concat', [g.x[0], g.node('Relu', [g.x[1]])], { axis })] });
}
// One activation read twice by one node, and again later: tfjs's executor would free it after the first reader.
add({
  name: 'Mul(x, x) then Sub(x, x²) (the same activation twice, as opset-9 LayerNorm variance is written)',
  ops: ['Mul', 'Sub'],
  inputs: [X4],
  build: (g) => {
    const r = g.node('Relu', [g.x[0]]);
    return [g.node('Sub', [r, g.node('Mul', [r, r])])];
  },
  growth: 'the repeated input becomes an Identity (OnnxUnary) so tfjs keeps the tensor alive',
});
add({
  name: 'Concat([x, x]) then Add with x',
  ops: ['Concat', 'Add'],
  inputs: [X4],
  build: (g) => {
    const r = g.node('Relu', [g.x[0]]);
    const c = g.node('Concat', [r, r], { axis: 1 });
    return [g.node('Add', [c, g.node('Concat', [r, g.node('Relu', [g.x[0]])], { axis: 1 })])];
  },
  growth: 'the repeated input becomes an Identity (OnnxUnary) so tfjs keeps the tensor alive',
});
add({ name: 'Concat of [N, C] axis 1', ops: ['Concat'], inputs: [[2, 3], [2, 4]], build: (g) => [g.node('Concat', [g.x[0], g.x[1]], { axis: 1 })] });

// Aliases.
add({ name: 'Identity, Dropout and Cast float between Relus', ops: ['Identity', 'Dropout', 'Cast'], inputs: [X4], build: (g) => [g.node('Relu', [g.node('Cast', [g.node('Dropout', [g.node('Identity', [g.node('Relu', [g.x[0]])])])], { to: 1 })])] });
add({ name: 'Transpose with the identity permutation', ops: ['Transpose'], inputs: [X4], build: (g) => [g.node('Relu', [g.node('Transpose', [g.node('Relu', [g.x[0]])], { perm: [0, 1, 2, 3] })])] });

// Flatten / Reshape / Squeeze / Unsqueeze.
add({ name: 'Flatten of [N, C]', ops: ['Flatten'], inputs: [[2, 6]], build: (g) => [g.node('Relu', [g.node('Flatten', [g.node('Relu', [g.x[0]])], { axis: 1 })])] });
add({
  name: 'Flatten of a static 3×4 map then Gemm (NCHW order via Permute)',
  ops: ['Flatten', 'Gemm'],
  inputs: [[2, 3, 3, 4]],
  staticShape: true,
  build: (g) => [g.node('Gemm', [g.node('Flatten', [g.x[0]], { axis: 1 }), g.cw([36, 5])])],
});
add({
  name: 'Reshape [0, -1] of a static map then MatMul',
  ops: ['Reshape', 'MatMul'],
  inputs: [[2, 3, 2, 2]],
  staticShape: true,
  build: (g) => [g.node('MatMul', [g.node('Reshape', [g.x[0], g.i64([0, -1])]), g.cw([12, 4])])],
});
add({ name: 'Reshape [N, C] → [N, C, 1, 1]', ops: ['Reshape'], inputs: [[2, 5]], build: (g) => [g.node('Relu', [g.node('Reshape', [g.x[0], g.i64([0, 5, 1, 1])])])] });
for (const opset of [12, 13]) {
  add({
    name: `Squeeze axes (2,3) of a 1×1 map (opset ${opset})`,
    ops: ['Squeeze'],
    opset,
    inputs: [X4],
    build: (g) => [g.node('Squeeze', opset >= 13 ? [g.node('GlobalMaxPool', [g.x[0]]), g.i64([2, 3])] : [g.node('GlobalMaxPool', [g.x[0]])], opset >= 13 ? {} : { axes: [2, 3] })],
  });
  add({
    name: `Unsqueeze [N, C] axes (2,3) (opset ${opset})`,
    ops: ['Unsqueeze'],
    opset,
    inputs: [[2, 4]],
    build: (g) => [g.node('Relu', [g.node('Unsqueeze', opset >= 13 ? [g.x[0], g.i64([2, 3])] : [g.x[0]], opset >= 13 ? {} : { axes: [2, 3] })])],
  });
}

// Slice.
for (const [sname, starts, ends, axes, steps] of [
  ['crop H/W from both ends', [1, 2], [-1, -3], [2, 3], undefined],
  ['crop start only', [2], [2 ** 62], [3], undefined],
  ['strided H and W', [0, 0], [2 ** 62, 2 ** 62], [2, 3], [2, 2]],
  ['strided H from 1', [1], [2 ** 62], [2], [3]],
  ['channels 1..3', [1], [3], [1], undefined],
  ['window inside H', [2], [6], [2], undefined],
  ['negative start on W', [-4], [2 ** 62], [-1], undefined],
] as Array<[string, number[], number[], number[], number[] | undefined]>) {
  add({
    name: `Slice ${sname}`,
    ops: ['Slice'],
    inputs: [[2, 4, 9, 11]],
    build: (g) => [g.node('Slice', [g.x[0], g.i64(starts), g.i64(ends.map((e) => Math.min(e, Number.MAX_SAFE_INTEGER))), g.i64(axes), ...(steps ? [g.i64(steps)] : [])])],
  });
}
add({ name: 'Slice with attributes (opset 9)', ops: ['Slice'], opset: 9, inputs: [[2, 4, 9, 11]], build: (g) => [g.node('Slice', [g.x[0]], { starts: [1, 1], ends: [-1, 5], axes: [2, 3] })] });

// Split: every output is a graph output (multi-output node).
const splitOuts = (g: G, inputs: string[], attrs: Record<string, AttrValue | undefined>, n: number): string[] => g.nodeOutputs('Split', inputs, attrs, n);
add({ name: 'Split channels [1, 3] (opset 13 split input)', ops: ['Split'], growth: 'one Slice per output in place of one Split', inputs: [[2, 4, 5, 6]], build: (g) => splitOuts(g, [g.x[0], g.i64([1, 3])], { axis: 1 }, 2) });
add({ name: 'Split channels in halves (opset 11 attribute)', ops: ['Split'], growth: 'one Slice per output in place of one Split', opset: 11, inputs: [[2, 4, 5, 6]], build: (g) => splitOuts(g, [g.x[0]], { axis: 1, split: [2, 2] }, 2) });
add({ name: 'Split channels into equal parts (opset 9, no sizes)', ops: ['Split'], growth: 'one Slice per output in place of one Split', opset: 9, inputs: [[2, 6, 5, 4]], build: (g) => splitOuts(g, [g.x[0]], { axis: 1 }, 3) });
add({ name: 'Split channels by num_outputs, last part smaller (opset 18)', ops: ['Split'], growth: 'one Slice per output in place of one Split', opset: 18, inputs: [[2, 7, 4, 5]], build: (g) => splitOuts(g, [g.x[0]], { axis: 1, num_outputs: 3 }, 3) });
add({ name: 'Split of a [N, C] tensor', ops: ['Split'], growth: 'one Slice per output in place of one Split', inputs: [[2, 7]], build: (g) => splitOuts(g, [g.x[0], g.i64([4, 3])], { axis: 1 }, 2) });

// Pad.
for (const [pname, pads, value, mode] of [
  ['zero H/W', [0, 0, 1, 2, 0, 0, 2, 1], undefined, 'constant'],
  ['channels (option-A shortcut)', [0, 2, 0, 0, 0, 3, 0, 0], undefined, 'constant'],
  ['value 0.5 on H/W', [0, 0, 1, 1, 0, 0, 1, 1], 0.5, 'constant'],
  ['reflect H/W', [0, 0, 2, 1, 0, 0, 1, 2], undefined, 'reflect'],
  ['negative (crop)', [0, 0, -1, -2, 0, 0, -1, 0], undefined, 'constant'],
] as Array<[string, number[], number | undefined, string]>) {
  add({
    name: `Pad ${pname}`,
    ops: ['Pad'],
    inputs: [X4],
    build: (g) => [g.node('Pad', [g.x[0], g.i64(pads), ...(value !== undefined ? [g.f([value], [])] : [])], { mode })],
  });
}
add({ name: 'Pad with attributes (opset 10)', ops: ['Pad'], opset: 10, inputs: [X4], build: (g) => [g.node('Pad', [g.x[0]], { pads: [0, 1, 1, 0, 0, 0, 1, 2], value: floatAttr(-1) })] });
add({ name: 'Pad with axes input (opset 18)', ops: ['Pad'], opset: 18, inputs: [X4], build: (g) => [g.node('Pad', [g.x[0], g.i64([1, 2, 2, 1]), '', g.i64([2, 3])])] });

// Resize.
for (const [rname, scales, attrs] of [
  ['nearest ×2 asymmetric floor', [2, 2], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }],
  ['nearest ×(2,3) asymmetric floor', [2, 3], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }],
  ['linear ×2 asymmetric', [2, 2], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }],
  ['linear ×2 half_pixel', [2, 2], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }],
  ['linear ×2 pytorch_half_pixel', [2, 2], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }],
  ['linear ×2 align_corners', [2, 2], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }],
  ['nearest ×2 half_pixel round_prefer_ceil', [2, 2], { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' }],
  ['nearest ×3 align_corners round_prefer_ceil', [3, 3], { mode: 'nearest', coordinate_transformation_mode: 'align_corners', nearest_mode: 'round_prefer_ceil' }],
] as Array<[string, number[], Record<string, string>]>) {
  add({ name: `Resize ${rname}`, ops: ['Resize'], inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Resize', [g.x[0], '', g.f([1, 1, ...scales])], attrs)] });
}
add({
  name: 'Resize linear ×1.5 half_pixel (static input, whole output size)',
  ops: ['Resize'],
  inputs: [[2, 3, 4, 6]],
  staticShape: true,
  build: (g) => [g.node('Resize', [g.x[0], '', g.f([1, 1, 1.5, 1.5])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' })],
});
add({
  name: 'Resize by sizes (static input)',
  ops: ['Resize'],
  inputs: [[2, 3, 4, 5]],
  staticShape: true,
  build: (g) => [g.node('Resize', [g.x[0], '', '', g.i64([2, 3, 8, 10])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' })],
});
add({ name: 'Resize opset 10 (X, scales)', ops: ['Resize'], opset: 10, inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Resize', [g.x[0], g.f([1, 1, 2, 2])], { mode: 'nearest' })] });

// Constant subgraphs folded at conversion time.
add({
  name: 'resnet20-style channel pad: pads from Constant/ConstantOfShape/Concat/Reshape/Slice/Transpose/Cast',
  ops: ['Pad', 'Slice', 'Constant', 'ConstantOfShape', 'Concat', 'Reshape', 'Transpose', 'Cast'],
  inputs: [[2, 4, 8, 8]],
  build: (g) => {
    const strided = g.node('Slice', [g.node('Slice', [g.x[0], g.i64([0]), g.i64([Number.MAX_SAFE_INTEGER]), g.i64([2]), g.i64([2])]), g.i64([0]), g.i64([Number.MAX_SAFE_INTEGER]), g.i64([3]), g.i64([2])]);
    const c6 = g.i64([2, 2, 0, 0, 0, 0]);
    const zeros = g.node('ConstantOfShape', [g.i64([2])], { value: { name: '', dims: [1], dataType: 7, rawData: new Uint8Array(8) } as onnx.TensorProto });
    const cat = g.node('Concat', [c6, zeros], { axis: 0 });
    const pairs = g.node('Reshape', [cat, g.i64([-1, 2])]);
    const rev = g.node('Slice', [pairs, g.i64([-1]), g.i64([-Number.MAX_SAFE_INTEGER]), g.i64([0]), g.i64([-1])]);
    const flat = g.node('Reshape', [g.node('Transpose', [rev], { perm: [1, 0] }), g.i64([-1])]);
    const pads = g.node('Cast', [flat], { to: 7 });
    return [g.node('Pad', [strided, pads], { mode: 'constant' })];
  },
});
add({
  name: "an export's pad to a stride multiple from the input's fixed dims: Shape/Slice/Mod/Sub/Min/Concat folded; reflect then edge Pad",
  ops: ['Shape', 'Mod', 'Min', 'Sub', 'Slice', 'Concat', 'Pad'],
  inputs: [[1, 2, 2, 5]],
  staticShape: true,
  build: (g) => {
    const hw = g.node('Slice', [g.node('Shape', [g.x[0]]), g.i64([2]), g.i64([4])]);
    const stride = g.i64([4, 4]);
    const pad = g.node('Mod', [g.node('Sub', [stride, g.node('Mod', [hw, stride])]), stride]);
    const reflect = g.node('Min', [pad, g.node('Sub', [hw, g.i64([1])])]);
    const pads = (hwPad: string) => g.node('Concat', [g.i64([0, 0, 0, 0, 0, 0]), hwPad], { axis: 0 });
    const mirrored = g.node('Pad', [g.x[0], pads(reflect)], { mode: 'reflect' });
    return [g.node('Pad', [mirrored, pads(g.node('Sub', [pad, reflect]))], { mode: 'edge' })];
  },
});
add({
  name: 'per-channel scale from Constant → Unsqueeze → Unsqueeze, Shape/Gather/Range/Squeeze folded',
  ops: ['Mul', 'Constant', 'Unsqueeze', 'Shape', 'Gather', 'Range', 'Squeeze'],
  inputs: [X4],
  build: (g) => {
    const two = g.node('Constant', [], { value_float: floatAttr(2) });
    const base = g.w([3], 1, 0);
    const n = g.node('Gather', [g.node('Shape', [base]), g.i64([0], [])], { axis: 0 });
    const idx = g.node('Range', [g.i64([0], []), n, g.i64([1], [])]);
    const picked = g.node('Gather', [base, idx], { axis: 0 });
    const sq = g.node('Squeeze', [g.node('Unsqueeze', [picked, g.i64([0])]), g.i64([0])]);
    const col = g.node('Unsqueeze', [g.node('Unsqueeze', [sq, g.i64([1])]), g.i64([2])]);
    return [g.node('Mul', [g.x[0], g.node('Mul', [col, two])])];
  },
});
add({
  name: 'torchvision Identity on a shared initializer',
  ops: ['Identity', 'Conv'],
  inputs: [X4],
  build: (g) => {
    const bias = g.w([4]);
    const b2 = g.node('Identity', [bias]);
    const y = g.node('Conv', [g.x[0], g.cw([4, 3, 3, 3]), bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    return [g.node('Conv', [y, g.cw([4, 4, 1, 1]), b2], { kernel_shape: [1, 1] })];
  },
});
add({
  name: 'arithmetic on constants (Add/Sub/Mul/Div/Clip/Flatten folded)',
  ops: ['Add', 'Sub', 'Mul', 'Div', 'Clip', 'Flatten'],
  inputs: [[2, 6]],
  build: (g) => {
    const a = g.w([2, 3]);
    const k = g.node('Clip', [g.node('Div', [g.node('Mul', [g.node('Sub', [g.node('Add', [a, g.f([1])]), g.f([0.5])]), g.f([3])]), g.f([2])]), g.f([-1], []), g.f([2], [])]);
    return [g.node('Add', [g.x[0], g.node('Flatten', [k], { axis: 0 })])];
  },
});

// Variadic Sum/Max/Min/Mean: one input, several, broadcasting, and constants mixed in.
for (const op of ['Sum', 'Max', 'Min', 'Mean']) {
  add({ name: `${op} of one input`, ops: [op], inputs: [X4], build: (g) => [g.node(op, [g.node('Relu', [g.x[0]])])] });
  add({ name: `${op} of three activations`, ops: [op], inputs: [X4, X4, X4], build: (g) => [g.node(op, [g.x[0], g.x[1], g.x[2]])] });
  add({
    name: `${op} of [N,C,H,W] and [N,C,1,1] (broadcast)`,
    ops: [op],
    inputs: [X4],
    build: (g) => [g.node(op, [g.x[0], g.node('GlobalAveragePool', [g.x[0]])])],
  });
  add({
    name: `${op} of two activations and two constants`,
    ops: [op],
    inputs: [X4, X4],
    growth: 'the constants become one OnnxConstBinary after the merge (and × 1/n for Mean)',
    build: (g) => [g.node(op, [g.x[0], g.w([3, 1, 1]), g.x[1], g.w([], 0.5)])],
  });
  add({ name: `${op} of constants only (folded)`, ops: [op], inputs: [X4], build: (g) => [g.node('Add', [g.x[0], g.node(op, [g.w([3, 1, 1]), g.w([1, 3, 1, 1]), g.w([1])])])] });
}

// Pow and unary math (positive inputs where the function needs them), GELU as exported by PyTorch.
const positive = (g: G) => g.node('Sigmoid', [g.x[0]]);
for (const [ename, e] of [['2', 2], ['3', 3], ['0.5', 0.5]] as const) {
  add({ name: `Pow activation ^ ${ename}`, ops: ['Pow'], inputs: [X4], build: (g) => [g.node('Pow', [positive(g), g.f([e], [])])] });
}
add({ name: 'Pow activation ^ per-channel exponent', ops: ['Pow'], inputs: [X4], build: (g) => [g.node('Pow', [positive(g), g.f([1, 2, 3], [3, 1, 1])])] });
add({ name: 'Pow constant base ^ activation', ops: ['Pow'], inputs: [X4], build: (g) => [g.node('Pow', [g.f([2], []), g.x[0]])] });
add({ name: 'Pow of two activations', ops: ['Pow'], inputs: [X4, X4], build: (g) => [g.node('Pow', [positive(g), g.x[1]])] });
add({ name: 'Pow on constants (folded)', ops: ['Pow'], inputs: [X4], build: (g) => [g.node('Mul', [g.x[0], g.node('Pow', [g.w([3, 1, 1], 1, 2), g.f([2], [])])])] });
for (const op of ['Sqrt', 'Exp', 'Log', 'Erf']) {
  add({ name: `${op}`, ops: [op], inputs: [X4], build: (g) => [g.node(op, [op === 'Sqrt' || op === 'Log' ? positive(g) : g.x[0]])] });
}
for (const op of ['Sqrt', 'Exp', 'Log']) {
  add({ name: `${op} on a constant (folded)`, ops: [op], inputs: [X4], build: (g) => [g.node('Add', [g.x[0], g.node(op, [g.w([3, 1, 1], 1, 2)])])] });
}
add({
  name: 'GELU as Div/Erf/Add/Mul/Mul',
  ops: ['Div', 'Erf', 'Add', 'Mul'],
  inputs: [X4],
  build: (g) => {
    const erf = g.node('Erf', [g.node('Div', [g.x[0], g.f([Math.SQRT2], [])])]);
    return [g.node('Mul', [g.node('Mul', [g.x[0], g.node('Add', [erf, g.f([1], [])])]), g.f([0.5], [])])];
  },
});

for (const approximate of ['none', 'tanh']) {
  add({
    name: `Gelu approximate ${approximate} (opset 20)`,
    ops: ['Gelu'],
    opset: 20,
    inputs: [X4],
    scale: 3,
    growth: 'tfjsToOnnx writes opset 17 here, where Gelu is its formula (Div/Erf/Add/Mul/Mul or Pow/Mul/Add/Mul/Tanh/Add/Mul/Mul)',
    build: (g) => [g.node('Gelu', [g.x[0]], { approximate })],
  });
}

// Activations with constants Keras lacks.
add({ name: 'HardSwish', ops: ['HardSwish'], opset: 14, inputs: [X4], scale: 4, build: (g) => [g.node('HardSwish', [g.x[0]])] });
add({ name: 'HardSigmoid alpha 1/6 (PyTorch export)', ops: ['HardSigmoid'], inputs: [X4], scale: 4, build: (g) => [g.node('HardSigmoid', [g.x[0]], { alpha: floatAttr(1 / 6), beta: floatAttr(0.5) })] });
for (const [pname, dims, input, staticShape] of [
  ['per channel [C,1,1]', [3, 1, 1], X4, false],
  ['scalar [1]', [1], X4, false],
  ['full [C,H,W]', [3, 9, 11], X4, true],
  ['[C] on [N, C]', [6], [2, 6], false],
] as Array<[string, number[], number[], boolean]>) {
  add({ name: `PRelu slope ${pname}`, ops: ['PRelu'], inputs: [input], staticShape, build: (g) => [g.node('PRelu', [g.x[0], g.w(dims, 0.3)])] });
}

// Softmax / LogSoftmax: opset < 13 coerces to 2-D at axis (default 1), ≥ 13 one axis (default −1).
for (const op of ['Softmax', 'LogSoftmax']) {
  for (const [opset, axis] of [[11, undefined], [11, 2], [11, 3], [11, -2], [13, undefined], [13, 1], [13, 2]] as Array<[number, number | undefined]>) {
    const multi = opset < 13 && (axis === undefined || axis === 2 || axis === -2);
    add({
      name: `${op} on [N, C, H, W] opset ${opset} axis ${axis ?? 'default'}`,
      ops: [op],
      opset,
      inputs: [X4],
      growth: multi ? 'several ONNX axes export as Shape → Flatten → op → Reshape at opset 17' : undefined,
      build: (g) => [g.node(op, [g.x[0]], axis === undefined ? {} : { axis })],
    });
  }
}
add({ name: 'LogSoftmax [N, C] opset 11', ops: ['LogSoftmax'], opset: 11, inputs: [[2, 7]], build: (g) => [g.node('LogSoftmax', [g.x[0]])] });

// LRN (AlexNet/GoogLeNet): odd sizes (onnxruntime refuses even ones), other constants.
for (const [size, attrs] of [
  [5, { alpha: floatAttr(1e-4), beta: floatAttr(0.75), bias: floatAttr(1) }],
  [3, { alpha: floatAttr(0.05), beta: floatAttr(0.5), bias: floatAttr(2) }],
  [1, { alpha: floatAttr(0.02), beta: floatAttr(0.75), bias: floatAttr(1) }],
] as Array<[number, Record<string, AttrValue>]>) {
  add({ name: `LRN size ${size} ${JSON.stringify(attrs)}`, ops: ['LRN'], inputs: [[2, 8, 5, 6]], scale: 3, build: (g) => [g.node('LRN', [g.x[0]], { size, ...attrs })] });
}

// Grouped convolution (ResNeXt, ShuffleNet, AlexNet): groups between 1 and the channel count.
for (const [gname, inC, outC, group, attrs] of [
  ['g2 3×3 pads 1', 4, 6, 2, { pads: [1, 1, 1, 1] }],
  ['g4 3×3 s2 pads 1', 8, 8, 4, { pads: [1, 1, 1, 1], strides: [2, 2] }],
  ['g3 1×1 (ShuffleNet)', 6, 12, 3, {}],
  ['g2 3×3 dilation 2', 4, 4, 2, { dilations: [2, 2], pads: [2, 2, 2, 2] }],
  ['g2 3×3 SAME_UPPER s2', 4, 6, 2, { auto_pad: 'SAME_UPPER', strides: [2, 2] }],
  ['g2 3×3 asymmetric pads', 4, 4, 2, { pads: [0, 1, 1, 0] }],
] as Array<[string, number, number, number, Record<string, AttrValue>]>) {
  add({
    name: `Conv group ${gname}`,
    ops: ['Conv'],
    inputs: [[2, inC, 7, 9]],
    build: (g) => [g.node('Conv', [g.x[0], g.cw([outC, inC / group, ...(gname.includes('1×1') ? [1, 1] : [3, 3])]), g.w([outC])], { group, ...attrs })],
  });
}
for (const [k, st, pads, op] of [[3, 2, [1, 1, 1, 1], 1], [2, 2, [0, 0, 0, 0], 0], [3, 1, [0, 1, 0, 1], 0], [1, 3, [0, 0, 0, 0], 2]] as Array<[number, number, number[], number]>) {
  add({
    name: `ConvTranspose group 2 k${k} s${st} pads ${pads.join(',')} output_padding ${op}`,
    ops: ['ConvTranspose'],
    inputs: [[2, 4, 5, 6]],
    build: (g) => [g.node('ConvTranspose', [g.x[0], g.cw([4, 3, k, k]), g.w([6])], { group: 2, kernel_shape: [k, k], strides: [st, st], pads, output_padding: op ? [op, op] : undefined })],
  });
}
add({
  name: 'Conv group 2 + BatchNormalization + Relu',
  ops: ['Conv', 'BatchNormalization', 'Relu'],
  inputs: [[2, 4, 7, 9]],
  build: (g) => [g.node('Relu', [bn(g, g.node('Conv', [g.x[0], g.cw([6, 2, 3, 3])], { group: 2, pads: [1, 1, 1, 1] }), 6)])],
});

// Pools with ceil_mode (Caffe2/GoogLeNet) and average pools excluding explicit pads.
for (const op of ['MaxPool', 'AveragePool']) {
  for (const [k, s, pads, extra] of [
    [3, 2, [0, 0, 0, 0], {}], [3, 2, [1, 1, 1, 1], {}], [2, 2, [0, 0, 0, 0], {}], [3, 3, [0, 1, 0, 1], {}],
    [3, 2, [1, 1, 1, 1], { count_include_pad: 1 }], [3, 2, [0, 0, 0, 0], { count_include_pad: 1 }],
  ] as Array<[number, number, number[], Record<string, number>]>) {
    if (op === 'MaxPool' && 'count_include_pad' in extra) continue;
    add({
      name: `${op} ceil_mode k${k} s${s} pads ${pads.join(',')} ${JSON.stringify(extra)}`,
      ops: [op],
      opset: 12,
      inputs: [[2, 3, 8, 11]],
      build: (g) => [g.node(op, [g.x[0]], { kernel_shape: [k, k], strides: [s, s], pads, ceil_mode: 1, ...extra })],
    });
  }
}
add({ name: 'AveragePool count_include_pad 0 pads 1 s1 k2 (asymmetric window)', ops: ['AveragePool'], inputs: [X4], build: (g) => [g.node('AveragePool', [g.x[0]], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] })] });

// ReduceMean/ReduceMax over channels with keepdims, and the hand-written channel LayerNorm (ConvNeXt's LayerNorm2d).
for (const [op, axes] of [['ReduceMean', [1]], ['ReduceMax', [1]], ['ReduceMean', [2]], ['ReduceMean', [1, 3]]] as Array<[string, number[]]>) {
  add({ name: `${op} axes (${axes}) keepdims 1`, ops: [op], inputs: [X4], build: (g) => [g.node(op, [g.x[0]], { axes, keepdims: 1 })] });
}
add({
  name: 'channel LayerNorm as ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add (ConvNeXt LayerNorm2d)',
  ops: ['ReduceMean', 'Sub', 'Pow', 'Add', 'Sqrt', 'Div', 'Mul'],
  inputs: [X4],
  build: (g) => {
    const u = g.node('ReduceMean', [g.x[0]], { axes: [1], keepdims: 1 });
    const d = g.node('Sub', [g.x[0], u]);
    const v = g.node('ReduceMean', [g.node('Pow', [d, g.f([2], [])])], { axes: [1], keepdims: 1 });
    const y = g.node('Div', [d, g.node('Sqrt', [g.node('Add', [v, g.f([1e-6], [])])])]);
    return [g.node('Add', [g.node('Mul', [y, g.w([3, 1, 1], 0.5, 1)]), g.w([3, 1, 1])])];
  },
});

// Instance / Layer normalization.
add({ name: 'InstanceNormalization', ops: ['InstanceNormalization'], inputs: [[2, 3, 5, 6]], build: (g) => [g.node('InstanceNormalization', [g.x[0], g.w([3], 0.5, 1), g.w([3])], { epsilon: floatAttr(1e-5) })] });
add({
  name: 'LayerNormalization axis -1 of [N, C, H, W] (over W)',
  ops: ['LayerNormalization'],
  inputs: [[2, 3, 5, 6]],
  staticShape: true,
  build: (g) => [g.node('LayerNormalization', [g.x[0], g.w([6], 0.5, 1), g.w([6])], { axis: -1, epsilon: floatAttr(1e-5) })],
});
add({
  name: 'LayerNormalization axis 1 of [N, C, H, W] (over C, H, W), no bias',
  ops: ['LayerNormalization'],
  inputs: [[2, 3, 5, 6]],
  staticShape: true,
  build: (g) => [g.node('LayerNormalization', [g.x[0], g.w([3, 5, 6], 0.5, 1)], { axis: 1, epsilon: floatAttr(1e-5) })],
});
add({
  name: 'LayerNormalization over channels between Transposes (ConvNeXt export)',
  ops: ['LayerNormalization', 'Transpose'],
  inputs: [X4],
  build: (g) => {
    const t = g.node('Transpose', [g.x[0]], { perm: [0, 2, 3, 1] });
    const ln = g.node('LayerNormalization', [t, g.w([3], 0.5, 1), g.w([3])], { axis: -1, epsilon: floatAttr(1e-6) });
    return [g.node('Transpose', [ln], { perm: [0, 3, 1, 2] })];
  },
});

// ConvNeXt block as torchvision/timm export it: the MLP runs in NHWC between two Transposes.
add({
  name: 'ConvNeXt block: dwconv 7×7, Transpose, LayerNorm, MatMul+Add, GELU (Erf), MatMul+Add, layer scale, Transpose, residual',
  ops: ['Conv', 'Transpose', 'LayerNormalization', 'MatMul', 'Add', 'Div', 'Erf', 'Mul'],
  inputs: [[2, 8, 7, 9]],
  build: (g) => {
    const dw = g.node('Conv', [g.x[0], g.cw([8, 1, 7, 7]), g.w([8])], { kernel_shape: [7, 7], pads: [3, 3, 3, 3], group: 8 });
    const t = g.node('Transpose', [dw], { perm: [0, 2, 3, 1] });
    const ln = g.node('LayerNormalization', [t, g.w([8], 0.5, 1), g.w([8])], { axis: -1, epsilon: floatAttr(1e-6) });
    const h = g.node('Add', [g.node('MatMul', [ln, g.w([8, 32], 1 / Math.sqrt(8))]), g.w([32])]);
    const gelu = g.node('Mul', [g.node('Mul', [h, g.node('Add', [g.node('Erf', [g.node('Div', [h, g.f([Math.SQRT2], [])])]), g.f([1], [])])]), g.f([0.5], [])]);
    const o = g.node('Mul', [g.node('Add', [g.node('MatMul', [gelu, g.w([32, 8], 1 / Math.sqrt(32))]), g.w([8])]), g.w([8], 0.1)]);
    return [g.node('Add', [g.x[0], g.node('Transpose', [o], { perm: [0, 3, 1, 2] })])];
  },
});
add({
  name: 'NHWC block Relu between Transposes, output in NCHW',
  ops: ['Transpose', 'Relu'],
  inputs: [X4],
  build: (g) => [g.node('Transpose', [g.node('Relu', [g.node('Transpose', [g.x[0]], { perm: [0, 2, 3, 1] })])], { perm: [0, 3, 1, 2] })],
});

// Batched MatMul over the last two axes.
add({ name: 'MatMul [N,C,H,W] × constant [W, K]', ops: ['MatMul'], inputs: [[2, 3, 4, 5]], build: (g) => [g.node('MatMul', [g.x[0], g.cw([5, 6])])] });
add({
  name: 'MatMul of two rank-4 activations',
  ops: ['MatMul'],
  inputs: [[2, 3, 4, 5], [2, 3, 5, 6]],
  build: (g) => [g.node('MatMul', [g.x[0], g.x[1]])],
});

// DepthToSpace / SpaceToDepth.
for (const [mode, b, c] of [['DCR', 2, 8], ['CRD', 2, 8], ['DCR', 3, 9], ['CRD', 3, 18]] as Array<[string, number, number]>) {
  add({ name: `DepthToSpace ${mode} blocksize ${b}`, ops: ['DepthToSpace'], inputs: [[2, c, 3, 4]], build: (g) => [g.node('DepthToSpace', [g.x[0]], { blocksize: b, mode })] });
}
add({ name: 'SpaceToDepth blocksize 2', ops: ['SpaceToDepth'], inputs: [[2, 3, 4, 6]], build: (g) => [g.node('SpaceToDepth', [g.x[0]], { blocksize: 2 })] });

// ShuffleNet's channel shuffle (Reshape → Transpose → Reshape), with explicit and inferred dims.
for (const [sname, first, back] of [
  ['g2 explicit dims', [2, 2, 3, 7, 9], [2, 6, 7, 9]],
  ['g3 with 0 / -1', [0, 3, 2, -1, 9], [0, -1, 7, 9]],
] as Array<[string, number[], number[]]>) {
  add({
    name: `channel shuffle ${sname}`,
    ops: ['Reshape', 'Transpose'],
    inputs: [[2, 6, 7, 9]],
    build: (g) => [g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [g.x[0], g.i64(first)])], { perm: [0, 2, 1, 3, 4] }), g.i64(back)])],
  });
}

// Pad edge.
add({ name: 'Pad edge H/W', ops: ['Pad'], inputs: [X4], build: (g) => [g.node('Pad', [g.x[0], g.i64([0, 0, 1, 2, 0, 0, 2, 1])], { mode: 'edge' })] });
add({ name: 'Pad edge channels and W', ops: ['Pad'], inputs: [X4], build: (g) => [g.node('Pad', [g.x[0], g.i64([0, 1, 0, 3, 0, 2, 0, 0])], { mode: 'edge' })] });

// Upsample (opset 7–9) and the Resize modes exported nets use beyond tf.image's.
add({ name: 'Upsample nearest ×2 (opset 7, attribute scales)', ops: ['Upsample'], opset: 7, inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Upsample', [g.x[0]], { mode: 'nearest', scales: floatsAttr([1, 1, 2, 2]) })] });
add({ name: 'Upsample nearest ×(2,3) (opset 8)', ops: ['Upsample'], opset: 8, inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Upsample', [g.x[0]], { mode: 'nearest', scales: floatsAttr([1, 1, 2, 3]) })] });
add({ name: 'Upsample nearest ×2 (opset 9, scales input)', ops: ['Upsample'], opset: 9, inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Upsample', [g.x[0], g.f([1, 1, 2, 2])], { mode: 'nearest' })] });
add({ name: 'Upsample linear ×2 (opset 9)', ops: ['Upsample'], opset: 9, inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Upsample', [g.x[0], g.f([1, 1, 2, 2])], { mode: 'linear' })] });
for (const [coord, nearest, scales] of [
  ['half_pixel', 'round_prefer_floor', [2, 2]],
  ['half_pixel', 'floor', [2, 2]],
  ['half_pixel', 'ceil', [3, 3]],
  ['asymmetric', 'round_prefer_floor', [2, 3]],
  ['asymmetric', 'ceil', [2, 2]],
  ['align_corners', 'round_prefer_floor', [3, 2]],
  ['pytorch_half_pixel', 'round_prefer_floor', [2, 2]],
  ['half_pixel', 'round_prefer_floor', [1.5, 2.5]],
  ['asymmetric', 'floor', [0.5, 0.5]],
] as Array<[string, string, number[]]>) {
  add({
    name: `Resize nearest ×(${scales}) ${coord} ${nearest}`,
    ops: ['Resize'],
    inputs: [[2, 3, 4, 6]],
    build: (g) => [g.node('Resize', [g.x[0], '', g.f([1, 1, ...scales])], { mode: 'nearest', coordinate_transformation_mode: coord, nearest_mode: nearest })],
  });
}
add({ name: 'Resize nearest with default attributes (half_pixel, round_prefer_floor)', ops: ['Resize'], inputs: [[2, 3, 4, 5]], build: (g) => [g.node('Resize', [g.x[0], '', g.f([1, 1, 2, 2])])] });
add({
  name: 'Resize nearest by sizes half_pixel round_prefer_floor (static input)',
  ops: ['Resize'],
  inputs: [[2, 3, 4, 5]],
  staticShape: true,
  build: (g) => [g.node('Resize', [g.x[0], '', '', g.i64([2, 3, 7, 9])], { mode: 'nearest' })],
});
add({
  name: 'Resize linear ×1.5 asymmetric on a map of unknown size (exact path)',
  ops: ['Resize'],
  inputs: [[2, 3, 4, 6]],
  build: (g) => [g.node('Resize', [g.x[0], '', g.f([1, 1, 1.5, 1.5])], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' })],
});

// QDQ models: int8/int32 weights behind DequantizeLinear fold; Q → DQ on activations is fake quantization.
const int8Tensor = (g: G, name: string, dims: number[], values: number[], type: number): string => {
  const size = type === 3 || type === 2 ? 1 : 4;
  const raw = new Uint8Array(values.length * size);
  const v = new DataView(raw.buffer);
  values.forEach((z, i) => (type === 3 ? v.setInt8(i, z) : type === 2 ? v.setUint8(i, z) : v.setInt32(i * 4, z, true)));
  return g.b.addTensor({ name, dims, dataType: type, rawData: raw } as onnx.TensorProto);
};
add({
  name: 'QDQ conv: per-channel int8 weights and int32 bias (DequantizeLinear folded), Q → DQ on activations (int8 and uint8)',
  ops: ['QuantizeLinear', 'DequantizeLinear', 'Conv', 'Relu'],
  opset: 13,
  inputs: [X4],
  build: (g) => {
    // Fake quantization right after the input: a Q after a conv would flip a rounding wherever
    // the two runtimes' accumulation orders differ by an ulp at a .5 boundary (one quantum off).
    const xs = g.f([0.02], []);
    const xq = g.node('QuantizeLinear', [g.x[0], xs, int8Tensor(g, 'xzp', [], [3], 3)]);
    const cs = g.f([0.03, 0.025, 0.035]);
    const cq = g.node('QuantizeLinear', [g.node('DequantizeLinear', [xq, xs, 'xzp']), cs, int8Tensor(g, 'czp', [3], [120, 128, 131], 2)], { axis: 1 });
    const x = g.node('DequantizeLinear', [cq, cs, 'czp'], { axis: 1 });
    const wq = Array.from(seeded(4 * 3 * 9, 5), (v) => Math.round(v * 127));
    const wScale = [0.004, 0.006, 0.003, 0.005];
    const w = g.node('DequantizeLinear', [int8Tensor(g, 'wq', [4, 3, 3, 3], wq, 3), g.f(wScale), int8Tensor(g, 'wzp', [4], [0, 0, 0, 0], 3)], { axis: 0 });
    const b = g.node('DequantizeLinear', [int8Tensor(g, 'bq', [4], [100, -50, 0, 25], 6), g.f(wScale.map((v) => v * 0.02))], { axis: 0 });
    return [g.node('Relu', [g.node('Conv', [x, w, b], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })])];
  },
});

/** A ModelProto for a case, with graph inputs x0, x1, … of the case's dims (symbolic batch/H/W). */
function buildCase(c: OpCase, i: number): onnx.ModelProto {
  const names = c.inputs.map((_, k) => `x${k}`);
  const g = new G(names, 100 + i * 7);
  c.inputs.forEach((dims, k) => g.b.addInput(names[k], dims.length === 4 ? ['N', dims[1], `H${k}`, `W${k}`] : ['N', dims[1]]));
  for (const out of c.build(g)) g.b.addOutput(out);
  return g.b.toModel({ opset: c.opset ?? 17 });
}

// Blocks of the classic opset-9 CNN exports the issue found refused (Caffe2/model-zoo style; ceil_mode
// exists from opset 10, so these exports write the extra end pad instead).
const convRelu = (g: G, x: string, o: number, i: number, k: number, attrs: Record<string, AttrValue> = {}) =>
  g.node('Relu', [g.node('Conv', [x, g.cw([o, i, k, k]), g.w([o])], { kernel_shape: [k, k], ...attrs })]);
add({
  name: 'GoogLeNet stem + inception branch (opset 9: MaxPool with end pads as Caffe2 writes ceil mode, LRN, Concat)',
  ops: ['Conv', 'Relu', 'MaxPool', 'LRN', 'Concat', 'AveragePool'],
  opset: 9,
  inputs: [[1, 3, 33, 35]],
  build: (g) => {
    const c1 = convRelu(g, g.x[0], 8, 3, 7, { strides: [2, 2], pads: [3, 3, 3, 3] });
    const p1 = g.node('LRN', [g.node('MaxPool', [c1], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] })], { size: 5, alpha: floatAttr(1e-4), beta: floatAttr(0.75) });
    const b1 = convRelu(g, p1, 4, 8, 1);
    const b2 = convRelu(g, convRelu(g, p1, 4, 8, 1), 6, 4, 3, { pads: [1, 1, 1, 1] });
    const b3 = convRelu(g, g.node('MaxPool', [p1], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }), 4, 8, 1);
    const cat = g.node('Concat', [b1, b2, b3], { axis: 1 });
    return [g.node('AveragePool', [cat], { kernel_shape: [3, 3], strides: [1, 1] })];
  },
});
add({
  name: 'SqueezeNet fire + classifier (opset 9: MaxPool with end pads, Softmax on [N, C, 1, 1])',
  ops: ['Conv', 'Relu', 'MaxPool', 'Concat', 'GlobalAveragePool', 'Softmax'],
  opset: 9,
  inputs: [[2, 3, 17, 19]],
  growth: 'Softmax coerced over C, H, W exports as Shape → Flatten → Softmax → Reshape',
  build: (g) => {
    const p = g.node('MaxPool', [convRelu(g, g.x[0], 8, 3, 3, { strides: [2, 2] })], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] });
    const sq = convRelu(g, p, 4, 8, 1);
    const fire = g.node('Concat', [convRelu(g, sq, 6, 4, 1), convRelu(g, sq, 6, 4, 3, { pads: [1, 1, 1, 1] })], { axis: 1 });
    return [g.node('Softmax', [g.node('GlobalAveragePool', [convRelu(g, fire, 5, 12, 1)])])];
  },
});
add({
  name: 'ResNet-50 bottleneck with a Sum residual (opset 9, unfused BatchNormalization)',
  ops: ['Conv', 'BatchNormalization', 'Relu', 'Sum'],
  opset: 9,
  inputs: [[2, 8, 9, 11]],
  build: (g) => {
    const cbr = (x: string, o: number, i: number, k: number, relu = true) => {
      const y = bn(g, g.node('Conv', [x, g.cw([o, i, k, k])], { kernel_shape: [k, k], pads: k > 1 ? [1, 1, 1, 1] : [0, 0, 0, 0] }), o);
      return relu ? g.node('Relu', [y]) : y;
    };
    const y = cbr(cbr(cbr(g.x[0], 4, 8, 1), 4, 4, 3), 8, 4, 1, false);
    return [g.node('Relu', [g.node('Sum', [y, g.x[0]])])];
  },
});
add({
  name: 'ShuffleNet v1 stride-2 unit (opset 9: group Conv, channel shuffle, AveragePool excluding pads)',
  ops: ['Conv', 'BatchNormalization', 'Relu', 'Reshape', 'Transpose', 'AveragePool', 'Concat'],
  opset: 9,
  inputs: [[2, 6, 9, 11]],
  build: (g) => {
    const gc = g.node('Relu', [bn(g, g.node('Conv', [g.x[0], g.cw([6, 2, 1, 1])], { kernel_shape: [1, 1], group: 3 }), 6)]);
    const shuffled = g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [gc, g.i64([2, 3, 2, 9, 11])])], { perm: [0, 2, 1, 3, 4] }), g.i64([2, 6, 9, 11])]);
    const dw = bn(g, g.node('Conv', [shuffled, g.cw([6, 1, 3, 3])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 6 }), 6);
    const gc2 = bn(g, g.node('Conv', [dw, g.cw([6, 2, 1, 1])], { kernel_shape: [1, 1], group: 3 }), 6);
    const short = g.node('AveragePool', [g.x[0]], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    return [g.node('Relu', [g.node('Concat', [short, gc2], { axis: 1 })])];
  },
});

/** Saves `model` to memory (model.json topology + weights) and loads it back, as a user's saved model would be. */
async function roundTrip(tf: Tf, model: TfModule.LayersModel): Promise<TfModule.LayersModel> {
  let saved: TfModule.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const json = JSON.parse(JSON.stringify(saved?.modelTopology)) as object;
  return tf.loadLayersModel(tf.io.fromMemory({ ...saved, modelTopology: json }));
}

const NATIVE_MISSING = nativeTfUnavailable();
if (NATIVE_MISSING) process.stdout.write(`onnx-to-tfjs parity on native tfjs-node skipped: it does not load (${NATIVE_MISSING}); \`npm run setup:native\` builds it.\n`);
const BACKENDS: Array<[ParityBackend, boolean]> = [['cpu', true], ['wasm', true], ['tensorflow', NATIVE_MISSING === undefined]];

describe.each(BACKENDS)('onnx-to-tfjs op parity on tfjs %s (vs onnxruntime, and back through tfjs-to-onnx)', (backend, available) => {
  let tf: Tf;
  const diffs: Array<[string, number, number]> = [];
  beforeAll(async () => {
    if (available) tf = await useTfBackend(backend);
  });
  afterAll(() => {
    if (!diffs.length) return;
    const worst = [...diffs].sort((a, b) => b[1] - a[1]).slice(0, 3);
    const worstBack = [...diffs].sort((a, b) => b[2] - a[2]).slice(0, 1);
    process.stdout.write(
      `onnx-to-tfjs parity (${backend}): ${diffs.length} cases; worst tfjs: ${worst.map(([n, d]) => `${n} ${d.toExponential(2)}`).join('; ')}; ` +
        `worst re-export: ${worstBack.map(([n, , d]) => `${n} ${d.toExponential(2)}`).join('; ')}\n`,
    );
  });

  (available ? test.each : test.skip.each)(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const model = buildCase(c, i);
    const atol = c.atol?.value ?? ATOL;
    const feeds: FloatTensor[] = c.inputs.map((dims, k) => randomInput(dims, 11 + i * 3 + k, c.scale));
    const names = c.inputs.map((_, k) => `x${k}`);
    const outNames = (model.graph?.output ?? []).map((o) => o.name as string);
    const ref = await runModel(model, Object.fromEntries(names.map((n, k) => [n, feeds[k]])));
    const refs = outNames.map((n) => ref[n]);

    const inputShapes = c.staticShape ? Object.fromEntries(names.map((n, k) => [n, c.inputs[k]])) : undefined;
    const { model: tfModel } = onnxToTfjs(tf, model, { inputShapes });
    try {
      const got = predictNchw(tf, tfModel, feeds);
      const diff = maxAbsDiff(got, refs);
      got.forEach((g, k) => {
        expect(g.dims).toEqual(refs[k].dims);
        expect(g.data).toBeCloseToArray(refs[k].data, { atol });
      });

      if (backend === 'cpu') {
        // Every layer (custom ones included) survives a model.json + weights round trip.
        const reloaded = await roundTrip(tf, tfModel);
        try {
          expect(maxAbsDiff(predictNchw(tf, reloaded, feeds), got)).toBe(0);
        } finally {
          reloaded.dispose();
        }
      }

      const back = tfjsToOnnx(tfModel, { inputNames: names });
      const again = await runModel(back, Object.fromEntries(names.map((n, k) => [n, feeds[k]])));
      const backOuts = (back.graph?.output ?? []).map((o) => again[o.name as string]);
      const backDiff = maxAbsDiff(backOuts, refs);
      expect(backDiff).toBeLessThanOrEqual(atol);
      if (!c.growth) expect(modelInfo(back).nodeCount).toBeLessThanOrEqual(modelInfo(model).nodeCount);
      diffs.push([c.name, diff, backDiff]);
    } finally {
      tfModel.dispose();
    }
  });
});

describe('onnx-to-tfjs refusals of the backbone ops (clear errors, nothing built)', () => {
  const refusals: Array<[string, (g: G) => string[], RegExp]> = [
    ['LRN of even size', (g) => [g.node('LRN', [g.x[0]], { size: 4 })], /LRN size 4; supported: odd sizes/],
    ['an NHWC-order activation into Concat', (g) => [g.node('Concat', [g.node('Transpose', [g.x[0]], { perm: [0, 2, 3, 1] }), g.x[0]], { axis: 1 })], /activation in NHWC order/],
    ['an NHWC-order graph output', (g) => [g.node('Relu', [g.node('Transpose', [g.x[0]], { perm: [0, 2, 3, 1] })])], /'Relu' at node '.*' \(graph output '.*' in NHWC order/],
    ['LayerNormalization over H, W, C of an NHWC-order activation', (g) => [g.node('Transpose', [g.node('LayerNormalization', [g.node('Transpose', [g.x[0]], { perm: [0, 2, 3, 1] }), g.w([9, 11, 3])], { axis: 1 })], { perm: [0, 3, 1, 2] })], /LayerNormalization from axis 1 of an activation in NHWC order/],
    ['ReduceMean over channels without keepdims', (g) => [g.node('ReduceMean', [g.x[0]], { axes: [1], keepdims: 0 })], /ReduceMean over axes \[1\]/],
  ];
  test.each(refusals)('%s', async (_name, build, message) => {
    const tf = await useTfBackend('cpu');
    const model = buildCase({ name: _name, ops: [], inputs: [X4], build }, 0);
    expect(() => onnxToTfjs(tf, model)).toThrow(message);
  });
});

test('OnnxUnary Gelu exports as the Gelu op at opset 20 (onnxruntime agrees)', async () => {
  const tf = await useTfBackend('cpu');
  for (const approximate of ['none', 'tanh']) {
    const model = buildCase({ name: 'gelu', ops: [], opset: 20, inputs: [X4], build: (g) => [g.node('Gelu', [g.x[0]], { approximate })] }, 0);
    const { model: tfModel } = onnxToTfjs(tf, model);
    try {
      const back = tfjsToOnnx(tfModel, { inputNames: ['x0'], opset: 20 });
      expect((back.graph?.node ?? []).map((n) => n.opType)).toEqual(['Gelu']);
      const x = randomInput(X4, 5, 3);
      const [ref, got] = await Promise.all([runModel(model, { x0: x }), runModel(back, { x0: x })]);
      expect(maxAbsDiff(Object.values(got), Object.values(ref))).toBeLessThanOrEqual(ATOL);
    } finally {
      tfModel.dispose();
    }
  }
});

test('every op of the mapping table has a parity case', () => {
  const covered = new Set(cases.flatMap((c) => c.ops));
  const missing = [...new Set([...CONVERTIBLE_OPS, ...FOLDABLE_OPS])].filter((op) => !covered.has(op));
  expect(missing).toEqual([]);
});
