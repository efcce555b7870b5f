/**
 * convertOpset: moves a model to another default-domain opset, rewriting the ops whose
 * signature or semantics changed in between (OPSET_ADAPTERS): attributes that became inputs
 * (Clip 11, Pad 11, Slice 10, Squeeze/Unsqueeze/ReduceSum/Split 13, ReduceMean & co. 18),
 * Resize 10 ↔ 11 (scales input and coordinate modes) and its later attributes, Softmax's axis
 * semantics (13), Pad axes/wrap (18/19), Split num_outputs (18) and BatchNormalization's
 * spatial (9). A change it cannot express (a computed input that would have to become an
 * attribute, a mode the target opset lacks) is refused with an UnsupportedOpError naming the
 * node. Ops not in the table are copied unchanged: their schemas did not change between the
 * supported opsets in ways onnxtune's models use.
 */
import { InputError, UnsupportedOpError } from '../src/errors';
import { makeAttribute, minIrVersionForOpset } from '../src/onnx/builder';
import { valueInfoMap } from '../src/onnx/graph-utils';
import { valueInfoDims } from '../src/onnx/info';
import { isDefaultDomain, onnx, toNumber, type ModelProto, type NodeProto, type TensorProto } from '../src/onnx/proto';
import { floatTensor, int64Tensor, tensorToFloat32 } from '../src/onnx/tensor';
import { defaultOpset, pruneUnused } from './model-utils';
import { constFromTensorProto, constToTensorProto } from '../src/onnx/const-tensor';
import { ConstantResolver } from '../src/onnx/constants';

/** Opsets convertOpset reads (source) and writes (target). */
export const OPSET_SOURCE_RANGE: readonly [number, number] = Object.freeze([7, 21]) as readonly [number, number];
export const OPSET_TARGET_RANGE: readonly [number, number] = Object.freeze([10, 21]) as readonly [number, number];

/** Rewriting state shared by the adapters of one conversion. */
interface AdapterContext {
  readonly node: onnx.NodeProto;
  readonly where: string;
  /** Constant value of a tensor (initializer or Constant node), if it is one. */
  constant(name: string): TensorProto | undefined;
  /** Adds an initializer and returns its name. */
  addInitializer(t: onnx.TensorProto): string;
  /** A fresh initializer name derived from the node. */
  name(suffix: string): string;
  /** Rank of a tensor when the graph declares it. */
  rank(name: string): number | undefined;
  refuse(what: string, hint: string): never;
}

/** One breaking change: at `version` the op's new form starts. */
export interface OpsetAdapter {
  readonly op: string;
  readonly version: number;
  readonly what: string;
  /** Rewrites an old-form node into the new form. */
  up(ctx: AdapterContext): void;
  /** Rewrites a new-form node into the old form (or refuses). */
  down(ctx: AdapterContext): void;
}

function getAttr(node: NodeProto, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function dropAttr(node: onnx.NodeProto, ...names: string[]): void {
  node.attribute = (node.attribute ?? []).filter((a) => !names.includes(a.name ?? ''));
}

function setAttr(node: onnx.NodeProto, a: onnx.IAttributeProto): void {
  node.attribute = [...(node.attribute ?? []).filter((x) => x.name !== a.name), a];
}

function setInput(node: onnx.NodeProto, index: number, name: string): void {
  const inputs = [...(node.input ?? [])];
  while (inputs.length <= index) inputs.push('');
  inputs[index] = name;
  while (inputs.length && inputs[inputs.length - 1] === '') inputs.pop();
  node.input = inputs;
}

type Kind = 'ints' | 'float' | 'int64';

/**
 * An attribute that became an input at `version`: each entry maps attribute `attr` (kind
 * `kind`) to input `index`.
 */
function attrToInput(op: string, version: number, slots: ReadonlyArray<readonly [string, number, Kind]>): OpsetAdapter {
  return {
    op,
    version,
    what: `${slots.map((s) => s[0]).join('/')} attribute → input`,
    up: (ctx) => {
      for (const [attr, index, kind] of slots) {
        const a = getAttr(ctx.node, attr);
        if (!a) continue;
        const t =
          kind === 'float'
            ? floatTensor(ctx.name(attr), [], new Float32Array([a.f ?? 0]))
            : int64Tensor(ctx.name(attr), [(a.ints ?? []).length], (a.ints ?? []).map((v) => toNumber(v)));
        setInput(ctx.node, index, ctx.addInitializer(t));
        dropAttr(ctx.node, attr);
      }
    },
    down: (ctx) => {
      const inputs = ctx.node.input ?? [];
      const maxIndex = Math.max(...slots.map((s) => s[1]));
      if (inputs.length > maxIndex + 1 && inputs.slice(maxIndex + 1).some(Boolean)) {
        ctx.refuse(`input ${maxIndex + 1} (${inputs[maxIndex + 1]})`, `opset ${version - 1} has no such input`);
      }
      for (const [attr, index, kind] of slots) {
        const name = inputs[index];
        if (!name) continue;
        const t = ctx.constant(name);
        if (!t) ctx.refuse(`a computed '${attr}' input ('${name}')`, `opset ${version - 1} needs '${attr}' as a constant attribute`);
        const values = kind === 'float' ? Array.from(tensorToFloat32(t!)) : constFromTensorProto(t!, ctx.where).data;
        setAttr(ctx.node, kind === 'float' ? { name: attr, type: onnx.AttributeProto.AttributeType.FLOAT, f: values[0] } : makeAttribute(attr, Array.from(values)));
      }
      ctx.node.input = inputs.slice(0, Math.min(...slots.map((s) => s[1])));
    },
  };
}

const REDUCE_18 = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

/** The axis attribute semantics of Softmax-like ops changed at 13 (single axis vs flatten-from-axis). */
function softmaxAdapter(op: string): OpsetAdapter {
  const isLast = (ctx: AdapterContext, axis: number) => {
    const rank = ctx.rank(ctx.node.input?.[0] ?? '');
    return axis === -1 || (rank !== undefined && axis === rank - 1);
  };
  return {
    op,
    version: 13,
    what: 'axis: flatten-from-axis (≤ 12) vs one axis (≥ 13); equal for the last axis',
    up: (ctx) => {
      const axis = toNumber(getAttr(ctx.node, 'axis')?.i ?? 1);
      if (!isLast(ctx, axis)) ctx.refuse(`${op} over axis ${axis} (opset ≤ 12 semantics) of an input of unknown or higher rank`, 'only the last axis means the same in both');
      setAttr(ctx.node, { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 });
    },
    down: (ctx) => {
      const axis = toNumber(getAttr(ctx.node, 'axis')?.i ?? -1);
      if (!isLast(ctx, axis)) ctx.refuse(`${op} over axis ${axis}`, 'opset ≤ 12 can only express the last axis');
      setAttr(ctx.node, { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 });
    },
  };
}

const str = (a: onnx.IAttributeProto | undefined, dflt: string) => (a?.s && a.s.length ? Buffer.from(a.s).toString() : dflt);
const strAttr = (name: string, value: string): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new Uint8Array(Buffer.from(value)) });

/** The table of breaking changes, by op and the opset where the new form starts. */
export const OPSET_ADAPTERS: readonly OpsetAdapter[] = Object.freeze([
  attrToInput('Clip', 11, [['min', 1, 'float'], ['max', 2, 'float']]),
  attrToInput('Pad', 11, [['pads', 1, 'int64'], ['value', 2, 'float']]),
  attrToInput('Slice', 10, [['starts', 1, 'int64'], ['ends', 2, 'int64'], ['axes', 3, 'int64']]),
  attrToInput('Squeeze', 13, [['axes', 1, 'int64']]),
  attrToInput('Unsqueeze', 13, [['axes', 1, 'int64']]),
  attrToInput('ReduceSum', 13, [['axes', 1, 'int64']]),
  attrToInput('Split', 13, [['split', 1, 'int64']]),
  ...REDUCE_18.map((op) => {
    const base = attrToInput(op, 18, [['axes', 1, 'int64']]);
    return {
      ...base,
      down: (ctx: AdapterContext) => {
        if (toNumber(getAttr(ctx.node, 'noop_with_empty_axes')?.i ?? 0) === 1) ctx.refuse(`${op} with noop_with_empty_axes = 1`, 'opset 17 has no such attribute');
        dropAttr(ctx.node, 'noop_with_empty_axes');
        base.down(ctx);
      },
    };
  }),
  softmaxAdapter('Softmax'),
  softmaxAdapter('LogSoftmax'),
  softmaxAdapter('Hardmax'),
  {
    op: 'Resize',
    version: 11,
    what: 'inputs (X, scales) → (X, roi, scales, sizes); coordinate_transformation_mode and nearest_mode added',
    up: (ctx) => {
      const [x, scales] = ctx.node.input ?? [];
      // Resize-10 samples at x_out / scale and rounds nearest down: 'asymmetric' + 'floor' in opset 11 terms.
      const roi = ctx.addInitializer(floatTensor(ctx.name('roi'), [0], new Float32Array(0)));
      ctx.node.input = [x, roi, scales];
      setAttr(ctx.node, strAttr('coordinate_transformation_mode', 'asymmetric'));
      if (str(getAttr(ctx.node, 'mode'), 'nearest') === 'nearest') setAttr(ctx.node, strAttr('nearest_mode', 'floor'));
    },
    down: (ctx) => {
      const mode = str(getAttr(ctx.node, 'mode'), 'nearest');
      const coord = str(getAttr(ctx.node, 'coordinate_transformation_mode'), 'half_pixel');
      const nearest = str(getAttr(ctx.node, 'nearest_mode'), 'round_prefer_floor');
      if (mode === 'cubic') ctx.refuse("Resize mode 'cubic'", 'opset 10 has nearest and linear');
      if (coord !== 'asymmetric') ctx.refuse(`Resize coordinate_transformation_mode '${coord}'`, "opset 10 only samples 'asymmetric'");
      if (mode === 'nearest' && nearest !== 'floor') ctx.refuse(`Resize nearest_mode '${nearest}'`, "opset 10 rounds nearest down ('floor')");
      const [x, , scales, sizes] = ctx.node.input ?? [];
      if (sizes || !scales) ctx.refuse('Resize by sizes', 'opset 10 only takes scales');
      ctx.node.input = [x, scales];
      dropAttr(ctx.node, 'coordinate_transformation_mode', 'nearest_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value');
    },
  },
  {
    op: 'Resize',
    version: 13,
    what: 'roi becomes optional',
    up: () => undefined,
    down: (ctx) => {
      const inputs = [...(ctx.node.input ?? [])];
      if (!inputs[1]) {
        inputs[1] = ctx.addInitializer(floatTensor(ctx.name('roi'), [0], new Float32Array(0)));
        ctx.node.input = inputs;
      }
      if (inputs.length > 2 && !inputs[2]) ctx.node.input = [...inputs.slice(0, 2), ctx.addInitializer(floatTensor(ctx.name('scales'), [0], new Float32Array(0))), ...inputs.slice(3)];
    },
  },
  {
    op: 'Resize',
    version: 18,
    what: 'antialias, axes and keep_aspect_ratio_policy added',
    up: () => undefined,
    down: (ctx) => {
      if (toNumber(getAttr(ctx.node, 'antialias')?.i ?? 0) !== 0) ctx.refuse('Resize with antialias = 1', 'opset 17 has no antialiasing');
      if (getAttr(ctx.node, 'axes')) ctx.refuse('Resize with axes', 'opset 17 resizes all axes');
      if (str(getAttr(ctx.node, 'keep_aspect_ratio_policy'), 'stretch') !== 'stretch') ctx.refuse('Resize keep_aspect_ratio_policy', "opset 17 only 'stretch'");
      dropAttr(ctx.node, 'antialias', 'axes', 'keep_aspect_ratio_policy');
    },
  },
  {
    op: 'Resize',
    version: 19,
    what: "coordinate_transformation_mode 'half_pixel_symmetric' added",
    up: () => undefined,
    down: (ctx) => {
      if (str(getAttr(ctx.node, 'coordinate_transformation_mode'), '') === 'half_pixel_symmetric') ctx.refuse("Resize 'half_pixel_symmetric'", 'added in opset 19');
    },
  },
  {
    op: 'Pad',
    version: 18,
    what: 'axes input added',
    up: () => undefined,
    down: (ctx) => {
      if (ctx.node.input?.[3]) ctx.refuse('Pad with an axes input', 'opset 17 pads every axis; write the full pads instead');
    },
  },
  {
    op: 'Pad',
    version: 19,
    what: "mode 'wrap' added",
    up: () => undefined,
    down: (ctx) => {
      if (str(getAttr(ctx.node, 'mode'), 'constant') === 'wrap') ctx.refuse("Pad mode 'wrap'", 'added in opset 19');
    },
  },
  {
    op: 'Split',
    version: 18,
    what: 'num_outputs added',
    up: () => undefined,
    down: (ctx) => {
      if (getAttr(ctx.node, 'num_outputs')) ctx.refuse('Split with num_outputs', 'opset 17 needs explicit split sizes');
    },
  },
  {
    op: 'BatchNormalization',
    version: 9,
    what: 'spatial attribute removed',
    up: (ctx) => {
      if (toNumber(getAttr(ctx.node, 'spatial')?.i ?? 1) !== 1) ctx.refuse('BatchNormalization with spatial = 0', 'opset 9 removed per-element statistics');
      dropAttr(ctx.node, 'spatial', 'is_test', 'consumed_inputs');
    },
    down: () => undefined,
  },
  {
    op: 'Shape',
    version: 15,
    what: 'start/end attributes added',
    up: () => undefined,
    down: (ctx) => {
      if (getAttr(ctx.node, 'start') || getAttr(ctx.node, 'end')) ctx.refuse('Shape with start/end', 'added in opset 15');
    },
  },
  {
    op: 'AveragePool',
    version: 19,
    what: 'dilations added',
    up: () => undefined,
    down: (ctx) => {
      const d = getAttr(ctx.node, 'dilations');
      if (d && (d.ints ?? []).some((v) => toNumber(v) !== 1)) ctx.refuse('AveragePool with dilations', 'added in opset 19');
      dropAttr(ctx.node, 'dilations');
    },
  },
  {
    op: 'Reshape',
    version: 14,
    what: 'allowzero attribute added',
    up: () => undefined,
    down: (ctx) => {
      if (toNumber(getAttr(ctx.node, 'allowzero')?.i ?? 0) !== 0) ctx.refuse('Reshape with allowzero = 1', 'added in opset 14');
      dropAttr(ctx.node, 'allowzero');
    },
  },
  {
    op: 'BatchNormalization',
    version: 14,
    what: 'training_mode attribute added',
    up: () => undefined,
    down: (ctx) => {
      if (toNumber(getAttr(ctx.node, 'training_mode')?.i ?? 0) !== 0) ctx.refuse('BatchNormalization with training_mode = 1', 'added in opset 14');
      dropAttr(ctx.node, 'training_mode');
    },
  },
  {
    op: 'Cast',
    version: 19,
    what: 'saturate attribute added (float8 only)',
    up: () => undefined,
    down: (ctx) => dropAttr(ctx.node, 'saturate'),
  },
  {
    op: 'Gemm',
    version: 11,
    what: 'C becomes optional',
    up: () => undefined,
    down: (ctx) => {
      if (!ctx.node.input?.[2]) ctx.refuse('Gemm without C', 'C is required before opset 11');
    },
  },
  {
    ...attrToInput('Dropout', 12, [['ratio', 1, 'float']]),
    up: (ctx) => {
      dropAttr(ctx.node, 'is_test');
      attrToInput('Dropout', 12, [['ratio', 1, 'float']]).up(ctx);
    },
  },
  ...(['Concat', 'Flatten', 'Gather', 'Split', 'Squeeze', 'Unsqueeze'] as const).map(
    (op): OpsetAdapter => ({
      op,
      version: 11,
      what: 'negative axes allowed',
      up: () => undefined,
      down: (ctx) => {
        const a = getAttr(ctx.node, 'axis') ?? getAttr(ctx.node, 'axes');
        const values = a ? (a.ints && a.ints.length ? a.ints.map((v) => toNumber(v)) : [toNumber(a.i)]) : [];
        if (values.some((v) => v < 0)) ctx.refuse(`${op} with a negative axis`, 'negative axes start in opset 11');
      },
    }),
  ),
  {
    op: 'Upsample',
    version: 10,
    what: 'deprecated in favour of Resize',
    up: (ctx) => ctx.refuse('Upsample', 'replace it by Resize (opset ≥ 10) first'),
    down: () => undefined,
  },
]);

/** Ops with an entry in {@link OPSET_ADAPTERS}, sorted. */
export const OPSET_ADAPTED_OPS: readonly string[] = Object.freeze([...new Set(OPSET_ADAPTERS.map((a) => a.op))].sort());

/** What {@link convertOpset} did. */
export interface OpsetReport {
  from: number;
  to: number;
  /** Nodes rewritten, as 'op @ version (up|down)' → count. */
  rewritten: Record<string, number>;
}

/**
 * Converts `model` to default-domain opset `target` (see the module comment). The input is not modified.
 * @throws UnsupportedOpError for an opset out of range or a node that cannot be expressed at `target`.
 */
export function convertOpset(model: ModelProto, target: number, label = 'model'): { model: onnx.ModelProto; report: OpsetReport } {
  const graph = model.graph;
  if (!graph) throw new InputError(label, 'has no graph');
  const from = defaultOpset(model);
  const range = (r: readonly [number, number]) => Array.from({ length: r[1] - r[0] + 1 }, (_, i) => String(r[0] + i));
  if (from < OPSET_SOURCE_RANGE[0] || from > OPSET_SOURCE_RANGE[1]) throw new UnsupportedOpError(`source opset ${from}`, label, range(OPSET_SOURCE_RANGE));
  if (!Number.isInteger(target) || target < OPSET_TARGET_RANGE[0] || target > OPSET_TARGET_RANGE[1]) {
    throw new UnsupportedOpError(`target opset ${target}`, label, range(OPSET_TARGET_RANGE));
  }
  const report: OpsetReport = { from, to: target, rewritten: {} };
  const nodes = (graph.node ?? []).map((n) =>
    onnx.NodeProto.create({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])], attribute: [...(n.attribute ?? [])] }),
  );
  const newGraph = onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...(graph.initializer ?? [])] });
  // Constants wherever the exporter put them (src/onnx/constants.ts), read in the source opset's forms.
  const resolver = new ConstantResolver(graph, { opset: from, label });
  const added = new Map<string, TensorProto>();
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t] as const));
  const constantOf = (name: string): TensorProto | undefined => {
    const known = added.get(name) ?? initializers.get(name);
    if (known) return known;
    const v = resolver.value(name);
    return v ? constToTensorProto(name, v) : undefined;
  };
  const infos = valueInfoMap(graph);
  const taken = new Set([...initializers.keys(), ...nodes.flatMap((n) => n.output ?? [])]);
  const up = target > from;
  const crossed = OPSET_ADAPTERS.filter((a) => (up ? a.version > from && a.version <= target : a.version > target && a.version <= from));
  // Apply in version order going up, reverse order going down.
  crossed.sort((a, b) => (up ? a.version - b.version : b.version - a.version));

  nodes.forEach((node, i) => {
    if (!isDefaultDomain(node.domain)) return;
    for (const adapter of crossed) {
      if (adapter.op !== node.opType) continue;
      const where = node.name || node.output?.[0] || `#${i}`;
      const ctx: AdapterContext = {
        node,
        where,
        constant: constantOf,
        addInitializer: (t) => {
          newGraph.initializer = [...(newGraph.initializer ?? []), t];
          added.set(t.name as string, t);
          return t.name as string;
        },
        name: (suffix) => {
          const base = `${where}/${suffix}`;
          let n = base;
          for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
          taken.add(n);
          return n;
        },
        rank: (name) => {
          const vi = infos.get(name);
          const dims = vi ? valueInfoDims(vi) : undefined;
          return dims?.length;
        },
        refuse: (what, hint) => {
          throw new UnsupportedOpError(`${what} (opset ${from} → ${target})`, where, [adapter.what], hint);
        },
      };
      if (up) adapter.up(ctx);
      else adapter.down(ctx);
      const key = `${adapter.op} @ ${adapter.version} (${up ? 'up' : 'down'})`;
      report.rewritten[key] = (report.rewritten[key] ?? 0) + 1;
    }
  });
  pruneUnused(newGraph);
  const opsetImport = (model.opsetImport ?? []).map((o) => (isDefaultDomain(o.domain) ? { domain: o.domain, version: target } : o));
  const irVersion = Math.max(toNumber(model.irVersion ?? 3), minIrVersionForOpset(target));
  return { model: onnx.ModelProto.create({ ...model, irVersion, opsetImport, graph: newGraph }), report };
}
