/**
 * Hostile and broken ONNX inputs for the fuzz test: byte mutations of valid fixtures
 * (truncation, bit flips, inserted/deleted/duplicated runs, huge varints), structured models
 * with huge/negative dims, cycles, duplicate names, mismatched initializer sizes, hostile
 * external-data fields and random attributes, and subgraphs nested thousands of levels deep
 * (written as raw protobuf bytes, since encoding them recursively would overflow the stack).
 */
import fc from 'fast-check';
import { GraphBuilder } from '../../src/onnx/builder';
import { encodeModel } from '../../src/onnx/model-io';
import { AttributeType, onnx } from '../../src/onnx/proto';
import { seeded } from '../helpers/seeded';


// ---------------------------------------------------------------- valid fixtures

/** x → Conv → Relu → Conv → Relu → y, with an unused initializer and value-info. */
function convStack(): onnx.ModelProto {
  const b = new GraphBuilder('stack');
  b.addInput('x', ['N', 2, 'H', 'W']);
  b.addInitializer('w1', [4, 2, 3, 3], seeded(72, 1));
  b.addInitializer('b1', [4], seeded(4, 2));
  b.addInitializer('w2', [3, 4, 3, 3], seeded(108, 3));
  b.addNode('Conv', ['x', 'w1', 'b1'], ['conv1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Relu', ['conv1'], ['relu1']);
  b.addNode('Conv', ['relu1', 'w2'], ['conv2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  b.addNode('Relu', ['conv2'], ['y']);
  b.addValueInfo('relu1', ['N', 4, 'H', 'W']);
  b.addOutput('y', ['N', 3, 'H', 'W']);
  return b.toModel({ opset: 17, metadata: { origin: 'fuzz' } });
}

/** A two-block residual net (Conv-Relu-Conv + identity Add) so mutations reach detectArchitecture's paths. */
function tinyResnet(): onnx.ModelProto {
  const b = new GraphBuilder('res');
  b.addInput('x', ['N', 1, 8, 8]);
  b.addInitializer('ws', [4, 1, 3, 3], seeded(36, 4));
  b.addNode('Conv', ['x', 'ws'], ['stem'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  let cur = 'stem';
  for (let k = 0; k < 2; k++) {
    b.addInitializer(`wa${k}`, [4, 4, 3, 3], seeded(144, 10 + k));
    b.addInitializer(`wb${k}`, [4, 4, 3, 3], seeded(144, 20 + k));
    b.addNode('Conv', [cur, `wa${k}`], [`c${k}a`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    b.addNode('Relu', [`c${k}a`], [`r${k}a`]);
    b.addNode('Conv', [`r${k}a`, `wb${k}`], [`c${k}b`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    b.addNode('Add', [`c${k}b`, cur], [`add${k}`]);
    b.addNode('Relu', [`add${k}`], [`out${k}`]);
    cur = `out${k}`;
  }
  b.addNode('MaxPool', [cur], ['pool'], { kernel_shape: [2, 2], strides: [2, 2] });
  b.addOutput('pool', ['N', 4, 4, 4]);
  return b.toModel({ opset: 17 });
}

/** Three Conv-Relu-MaxPool blocks (a VGG layout detectArchitecture recognizes). */
function tinyVgg(): onnx.ModelProto {
  const b = new GraphBuilder('vgg');
  b.addInput('x', ['N', 1, 16, 16]);
  let cur = 'x';
  let cin = 1;
  for (let k = 1; k <= 3; k++) {
    b.addInitializer(`w${k}`, [4, cin, 3, 3], seeded(36 * cin, 30 + k));
    b.addNode('Conv', [cur, `w${k}`], [`conv${k}`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    b.addNode('Relu', [`conv${k}`], [`relu${k}`]);
    b.addNode('MaxPool', [`relu${k}`], [`pool${k}`], { kernel_shape: [2, 2], strides: [2, 2] });
    cur = `pool${k}`;
    cin = 4;
  }
  b.addOutput(cur, ['N', 4, 2, 2]);
  return b.toModel({ opset: 17 });
}

/** A model with an If node whose branches are subgraphs reading the outer scope. */
function withSubgraph(): onnx.ModelProto {
  const branch = (op: string) =>
    onnx.GraphProto.create({
      name: `${op}_branch`,
      node: [onnx.NodeProto.create({ opType: op, input: ['x'], output: [`${op}_out`] })],
      output: [{ name: `${op}_out`, type: { tensorType: { elemType: 1 } } }],
    });
  const b = new GraphBuilder('if');
  b.addInput('x', ['N', 3]);
  b.addInput('cond', []);
  const model = b.toModel({ opset: 17 });
  model.graph!.node = [
    onnx.NodeProto.create({
      opType: 'If',
      input: ['cond'],
      output: ['y'],
      attribute: [
        { name: 'then_branch', type: AttributeType.GRAPH, g: branch('Relu') },
        { name: 'else_branch', type: AttributeType.GRAPH, g: branch('Neg') },
      ],
    }),
  ];
  model.graph!.output = [{ name: 'y', type: { tensorType: { elemType: 1 } } }];
  return model;
}

/** A model whose weight lives in `w.bin` next to it (external data). */
function withExternalData(): onnx.ModelProto {
  const m = convStack();
  const w = m.graph!.initializer![0];
  w.rawData = new Uint8Array(0);
  w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  w.externalData = [
    { key: 'location', value: 'w.bin' },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(72 * 4) },
  ];
  return m;
}

/**
 * tinyResnet with its weights where other exporters put them (src/onnx/constants.ts resolves them):
 * a Constant node, ConstantOfShape × Constant, an int8 DequantizeLinear (per axis), a Cast/Reshape
 * chain, and a QuantizeLinear → DequantizeLinear pair on an activation.
 */
function weightSourcesResnet(): onnx.ModelProto {
  const m = tinyResnet();
  const g = m.graph!;
  const inits = new Map(g.initializer!.map((t) => [t.name as string, t]));
  const b = new GraphBuilder('sources');
  b.addInt64Initializer('shape_a', [4], [4, 4, 3, 3]);
  b.addNode('Constant', [], ['ws'], { value: inits.get('ws') as onnx.TensorProto });
  b.addNode('ConstantOfShape', ['shape_a'], ['twos'], { value: onnx.TensorProto.create({ dims: [1], dataType: 1, rawData: new Uint8Array(new Float32Array([2]).buffer) }) });
  b.addNode('Constant', [], ['wa0_half'], { value: { ...inits.get('wa0'), name: '', rawData: new Uint8Array(seeded(144, 10).map((v) => v / 2).buffer) } as onnx.TensorProto });
  b.addNode('Mul', ['twos', 'wa0_half'], ['wa0']);
  b.addTensor(onnx.TensorProto.create({ name: 'wb0_q', dims: [4, 4, 3, 3], dataType: 3, rawData: new Uint8Array(Int8Array.from(seeded(144, 20), (v) => Math.round(v * 127)).buffer) }));
  b.addInitializer('wb0_s', [4], Float32Array.of(0.01, 0.02, 0.01, 0.02));
  b.addNode('DequantizeLinear', ['wb0_q', 'wb0_s'], ['wb0'], { axis: 0 });
  b.addInitializer('wa1_flat', [144], seeded(144, 11));
  b.addNode('Cast', ['wa1_flat'], ['wa1_cast'], { to: 1 });
  b.addNode('Reshape', ['wa1_cast', 'shape_a'], ['wa1']);
  b.addTensor(inits.get('wb1') as onnx.TensorProto);
  b.addInput('x', ['N', 1, 8, 8]);
  b.addInitializer('q_s', [], Float32Array.of(0.05));
  b.addTensor(onnx.TensorProto.create({ name: 'q_z', dims: [], dataType: 2, rawData: new Uint8Array(1) }));
  for (const n of g.node!) {
    b.addNode(n.opType as string, [...n.input!], [...n.output!], {}).attribute = [...(n.attribute ?? [])];
    if (n.output![0] === 'out0') {
      b.addNode('QuantizeLinear', ['out0', 'q_s', 'q_z'], ['out0_q']);
      b.addNode('DequantizeLinear', ['out0_q', 'q_s', 'q_z'], ['out0_dq']);
    }
  }
  b.nodes.filter((n) => n.input?.[0] === 'out0' && n.opType !== 'QuantizeLinear').forEach((n) => (n.input![0] = 'out0_dq'));
  b.nodes.filter((n) => n.input?.[1] === 'out0' && n.opType === 'Add').forEach((n) => (n.input![1] = 'out0_dq'));
  b.addOutput('pool', ['N', 4, 4, 4]);
  return b.toModel({ opset: 17 });
}

/** Encoded fixtures the mutations start from; the MNIST encoder is added by the test. */
export function fixtureBytes(): Uint8Array[] {
  return [convStack(), tinyResnet(), tinyVgg(), weightSourcesResnet(), withSubgraph(), withExternalData()].map(encodeModel);
}

// ---------------------------------------------------------------- byte mutations

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'duplicate'; at: number; len: number; to: number }
  | { kind: 'hugeVarint'; at: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, len: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, len: fc.integer({ min: 1, max: 64 }), to: position }),
  fc.record({ kind: fc.constant('hugeVarint' as const), at: position }),
);

/** Applies `m` to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const at = Math.floor(m.at * n);
  const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
  switch (m.kind) {
    case 'truncate':
      return bytes.slice(0, at);
    case 'flip': {
      const out = bytes.slice();
      if (n) out[at] ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      const out = bytes.slice();
      if (n) out[at] = m.value;
      return out;
    }
    case 'insert':
      return cat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case 'delete':
      return cat(bytes.subarray(0, at), bytes.subarray(at + m.len));
    case 'duplicate': {
      const to = Math.floor(m.to * n);
      return cat(bytes.subarray(0, to), bytes.subarray(at, at + m.len), bytes.subarray(to));
    }
    case 'hugeVarint':
      // A 10-byte varint: as a length prefix it claims ~2^63 bytes; as a value it is an int64 extreme.
      return cat(bytes.subarray(0, at), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), bytes.subarray(at + 1));
  }
}

// ---------------------------------------------------------------- structured hostile models

/** Names drawn from a tiny pool, so duplicates, self-loops and cycles are common. */
const NAMES = ['x', 'y', 'a', 'b', 'c', 'w', 'w2', 't', '', 'stage1'] as const;
const nameArb = fc.constantFrom(...NAMES);

/** int64 values: small, 32-bit edges, beyond 2^53 (as strings, which protobufjs encodes exactly), negatives. */
const int64Arb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: -3, max: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<number | string>(
      2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 40, 2 ** 53 - 1, '9007199254740993', '4611686018427387904',
      '9223372036854775807', '-9223372036854775808',
    ),
  },
);
const dimArb = fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: int64Arb });

/** Element types: valid fixed-size ones, STRING, UNDEFINED, FLOAT8/INT4 codes and unknown codes. */
const dataTypeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(1) },
  { weight: 3, arbitrary: fc.constantFrom(0, 2, 3, 5, 6, 7, 8, 9, 10, 11, 16, 17, 21, 99, -1) },
);

const LOCATIONS = [
  'w.bin', 'w.bin', 'missing.bin', '../outside.bin', '/etc/passwd', 'C:\\w.bin', '\\\\server\\share\\w.bin',
  'sub/../../outside.bin', 'sub', 'fifo', 'link-out.bin', 'link-in.bin', '', 'a\0b', '.', './w.bin', 'sub/../w.bin',
];
const NUM_FIELDS = ['0', '4', '16', '288', '-1', 'abc', '1e3', ' 8', '99999999999999999999', '9007199254740993', ''];

export interface TensorSpec {
  name: string;
  dims: Array<number | string>;
  dataType: number;
  storage: 'raw-match' | 'raw-short' | 'raw-long' | 'raw-empty' | 'typed' | 'none' | 'external';
  external: Array<{ key: string; value: string }>;
}

const tensorArb: fc.Arbitrary<TensorSpec> = fc.record({
  name: nameArb,
  dims: fc.array(dimArb, { maxLength: 4 }),
  dataType: dataTypeArb,
  storage: fc.oneof(
    { weight: 8, arbitrary: fc.constant('raw-match' as const) },
    { weight: 6, arbitrary: fc.constantFrom('raw-short' as const, 'raw-long' as const, 'raw-empty' as const, 'typed' as const, 'none' as const) },
    { weight: 3, arbitrary: fc.constant('external' as const) },
  ),
  external: fc.array(
    fc.oneof(
      fc.record({ key: fc.constant('location'), value: fc.constantFrom(...LOCATIONS) }),
      fc.record({ key: fc.constantFrom('offset', 'length'), value: fc.constantFrom(...NUM_FIELDS) }),
      fc.record({ key: fc.constantFrom('checksum', 'bogus', ''), value: fc.string({ maxLength: 4 }) }),
    ),
    { maxLength: 4 },
  ),
});

function elemBytes(dataType: number): number {
  return ({ 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 16: 2 } as Record<number, number>)[dataType] ?? 1;
}

/** Builds a TensorProto from a spec; raw data is capped at 4 KiB whatever the dims say. */
export function buildTensor(s: TensorSpec): onnx.ITensorProto {
  const numel = s.dims.reduce<number>((p, d) => p * (typeof d === 'number' ? d : 2 ** 60), 1);
  const exact = numel >= 0 && numel * elemBytes(s.dataType) <= 4096 ? numel * elemBytes(s.dataType) : -1;
  const t: onnx.ITensorProto = { name: s.name, dims: s.dims as unknown as number[], dataType: s.dataType };
  switch (s.storage) {
    case 'raw-match':
      t.rawData = new Uint8Array(Math.max(0, exact === -1 ? 64 : exact)).map((_, i) => (i * 37) & 0xff);
      break;
    case 'raw-short':
      t.rawData = new Uint8Array(Math.max(1, exact === -1 ? 3 : exact - 1));
      break;
    case 'raw-long':
      t.rawData = new Uint8Array((exact === -1 ? 8 : exact) + 5);
      break;
    case 'raw-empty':
      t.rawData = new Uint8Array(0);
      break;
    case 'typed': {
      const n = Math.min(Math.max(numel, 0), 256) || 3;
      if (s.dataType === 7) t.int64Data = Array.from({ length: n }, (_, i) => i - 1);
      else if (s.dataType === 11) t.doubleData = Array.from({ length: n }, (_, i) => i / 3);
      else if (s.dataType === 8) t.stringData = Array.from({ length: n }, () => new Uint8Array([97]));
      else if ([2, 3, 5, 6, 9, 10, 16].includes(s.dataType)) t.int32Data = Array.from({ length: n }, (_, i) => i);
      else t.floatData = Array.from({ length: n }, (_, i) => i / 7);
      break;
    }
    case 'external':
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = s.external;
      break;
    case 'none':
      break;
  }
  return t;
}

interface AttrSpec {
  name: string;
  kind: 'int' | 'ints' | 'float' | 'string' | 'tensor' | 'graph' | 'graphs' | 'untyped';
  ints: Array<number | string>;
  tensor: TensorSpec;
}

const attrArb: fc.Arbitrary<AttrSpec> = fc.record({
  name: fc.constantFrom('strides', 'kernel_shape', 'pads', 'axis', 'axes', 'perm', 'group', 'value', 'value_ints', 'value_int', 'then_branch', 'body', 'to'),
  kind: fc.constantFrom('int', 'ints', 'ints', 'float', 'string', 'tensor', 'graph', 'graphs', 'untyped'),
  ints: fc.array(int64Arb, { maxLength: 8 }),
  tensor: tensorArb,
});

interface NodeSpec {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: AttrSpec[];
}

const nodeArb: fc.Arbitrary<NodeSpec> = fc.record({
  opType: fc.constantFrom(
    'Conv', 'Relu', 'Add', 'Sum', 'MaxPool', 'Identity', 'Constant', 'Concat', 'Slice', 'Pad', 'BatchNormalization',
    'If', 'Loop', 'Transpose', 'Gemm', 'ConvTranspose', 'QLinearConv', 'Clip', '', 'NotAnOp',
  ),
  domain: fc.constantFrom('', '', '', 'ai.onnx', 'com.microsoft', 'evil.domain'),
  name: fc.constantFrom('', 'n', 'n', '/layer1/Conv'),
  inputs: fc.array(nameArb, { maxLength: 4 }),
  outputs: fc.array(nameArb, { maxLength: 2 }),
  attrs: fc.array(attrArb, { maxLength: 3 }),
});

interface ValueSpec {
  name: string;
  elemType: number;
  dims: Array<number | string | null> | null;
}

const valueArb: fc.Arbitrary<ValueSpec> = fc.record({
  name: nameArb,
  elemType: dataTypeArb,
  dims: fc.option(fc.array(fc.oneof(dimArb, fc.constantFrom('N', 'H', ''), fc.constant(null)), { maxLength: 5 })),
});

export interface GraphSpec {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  valueInfo: ValueSpec[];
}

const graphArb: fc.Arbitrary<GraphSpec> = fc.record({
  nodes: fc.array(nodeArb, { maxLength: 10 }),
  initializers: fc.array(tensorArb, { maxLength: 4 }),
  inputs: fc.array(valueArb, { maxLength: 3 }),
  outputs: fc.array(valueArb, { maxLength: 3 }),
  valueInfo: fc.array(valueArb, { maxLength: 2 }),
});

export interface ModelSpec {
  irVersion: number | string;
  opsets: Array<{ domain: string; version: number | string }>;
  graph: GraphSpec;
  /** Subgraphs (If/Loop bodies) for graph attributes, used round-robin. */
  subgraphs: GraphSpec[];
  taps: string[];
  extractInputs: string[];
}

export const modelSpecArb: fc.Arbitrary<ModelSpec> = fc.record({
  irVersion: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 3, max: 10 }) }, { weight: 1, arbitrary: int64Arb }),
  opsets: fc.array(
    fc.record({
      domain: fc.constantFrom('', '', 'ai.onnx', 'com.microsoft', 'evil.domain'),
      version: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 22 }) }, { weight: 1, arbitrary: int64Arb }),
    }),
    { maxLength: 3 },
  ),
  graph: graphArb,
  subgraphs: fc.array(graphArb, { maxLength: 2 }),
  taps: fc.array(fc.constantFrom(...NAMES, 'layer1', 'stem', 'block1_pool'), { minLength: 1, maxLength: 2 }),
  extractInputs: fc.array(nameArb, { maxLength: 2 }),
});

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: v.elemType };
  if (v.dims) {
    tensorType.shape = {
      dim: v.dims.map((d) => (d === null ? {} : typeof d === 'string' && !/^-?\d+$/.test(d) ? { dimParam: d } : { dimValue: d as number })),
    };
  }
  return { name: v.name, type: { tensorType } };
}

function buildGraph(g: GraphSpec, subs: GraphSpec[], depth: number): onnx.IGraphProto {
  let nextSub = 0;
  const sub = (): onnx.IGraphProto =>
    depth < 2 && subs.length ? buildGraph(subs[nextSub++ % subs.length], subs, depth + 1) : { name: 'empty' };
  const attr = (a: AttrSpec): onnx.IAttributeProto => {
    switch (a.kind) {
      case 'int':
        return { name: a.name, type: AttributeType.INT, i: (a.ints[0] ?? 1) as number };
      case 'ints':
        return { name: a.name, type: AttributeType.INTS, ints: a.ints as number[] };
      case 'float':
        return { name: a.name, type: AttributeType.FLOAT, f: Number.NaN };
      case 'string':
        return { name: a.name, type: AttributeType.STRING, s: new Uint8Array([0xff, 0xfe, 0]) };
      case 'tensor':
        return { name: a.name, type: AttributeType.TENSOR, t: buildTensor(a.tensor) };
      case 'graph':
        return { name: a.name, type: AttributeType.GRAPH, g: sub() };
      case 'graphs':
        return { name: a.name, type: AttributeType.GRAPHS, graphs: [sub(), sub()] };
      case 'untyped':
        return { name: a.name, i: 3, ints: a.ints as number[], t: buildTensor(a.tensor) };
    }
  };
  return {
    name: depth ? `sub${depth}` : 'main',
    node: g.nodes.map((n) => ({
      opType: n.opType,
      domain: n.domain,
      name: n.name,
      input: n.inputs,
      output: n.outputs,
      attribute: n.attrs.map(attr),
    })),
    initializer: g.initializers.map(buildTensor),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    valueInfo: g.valueInfo.map(valueInfo),
  };
}

/** The encoded bytes of a structured model spec. */
export function buildModelBytes(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion as number,
    opsetImport: spec.opsets.map((o) => ({ domain: o.domain, version: o.version as number })),
    producerName: 'fuzz',
    graph: buildGraph(spec.graph, spec.subgraphs, 0),
  });
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------- graph-level mutations of valid models

/** Edits that keep most of a real graph intact, so the graph readers (check, extract, detect) see cycles,
 *  self-loops, names produced twice, missing producers and broken initializers deep inside plausible graphs. */
export type GraphMutation =
  | { kind: 'rewire'; node: number; slot: number; output: boolean; to: number }
  | { kind: 'selfLoop'; node: number }
  | { kind: 'duplicateNode'; node: number; at: number }
  | { kind: 'dropNode'; node: number }
  | { kind: 'moveNode'; node: number; to: number }
  | { kind: 'opType'; node: number; op: string }
  | { kind: 'attrInts'; node: number; values: Array<number | string> }
  | { kind: 'initDims'; init: number; dims: Array<number | string> }
  | { kind: 'initData'; init: number; keep: number }
  | { kind: 'initType'; init: number; dataType: number }
  | { kind: 'renameInit'; init: number; to: number }
  | { kind: 'external'; init: number; location: string; offset: string; length: string }
  | { kind: 'graphOutput'; to: number }
  | { kind: 'inputDims'; dims: Array<number | string> };

const idx = fc.nat({ max: 63 });
export const graphMutationArb: fc.Arbitrary<GraphMutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('rewire' as const), node: idx, slot: idx, output: fc.boolean(), to: idx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('selfLoop' as const), node: idx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicateNode' as const), node: idx, at: idx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dropNode' as const), node: idx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('moveNode' as const), node: idx, to: idx }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('opType' as const),
      node: idx,
      op: fc.constantFrom('Relu', 'Identity', 'Add', 'MaxPool', 'Conv', 'Concat', 'Slice', 'Pad', 'BatchNormalization', 'If', 'Sum', 'Constant', 'Foo'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('attrInts' as const), node: idx, values: fc.array(int64Arb, { maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('initDims' as const), init: idx, dims: fc.array(dimArb, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('initData' as const), init: idx, keep: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('initType' as const), init: idx, dataType: dataTypeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('renameInit' as const), init: idx, to: idx }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('external' as const),
      init: idx,
      location: fc.constantFrom(...LOCATIONS),
      offset: fc.constantFrom(...NUM_FIELDS),
      length: fc.constantFrom(...NUM_FIELDS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('graphOutput' as const), to: idx }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('inputDims' as const), dims: fc.array(dimArb, { maxLength: 5 }) }) },
);

/** Applies graph edits to a freshly decoded copy of `bytes` and re-encodes it. */
export function mutateGraph(bytes: Uint8Array, mutations: readonly GraphMutation[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph as onnx.GraphProto;
  const names = () => [
    ...g.input.map((i) => i.name),
    ...g.initializer.map((t) => t.name),
    ...g.node.flatMap((n) => n.output),
    'ghost',
  ];
  const pick = <T>(list: T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);
  for (const m of mutations) {
    const node = 'node' in m ? (pick(g.node, m.node) as onnx.NodeProto | undefined) : undefined;
    const init = 'init' in m ? (pick(g.initializer, m.init) as onnx.TensorProto | undefined) : undefined;
    switch (m.kind) {
      case 'rewire': {
        if (!node) break;
        const list = m.output ? node.output : node.input;
        const to = pick(names(), m.to) as string;
        if (list.length) list[m.slot % list.length] = to;
        else list.push(to);
        break;
      }
      case 'selfLoop':
        // An "in-place" copy of the node right after it, reading and writing the node's output: that
        // name is produced twice, and its last producer reads it (a walk back through producers loops).
        if (node && node.output.length) {
          const out = node.output[0];
          g.node.splice(g.node.indexOf(node) + 1, 0, onnx.NodeProto.create({ opType: node.opType === 'Conv' ? 'Relu' : node.opType, input: [out], output: [out] }));
        }
        break;
      case 'duplicateNode':
        if (node) g.node.splice(m.at % (g.node.length + 1), 0, onnx.NodeProto.create({ ...node, input: [...node.input], output: [...node.output] }));
        break;
      case 'dropNode':
        if (node) g.node.splice(g.node.indexOf(node), 1);
        break;
      case 'moveNode':
        if (node) {
          g.node.splice(g.node.indexOf(node), 1);
          g.node.splice(m.to % (g.node.length + 1), 0, node);
        }
        break;
      case 'opType':
        if (node) node.opType = m.op;
        break;
      case 'attrInts':
        if (node) {
          const a = pick(node.attribute, m.node);
          if (a) a.ints = m.values as number[];
          else node.attribute.push(onnx.AttributeProto.create({ name: 'strides', type: AttributeType.INTS, ints: m.values as number[] }));
        }
        break;
      case 'initDims':
        if (init) init.dims = m.dims as number[];
        break;
      case 'initData':
        if (init) init.rawData = init.rawData.slice(0, Math.floor(init.rawData.length * m.keep));
        break;
      case 'initType':
        if (init) init.dataType = m.dataType;
        break;
      case 'renameInit':
        if (init) init.name = pick(names(), m.to) as string;
        break;
      case 'external':
        if (init) {
          init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
          init.rawData = new Uint8Array(0);
          init.externalData = [
            onnx.StringStringEntryProto.create({ key: 'location', value: m.location }),
            onnx.StringStringEntryProto.create({ key: 'offset', value: m.offset }),
            onnx.StringStringEntryProto.create({ key: 'length', value: m.length }),
          ];
        }
        break;
      case 'graphOutput':
        if (g.output.length) g.output[0].name = pick(names(), m.to) as string;
        break;
      case 'inputDims': {
        const shape = g.input[0]?.type?.tensorType?.shape;
        if (shape) shape.dim = m.dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d as number }));
        break;
      }
    }
  }
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------- deep nesting, as raw bytes

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const str = (field: number, s: string) => [...tag(field, 2), ...varint(Buffer.byteLength(s)), ...Buffer.from(s)];

/**
 * A model whose graph holds an If node whose `then_branch` holds an If node … `depth` levels deep,
 * the innermost graph being a Relu. Built outside-in from precomputed lengths in O(depth).
 */
export function deeplyNestedModel(depth: number, viaGraphsList = false): Uint8Array {
  const inner = [...tag(1, 2), ...varint(0)]; // a graph with one empty node
  const attrHead = (innerLen: number) => [
    ...str(1, viaGraphsList ? 'branches' : 'then_branch'),
    ...tag(20, 0), ...varint(viaGraphsList ? AttributeType.GRAPHS : AttributeType.GRAPH),
    ...tag(viaGraphsList ? 11 : 6, 2), ...varint(innerLen),
  ];
  const nodeHead = (attrLen: number) => [...str(4, 'If'), ...tag(5, 2), ...varint(attrLen)];
  const graphHead = (nodeLen: number) => [...tag(1, 2), ...varint(nodeLen)];
  const prefixes: number[][] = new Array(depth);
  let len = inner.length;
  for (let k = depth - 1; k >= 0; k--) {
    const a = attrHead(len);
    const attrLen = a.length + len;
    const n = nodeHead(attrLen);
    const nodeLen = n.length + attrLen;
    const g = graphHead(nodeLen);
    prefixes[k] = [...g, ...n, ...a];
    len = nodeLen + g.length;
  }
  const head = [...tag(1, 0), ...varint(8), ...tag(8, 2), ...varint(2), ...tag(2, 0), ...varint(17), ...tag(7, 2), ...varint(len)];
  const total = head.length + prefixes.reduce((s, p) => s + p.length, 0) + inner.length;
  const out = new Uint8Array(total);
  let off = 0;
  out.set(head, off);
  off += head.length;
  for (const p of prefixes) {
    out.set(p, off);
    off += p.length;
  }
  out.set(inner, off);
  return out;
}
