/**
 * convertOpset: for every op whose signature changed between opsets, a tiny model in the old
 * (or new) form is converted across the change and both versions run in onnxruntime on the
 * same input; outputs must be identical (max |diff| ≤ 1e-6). Conversions that cannot be
 * expressed are refused with UnsupportedOpError naming the node. The resnet20 fixture moves
 * between opsets 11, 13, 17 and 21 when ../shared is present.
 */
import type { FloatTensor } from '../../src/backends/ort';
import { UnsupportedOpError } from '../../src/errors';
import { floatAttr, GraphBuilder, type AttrValue } from '../../src/onnx/builder';
import { checkModel } from '../../src/onnx/check';
import { loadModel } from '../../src/onnx/model-io';
import { modelInfo } from '../../src/onnx/info';
import type { onnx } from '../../src/onnx/proto';
import { convertOpset, defaultOpset } from '../../converters';
import { runModel, seeded } from '../onnx/fixtures';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { maxAbsDiff, randomInput } from './onnx-parity';

interface OpsetCase {
  name: string;
  from: number;
  to: number[];
  input: number[];
  /** Declared input dims (default: the input's dims). */
  declared?: Array<number | string>;
  build: (b: GraphBuilder) => string[];
}

let k = 0;
const uniq = (p: string) => `${p}${k++}`;
const i64 = (b: GraphBuilder, v: number[]) => b.addInt64Initializer(uniq('i'), [v.length], v);
const f32 = (b: GraphBuilder, v: number[], dims = [v.length]) => b.addInitializer(uniq('f'), dims, Float32Array.from(v));
const node = (b: GraphBuilder, op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, outs = 1): string[] => {
  const o = Array.from({ length: outs }, () => uniq(`${op.toLowerCase()}_`));
  b.addNode(op, inputs, o, attrs);
  return o;
};

const X = [2, 3, 4, 5];
const cases: OpsetCase[] = [
  { name: 'Clip min/max attributes → inputs', from: 10, to: [11, 13, 21], input: X, build: (b) => node(b, 'Clip', ['x'], { min: floatAttr(-0.5), max: floatAttr(0.25) }) },
  { name: 'Clip inputs → attributes', from: 13, to: [10], input: X, build: (b) => node(b, 'Clip', ['x', '', f32(b, [0.3], [])]) },
  { name: 'Pad attributes → inputs', from: 10, to: [11, 18], input: X, build: (b) => node(b, 'Pad', ['x'], { pads: [0, 1, 1, 0, 0, 0, 2, 1], value: floatAttr(0.5) }) },
  { name: 'Pad inputs → attributes (reflect)', from: 17, to: [10], input: X, build: (b) => node(b, 'Pad', ['x', i64(b, [0, 0, 1, 2, 0, 0, 2, 1])], { mode: 'reflect' }) },
  { name: 'Slice attributes → inputs', from: 9, to: [10, 17], input: X, build: (b) => node(b, 'Slice', ['x'], { starts: [1, 0], ends: [3, -1], axes: [2, 3] }) },
  { name: 'Slice inputs → attributes', from: 13, to: [10], input: X, build: (b) => node(b, 'Slice', ['x', i64(b, [1]), i64(b, [-1]), i64(b, [3])]) },
  { name: 'Squeeze/Unsqueeze axes attribute → input', from: 12, to: [13, 21], input: [2, 3, 1, 5], build: (b) => node(b, 'Unsqueeze', node(b, 'Squeeze', ['x'], { axes: [2] }), { axes: [0, 4] }) },
  { name: 'Squeeze/Unsqueeze axes input → attribute', from: 13, to: [12, 11], input: [2, 3, 1, 5], build: (b) => node(b, 'Unsqueeze', [node(b, 'Squeeze', ['x', i64(b, [2])])[0], i64(b, [1])]) },
  { name: 'ReduceSum axes attribute ↔ input (13)', from: 12, to: [13, 17], input: X, build: (b) => node(b, 'ReduceSum', ['x'], { axes: [1, 3], keepdims: 0 }) },
  { name: 'ReduceMean/ReduceMax axes attribute → input (18)', from: 17, to: [18, 21], input: X, build: (b) => node(b, 'ReduceMax', node(b, 'ReduceMean', ['x'], { axes: [2, 3], keepdims: 1 }), { axes: [1], keepdims: 0 }) },
  { name: 'ReduceMean axes input → attribute', from: 18, to: [17, 13], input: X, build: (b) => node(b, 'ReduceMean', ['x', i64(b, [-1, 2])], { keepdims: 0 }) },
  { name: 'Split split attribute ↔ input (13)', from: 12, to: [13, 17], input: X, build: (b) => node(b, 'Split', ['x'], { axis: 3, split: [2, 3] }, 2) },
  { name: 'Split split input → attribute', from: 17, to: [11], input: X, build: (b) => node(b, 'Split', ['x', i64(b, [1, 2])], { axis: 1 }, 2) },
  { name: 'Resize-10 nearest (X, scales) → 11+', from: 10, to: [11, 13, 19], input: X, build: (b) => node(b, 'Resize', ['x', f32(b, [1, 1, 2, 3])], { mode: 'nearest' }) },
  { name: 'Resize-10 linear (X, scales) → 11+', from: 10, to: [11, 21], input: X, build: (b) => node(b, 'Resize', ['x', f32(b, [1, 1, 2, 2])], { mode: 'linear' }) },
  {
    name: 'Resize asymmetric/floor (opset 18) → 10',
    from: 18,
    to: [17, 12, 10],
    input: X,
    build: (b) => node(b, 'Resize', ['x', '', f32(b, [1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
  },
  { name: 'Softmax of [N, C] default axis (12 ↔ 13)', from: 12, to: [13, 21], input: [3, 7], build: (b) => node(b, 'Softmax', ['x']) },
  { name: 'Softmax axis -1 (13 → 11)', from: 13, to: [11], input: X, build: (b) => node(b, 'LogSoftmax', ['x'], { axis: -1 }) },
  {
    name: 'BatchNormalization spatial attribute removed (8 → 10)',
    from: 8,
    to: [10, 15],
    input: X,
    build: (b) => node(b, 'BatchNormalization', ['x', f32(b, [1, 2, 0.5]), f32(b, [0, 0.1, -1]), f32(b, [0.2, 0, 0.3]), f32(b, [1, 0.5, 2])], { spatial: 1, epsilon: floatAttr(1e-5) }),
  },
];

function build(c: OpsetCase): onnx.ModelProto {
  const b = new GraphBuilder(c.name);
  b.addInput('x', c.declared ?? c.input);
  for (const o of c.build(b)) b.addOutput(o);
  return b.toModel({ opset: c.from, irVersion: c.from <= 8 ? 3 : undefined });
}

async function outputs(model: onnx.ModelProto, x: FloatTensor): Promise<FloatTensor[]> {
  const r = await runModel(model, { x });
  return (model.graph?.output ?? []).map((o) => r[o.name as string]);
}

describe('convertOpset: parity across each signature change (onnxruntime)', () => {
  test.each(cases.flatMap((c) => c.to.map((to) => [`${c.name}: ${c.from} → ${to}`, c, to] as const)))('%s', async (_n, c, to) => {
    const src = build(c);
    const x = randomInput(c.input, 3);
    const ref = await outputs(src, x);
    const { model: converted, report } = convertOpset(src, to);
    expect(defaultOpset(converted)).toBe(to);
    expect(checkModel(converted)).toEqual([]);
    expect(report.from).toBe(c.from);
    const got = await outputs(converted, x);
    expect(maxAbsDiff(got, ref)).toBeLessThanOrEqual(1e-6);
    // And back again.
    const back = convertOpset(converted, Math.max(c.from, 10)).model;
    expect(maxAbsDiff(await outputs(back, x), ref)).toBeLessThanOrEqual(1e-6);
  });
});

describe('convertOpset refuses what the target opset cannot express', () => {
  const refuse: Array<[string, number, number, (b: GraphBuilder) => string[], RegExp]> = [
    ['Resize half_pixel → 10', 13, 10, (b) => node(b, 'Resize', ['x', '', f32(b, [1, 1, 2, 2])], { mode: 'linear' }), /coordinate_transformation_mode 'half_pixel'/],
    ['Resize by sizes → 10', 13, 10, (b) => node(b, 'Resize', ['x', '', '', i64(b, [2, 3, 8, 10])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }), /sizes/],
    ['Resize antialias → 17', 18, 17, (b) => node(b, 'Resize', ['x', '', f32(b, [1, 1, 0.5, 0.5])], { mode: 'linear', antialias: 1 }), /antialias/],
    ['Resize half_pixel_symmetric → 18', 19, 18, (b) => node(b, 'Resize', ['x', '', f32(b, [1, 1, 2, 2])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' }), /half_pixel_symmetric/],
    ['Clip with a computed bound → 10', 13, 10, (b) => node(b, 'Clip', ['x', node(b, 'ReduceMin', ['x'], { keepdims: 0 })[0]]), /computed 'min'/],
    ['Pad with axes → 17', 18, 17, (b) => node(b, 'Pad', ['x', i64(b, [1, 1]), '', i64(b, [2])]), /axes/],
    ['Softmax over channels of [N,C,H,W] → 12', 13, 12, (b) => node(b, 'Softmax', ['x'], { axis: 1 }), /Softmax over axis 1/],
    ['Split num_outputs → 17', 18, 17, (b) => node(b, 'Split', ['x'], { axis: 1, num_outputs: 3 }, 3), /num_outputs/],
  ];
  test.each(refuse)('%s', (_n, from, to, body, message) => {
    const b = new GraphBuilder('refuse');
    b.addInput('x', X);
    for (const o of body(b)) b.addOutput(o);
    const m = b.toModel({ opset: from });
    expect(() => convertOpset(m, to)).toThrow(UnsupportedOpError);
    expect(() => convertOpset(m, to)).toThrow(message);
  });

  test('opsets out of range are refused with the valid range', () => {
    const b = new GraphBuilder('r');
    b.addInput('x', X);
    b.addNode('Relu', ['x'], ['y']);
    b.addOutput('y');
    expect(() => convertOpset(b.toModel({ opset: 17 }), 9)).toThrow(/target opset 9.*Supported: 10, 11/);
    expect(() => convertOpset(b.toModel({ opset: 17 }), 22)).toThrow(UnsupportedOpError);
    expect(() => convertOpset(b.toModel({ opset: 6 }), 13)).toThrow(/source opset 6/);
    const same = convertOpset(b.toModel({ opset: 17 }), 17);
    expect(same.report.rewritten).toEqual({});
    expect(convertOpset(b.toModel({ opset: 13 }), 21).model.irVersion).toBe(10);
  });
});

describeIfShared('convertOpset on resnet20 (../shared/models)', ['models/resnet20_cifar10.onnx'], () => {
  test.each([11, 13, 21])('resnet20 opset 17 → %i gives the same logits', async (to) => {
    const m = loadModel(sharedPath('models/resnet20_cifar10.onnx'));
    const x = { data: seeded(2 * 3 * 32 * 32, 9), dims: [2, 3, 32, 32] };
    const ref = (await runModel(m, { input: x })).logits;
    const { model: c } = convertOpset(m, to);
    const got = (await runModel(c, { input: x })).logits;
    expect(got.data).toBeCloseToArray(ref.data, { atol: 1e-6 });
    expect(modelInfo(c).nodeCount).toBeLessThanOrEqual(modelInfo(m).nodeCount);
  });
});
