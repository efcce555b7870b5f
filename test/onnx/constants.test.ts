/**
 * The constant resolver (src/onnx/constants.ts) and its rules (src/onnx/const-rules.ts): each
 * source kind with hand-computed values, opset attribute/input variants, QDQ forms (per tensor,
 * per axis, blocked; round half to even), and hostile graphs: cycles, huge ConstantOfShape dims
 * (refused with an InputError before allocating), long chains, and total-size caps.
 */
import { InputError } from '../../src/errors';
import { GraphBuilder, floatAttr } from '../../src/onnx/builder';
import { MAX_CONSTANT_ELEMENTS, evaluateConstNode, roundHalfEven } from '../../src/onnx/const-rules';
import { constantResolver, ConstantResolver } from '../../src/onnx/constants';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import { DataType, onnx } from '../../src/onnx/proto';
import { floatTensor, int64Tensor } from '../../src/onnx/tensor';

function typed(name: string, dims: number[], type: number, values: number[]): onnx.TensorProto {
  const size = type === DataType.INT32 ? 4 : 1;
  const raw = new Uint8Array(values.length * size);
  const v = new DataView(raw.buffer);
  values.forEach((x, i) => (type === DataType.INT8 ? v.setInt8(i, x) : type === DataType.UINT8 ? v.setUint8(i, x) : v.setInt32(i * 4, x, true)));
  return onnx.TensorProto.create({ name, dims, dataType: type, rawData: raw });
}

/** A graph with an image input `x`, whatever `build` adds, and `y = Identity(x)` as output. */
function graph(build: (b: GraphBuilder) => void, opset = 17) {
  const b = new GraphBuilder('consts');
  b.addInput('x', ['N', 3, 4, 4]);
  build(b);
  b.addNode('Identity', ['x'], ['y']);
  b.addOutput('y');
  return b.toModel({ opset });
}

const values = (r: ConstantResolver, name: string) => Array.from(r.value(name)?.data ?? []);

describe('constant resolver: sources', () => {
  test('initializers, Constant value / value_float(s) / value_int(s), and graph inputs that are data', () => {
    const m = graph((b) => {
      b.addInitializer('w', [2, 2], Float32Array.of(1, 2, 3, 4));
      b.addNode('Constant', [], ['c_t'], { value: floatTensor('', [3], Float32Array.of(0.5, -1, 2)) });
      b.addNode('Constant', [], ['c_f'], { value_float: floatAttr(1.5) });
      b.addNode('Constant', [], ['c_fs'], { value_floats: [0.25, 0.75] });
      b.addNode('Constant', [], ['c_i'], { value_int: 7 });
      b.addNode('Constant', [], ['c_is'], { value_ints: [1, -2, 3] });
      b.addNode('Add', ['x', 'w'], ['data']);
    });
    const r = constantResolver(m);
    expect(r.value('w')).toMatchObject({ dtype: 'float', dims: [2, 2] });
    expect(values(r, 'w')).toEqual([1, 2, 3, 4]);
    expect(values(r, 'c_t')).toEqual([0.5, -1, 2]);
    expect(r.value('c_f')).toMatchObject({ dims: [], dtype: 'float' });
    expect(values(r, 'c_f')).toEqual([1.5]);
    expect(values(r, 'c_fs')).toEqual([0.25, 0.75]);
    expect(r.ints('c_i')).toEqual([7]);
    expect(r.ints('c_is')).toEqual([1, -2, 3]);
    expect(r.isConstant('x')).toBe(false);
    expect(r.isConstant('data')).toBe(false);
    expect(r.value('data')).toBeUndefined();
    expect(r.value('nope')).toBeUndefined();
  });

  test('ConstantOfShape (default 0.0, typed value) and an Add of a constant; dims read without evaluating', () => {
    const m = graph((b) => {
      b.addInt64Initializer('shape', [2], [2, 3]);
      b.addNode('ConstantOfShape', ['shape'], ['zeros']);
      b.addNode('ConstantOfShape', ['shape'], ['sevens'], { value: int64Tensor('', [1], [7]) });
      b.addInitializer('row', [3], Float32Array.of(1, 2, 3));
      b.addNode('Add', ['zeros', 'row'], ['w']);
    });
    const r = constantResolver(m);
    expect(r.dims('zeros')).toEqual([2, 3]);
    expect(r.value('zeros')).toMatchObject({ dtype: 'float', dims: [2, 3] });
    expect(values(r, 'zeros')).toEqual([0, 0, 0, 0, 0, 0]);
    expect(r.value('sevens')).toMatchObject({ dtype: 'int', onnxType: DataType.INT64 });
    expect(r.ints('sevens')).toEqual([7, 7, 7, 7, 7, 7]);
    expect(values(r, 'w')).toEqual([1, 2, 3, 1, 2, 3]);
  });

  test('Identity → Cast → Transpose → Unsqueeze → Reshape → Squeeze → Flatten chains (hand-computed)', () => {
    const m = graph((b) => {
      b.addInitializer('t', [2, 3], Float32Array.of(1, 2, 3, 4, 5, 6));
      b.addNode('Identity', ['t'], ['a']);
      b.addNode('Cast', ['a'], ['b'], { to: DataType.INT64 });
      b.addNode('Transpose', ['b'], ['c'], { perm: [1, 0] }); // [[1,4],[2,5],[3,6]]
      b.addInt64Initializer('ax0', [1], [0]);
      b.addNode('Unsqueeze', ['c', 'ax0'], ['d']); // [1,3,2]
      b.addInt64Initializer('shape', [2], [2, -1]);
      b.addNode('Reshape', ['d', 'shape'], ['e']); // [2,3]
      b.addInt64Initializer('ax', [1], [0]);
      b.addNode('Unsqueeze', ['e', 'ax'], ['f']);
      b.addNode('Squeeze', ['f', 'ax'], ['g']);
      b.addNode('Flatten', ['g'], ['h'], { axis: 0 });
    });
    const r = constantResolver(m);
    expect(r.value('c')?.dims).toEqual([3, 2]);
    expect(r.ints('c')).toEqual([1, 4, 2, 5, 3, 6]);
    expect(r.value('d')?.dims).toEqual([1, 3, 2]);
    expect(r.value('e')?.dims).toEqual([2, 3]);
    expect(r.value('h')).toMatchObject({ dims: [1, 6], dtype: 'int' });
    expect(r.ints('h')).toEqual([1, 4, 2, 5, 3, 6]);
    expect(r.dims('a')).toEqual([2, 3]);
  });

  test('Concat, Gather, Slice (with steps), Shape, Range, Sub/Mul/Div (integer Div truncates), Clip', () => {
    const m = graph((b) => {
      b.addInt64Initializer('a', [2], [1, 2]);
      b.addInt64Initializer('b', [3], [3, 4, 5]);
      b.addNode('Concat', ['a', 'b'], ['cat'], { axis: 0 });
      b.addInt64Initializer('idx', [2], [4, -5]);
      b.addNode('Gather', ['cat', 'idx'], ['gat']);
      b.addInt64Initializer('s0', [1], [-1]);
      b.addInt64Initializer('s1', [1], [-100]);
      b.addInt64Initializer('s2', [1], [0]);
      b.addInt64Initializer('s3', [1], [-2]);
      b.addNode('Slice', ['cat', 's0', 's1', 's2', 's3'], ['rev']);
      b.addNode('Shape', ['cat'], ['shp']);
      b.addInt64Initializer('r0', [], [0]);
      b.addInt64Initializer('r1', [], [7]);
      b.addInt64Initializer('r2', [], [3]);
      b.addNode('Range', ['r0', 'r1', 'r2'], ['rng']);
      b.addInt64Initializer('m7', [1], [-7]);
      b.addInt64Initializer('two', [1], [2]);
      b.addNode('Div', ['m7', 'two'], ['q']);
      b.addInitializer('f', [3], Float32Array.of(-2, 0.5, 9));
      b.addInitializer('lo', [], Float32Array.of(-1));
      b.addInitializer('hi', [], Float32Array.of(1));
      b.addNode('Clip', ['f', 'lo', 'hi'], ['clip']);
      b.addNode('Mul', ['f', 'f'], ['sq']);
      b.addNode('Sub', ['sq', 'f'], ['sub']);
    });
    const r = constantResolver(m);
    expect(r.ints('cat')).toEqual([1, 2, 3, 4, 5]);
    expect(r.ints('gat')).toEqual([5, 1]);
    expect(r.ints('rev')).toEqual([5, 3, 1]);
    expect(r.ints('shp')).toEqual([5]);
    expect(r.ints('rng')).toEqual([0, 3, 6]);
    expect(r.ints('q')).toEqual([-3]);
    expect(values(r, 'clip')).toEqual([-1, 0.5, 1]);
    expect(values(r, 'sub')).toEqual([6, -0.25, 72]);
  });

  test('Mod: the sign of the divisor (fmod 0, integers) or of the dividend (fmod 1)', () => {
    const m = graph((b) => {
      b.addInt64Initializer('a', [4], [7, -7, 7, -7]);
      b.addInt64Initializer('d', [4], [3, 3, -3, -3]);
      b.addNode('Mod', ['a', 'd'], ['py']);
      b.addNode('Mod', ['a', 'd'], ['c'], { fmod: 1 });
      b.addInitializer('f', [2], Float32Array.of(5.5, -5.5));
      b.addInitializer('g', [], Float32Array.of(2));
      b.addNode('Mod', ['f', 'g'], ['ff'], { fmod: 1 });
    });
    const r = constantResolver(m);
    expect(r.ints('py')).toEqual([1, 2, -2, -1]);
    expect(r.ints('c')).toEqual([1, -1, 1, -1]);
    expect(values(r, 'ff')).toEqual([1.5, -1.5]);
  });

  test('an initializer also listed as a graph input (IR < 4) is a weight; a real input never is', () => {
    const b = new GraphBuilder('ir3');
    b.addInput('x', ['N', 3, 4, 4]);
    b.addInitializer('w', [2], Float32Array.of(3, 4));
    b.inputs.push(makeValueInfo('w', [2]));
    b.addNode('Identity', ['w'], ['w2']);
    b.addNode('Identity', ['x'], ['y']);
    b.addOutput('y');
    const m = b.toModel({ opset: 9, irVersion: 3 });
    const r = constantResolver(m);
    expect(r.isInitializer('w')).toBe(true);
    expect(values(r, 'w2')).toEqual([3, 4]);
    expect(r.isConstant('x')).toBe(false);
  });
});

describe('constant resolver: opset forms', () => {
  test.each([
    [9, 'attributes'],
    [11, 'attributes'],
    [13, 'inputs'],
    [21, 'inputs'],
  ])('opset %i: Unsqueeze/Squeeze axes as %s, Slice starts/ends as attributes before 10', (opset: number, _form: string) => {
    const m = graph((b) => {
      b.addInitializer('v', [3], Float32Array.of(1, 2, 3));
      if (opset >= 13) {
        b.addInt64Initializer('ax', [2], [0, 2]);
        b.addNode('Unsqueeze', ['v', 'ax'], ['u']);
        b.addNode('Squeeze', ['u', 'ax'], ['s']);
      } else {
        b.addNode('Unsqueeze', ['v'], ['u'], { axes: [0, 2] });
        b.addNode('Squeeze', ['u'], ['s'], { axes: [0, 2] });
      }
      if (opset < 10) b.addNode('Slice', ['v'], ['sl'], { starts: [1], ends: [3], axes: [0] });
      else {
        b.addInt64Initializer('st', [1], [1]);
        b.addInt64Initializer('en', [1], [3]);
        b.addNode('Slice', ['v', 'st', 'en'], ['sl']);
      }
    }, opset);
    const r = constantResolver(m);
    expect(r.opset).toBe(opset);
    expect(r.value('u')?.dims).toEqual([1, 3, 1]);
    expect(r.value('s')?.dims).toEqual([3]);
    expect(values(r, 'sl')).toEqual([2, 3]);
  });

  test('Reshape with allowzero (14) and 0 = copy otherwise', () => {
    const m = graph((b) => {
      b.addInitializer('v', [2, 3], new Float32Array(6));
      b.addInt64Initializer('t', [2], [0, -1]);
      b.addNode('Reshape', ['v', 't'], ['copy']);
    });
    expect(constantResolver(m).dims('copy')).toEqual([2, 3]);
  });
});

describe('constant resolver: QDQ', () => {
  test('DequantizeLinear: int8 per axis, uint8 per tensor with zero point, int32 bias, opset 10 form', () => {
    const m = graph((b) => {
      b.addTensor(typed('q8', [2, 2], DataType.INT8, [-128, 1, 127, -3]));
      b.addInitializer('s2', [2], Float32Array.of(0.5, 0.25));
      b.addTensor(typed('z2', [2], DataType.INT8, [0, -1]));
      b.addNode('DequantizeLinear', ['q8', 's2', 'z2'], ['w'], { axis: 0 });
      b.addTensor(typed('u8', [3], DataType.UINT8, [0, 128, 255]));
      b.addInitializer('s', [], Float32Array.of(0.1));
      b.addTensor(typed('zu', [], DataType.UINT8, [128]));
      b.addNode('DequantizeLinear', ['u8', 's', 'zu'], ['act']);
      b.addTensor(typed('b32', [2], DataType.INT32, [1000, -7]));
      b.addNode('DequantizeLinear', ['b32', 's'], ['bias']);
    }, 13);
    const r = constantResolver(m);
    expect(values(r, 'w')).toEqual([-64, 0.5, 32, -0.5]);
    expect(r.dims('w')).toEqual([2, 2]);
    expect(values(r, 'act')).toEqual([-128, 0, 127].map((v) => Math.fround(v * Math.fround(0.1))));
    expect(values(r, 'bias')).toEqual([1000, -7].map((v) => Math.fround(v * Math.fround(0.1))));
  });

  test('blocked DequantizeLinear (opset 21 block_size) and QuantizeLinear rounding half to even, saturating', () => {
    const m = graph((b) => {
      b.addTensor(typed('q', [1, 4], DataType.INT8, [1, 2, 3, 4]));
      b.addInitializer('bs', [1, 2], Float32Array.of(1, 10));
      b.addNode('DequantizeLinear', ['q', 'bs'], ['blk'], { axis: 1, block_size: 2 });
      b.addInitializer('f', [6], Float32Array.of(0.5, 1.5, 2.5, -0.5, 1000, -1000));
      b.addInitializer('one', [], Float32Array.of(1));
      b.addTensor(typed('zi', [], DataType.INT8, [0]));
      b.addNode('QuantizeLinear', ['f', 'one', 'zi'], ['qi']);
      b.addNode('QuantizeLinear', ['f', 'one'], ['qu']);
    }, 21);
    const r = constantResolver(m);
    expect(values(r, 'blk')).toEqual([1, 2, 30, 40]);
    expect(r.ints('qi')).toEqual([0, 2, 2, 0, 127, -128]);
    expect(r.value('qu')?.onnxType).toBe(DataType.UINT8);
    expect(r.ints('qu')).toEqual([0, 2, 2, 0, 255, 0]);
    expect([0.5, 1.5, 2.5, -2.5, 3.49].map(roundHalfEven)).toEqual([0, 2, 2, -2, 3]);
  });

  test('a per-axis scale that does not fit is an InputError naming the node', () => {
    const m = graph((b) => {
      b.addTensor(typed('q', [2, 2], DataType.INT8, [1, 2, 3, 4]));
      b.addInitializer('s3', [3], Float32Array.of(1, 1, 1));
      b.addNode('DequantizeLinear', ['q', 's3'], ['bad'], { axis: 0 });
    });
    expect(() => constantResolver(m, { label: 'm.onnx' }).value('bad')).toThrow(InputError);
    expect(() => constantResolver(m, { label: 'm.onnx' }).value('bad')).toThrow(/m\.onnx: node .*DequantizeLinear.*per-axis scale/);
  });
});

describe('constant resolver: hostile graphs', () => {
  test('huge ConstantOfShape dims are refused with an InputError before anything is allocated', () => {
    const m = graph((b) => {
      b.addInt64Initializer('huge', [3], [1 << 20, 1 << 20, 1 << 20]);
      b.addNode('ConstantOfShape', ['huge'], ['big']);
    });
    const before = process.memoryUsage().arrayBuffers;
    const r = constantResolver(m, { label: 'evil.onnx' });
    expect(r.dims('big')).toEqual([1 << 20, 1 << 20, 1 << 20]); // dims alone are cheap
    expect(() => r.value('big')).toThrow(InputError);
    expect(() => r.value('big')).toThrow(new RegExp(`evil\\.onnx: .*ConstantOfShape.*more than the ${MAX_CONSTANT_ELEMENTS}`));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
  });

  test('negative or non-integer ConstantOfShape dims are an InputError', () => {
    const node = onnx.NodeProto.create({ opType: 'ConstantOfShape', input: ['s'], output: ['o'] });
    const shape = { dtype: 'int' as const, dims: [2], data: Float64Array.of(2, -1), onnxType: DataType.INT64 };
    expect(() => evaluateConstNode(node, [shape], 17)).toThrow(InputError);
  });

  test('broadcasts and the per-resolver total are capped too', () => {
    const m = graph((b) => {
      b.addInt64Initializer('n', [2], [1 << 13, 1]);
      b.addInt64Initializer('m', [2], [1, 1 << 13]);
      b.addNode('ConstantOfShape', ['n'], ['col']);
      b.addNode('ConstantOfShape', ['m'], ['row']);
      b.addNode('Add', ['col', 'row'], ['outer']);
    });
    expect(() => constantResolver(m, { maxElements: 1 << 20 }).value('outer')).toThrow(/Add result of dims \[8192,8192\]/);
    expect(() => constantResolver(m, { maxElements: 1 << 26, maxTotalElements: 1 << 12 }).value('col')).toThrow(/more than the 4096 one model may compute/);
  });

  test('a cycle among constant-looking nodes is data, not a hang or a stack overflow', () => {
    const nodes = [
      onnx.NodeProto.create({ opType: 'Identity', input: ['b'], output: ['a'] }),
      onnx.NodeProto.create({ opType: 'Cast', input: ['a'], output: ['b'], attribute: [{ name: 'to', type: 2, i: 1 }] }),
      onnx.NodeProto.create({ opType: 'Identity', input: ['self'], output: ['self'] }),
    ];
    const r = new ConstantResolver(onnx.GraphProto.create({ node: nodes }));
    expect(r.isConstant('a')).toBe(false);
    expect(r.isConstant('b')).toBe(false);
    expect(r.value('self')).toBeUndefined();
  });

  test('a 100,000-node Identity chain resolves without recursion', () => {
    const nodes: onnx.NodeProto[] = [];
    for (let i = 0; i < 100_000; i++) nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [`t${i}`], output: [`t${i + 1}`] }));
    const g = onnx.GraphProto.create({ node: nodes, initializer: [floatTensor('t0', [2], Float32Array.of(5, 6))] });
    const r = new ConstantResolver(g);
    expect(Array.from(r.value('t100000')?.data ?? [])).toEqual([5, 6]);
    expect(r.dims('t100000')).toEqual([2]);
  });

  test('ops without a rule, other domains and subgraph ops are not constants', () => {
    const m = graph((b) => {
      b.addInitializer('v', [2], Float32Array.of(1, 2));
      b.addNode('Relu', ['v'], ['relu']);
      b.addNode('Identity', ['v'], ['custom'], {}, 'custom', 'com.example');
    });
    const r = constantResolver(m);
    expect(r.isConstant('relu')).toBe(false);
    expect(r.isConstant('custom')).toBe(false);
  });
});
