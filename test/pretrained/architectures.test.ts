/**
 * Every architecture of bench/architectures (ResNet-50, VGG-19, MobileNet v1/v2/v3, EfficientNet-B0,
 * DenseNet-121, SqueezeNet 1.1, GoogLeNet, ShuffleNet v2, ConvNeXt; small widths, real topology) in
 * the torchvision, timm, tf2onnx and Caffe2 layouts: detection names the family and its stages
 * (channels, strides), `taps: auto` picks the expected stride/channel per level, and the sub-model
 * cut at the taps computes exactly what the whole model computes there (onnxruntime, ≤ 1e-6).
 */
import { ARCHITECTURES, ARCHITECTURE_NAMES, LAYOUTS } from '../../bench/architectures/index';
import { renameGraph } from '../../src/onnx/compose';
import { checkModel } from '../../src/onnx/check';
import { onnx } from '../../src/onnx/proto';
import { extractSubModel } from '../../src/onnx/extract';
import { autoTaps, mainPath } from '../../pretrained/auto-taps';
import { GraphIndex, detectArchitecture } from '../../pretrained/detect';
import { resolveTaps } from '../../pretrained/taps';
import { maxAbsDiff, randomInput, runModel, withOutputs } from './helpers';

/**
 * 1e-6 relative to the tensor's largest magnitude (absolute below 1). Caffe2 files keep
 * BatchNormalization unfolded, and onnxruntime's optimizer fuses it differently in the cut and the
 * whole graph (whose extra outputs block some fusions); the rounding difference grows with depth
 * (seen: up to 1e-5 on 20-layer MobileNets), so that layout gets 2e-5.
 */
const TOLERANCE: Record<string, number> = { torchvision: 1e-6, timm: 1e-6, tf2onnx: 1e-6, caffe2: 2e-5 };
const scale = (a: ArrayLike<number>) => Math.max(1, ...Array.from(a, Math.abs));

describe.each(ARCHITECTURE_NAMES)('%s', (name) => {
  describe.each(LAYOUTS)('%s layout', (layout) => {
    const arch = ARCHITECTURES[name](layout);

    test('is a valid model', () => {
      expect(checkModel(arch.model)).toEqual([]);
    });

    test('detection gives the family and its stages (names, channels, strides)', () => {
      const found = detectArchitecture(arch.model);
      expect(found?.family).toBe(arch.family);
      expect(found?.stages.map((s) => ({ name: s.name, channels: s.channels, stride: s.stride }))).toEqual(arch.stages);
      expect(found?.blocks.length).toBeGreaterThan(0);
    });

    test('taps: auto gives one tap per stride with the expected channels', async () => {
      const taps = autoTaps(arch.model);
      expect(taps.map((t) => ({ channels: t.channels, stride: t.stride }))).toEqual(arch.auto);
      const resolved = await resolveTaps(arch.model, 'auto');
      expect(resolved.map((r) => r.tensor)).toEqual(taps.map((t) => t.tensor));
    });

    test('the sub-model cut at the auto taps and stages equals the whole model there', async () => {
      const found = detectArchitecture(arch.model);
      const tensors = [...new Set([...autoTaps(arch.model).map((t) => t.tensor), ...(found?.stages ?? []).map((s) => s.tensor)])];
      const x = randomInput(arch.inputDims, 11);
      const whole = await runModel(withOutputs(arch.model, tensors), { [arch.input]: x }, tensors);
      const cut = await runModel(extractSubModel(arch.model, tensors, [arch.input]), { [arch.input]: x }, tensors);
      for (const t of tensors) {
        expect(cut[t].dims).toEqual(whole[t].dims);
        expect(maxAbsDiff(cut[t].data, whole[t].data)).toBeLessThanOrEqual(TOLERANCE[layout] * scale(whole[t].data));
      }
      // Shapes confirm the structural strides and channels (tf2onnx's input is NHWC).
      const side = arch.layout === 'tf2onnx' ? arch.inputDims[1] : arch.inputDims[2];
      for (const t of autoTaps(arch.model)) {
        const [, c, h] = whole[t.tensor].dims;
        expect([c, Math.round(side / h)]).toEqual([t.channels, t.stride]);
      }
    });
  });
});

describe.each(ARCHITECTURE_NAMES)('%s with opaque names and a reversed node order', (name) => {
  test('detects the same family, stages and auto taps', () => {
    const arch = ARCHITECTURES[name]('timm');
    const names = new Map<string, string>();
    const opaque = (n: string) => (n === arch.input || !n ? n : names.get(n) ?? (names.set(n, `t${names.size}`), `t${names.size - 1}`));
    const graph = renameGraph(arch.model.graph!, opaque);
    graph.node = [...(graph.node ?? [])].reverse();
    const model = onnx.ModelProto.create({ ...arch.model, graph });
    const before = detectArchitecture(arch.model)!;
    expect(detectArchitecture(model)).toEqual({ ...before, stages: before.stages.map((s) => ({ ...s, tensor: opaque(s.tensor) })) });
    expect(autoTaps(model)).toEqual(autoTaps(arch.model).map((t) => ({ ...t, tensor: opaque(t.tensor) })));
  });
});

describe('main path', () => {
  test('never enters a branch: every path from the input to the output passes through each tensor on it', () => {
    const arch = ARCHITECTURES.googlenet('torchvision');
    const g = new GraphIndex(arch.model, arch.input);
    const path = mainPath(g);
    const out = arch.model.graph?.output?.[0]?.name as string;
    expect(path[0]).toBe(arch.input);
    expect(path.at(-1)).toBe(out);
    // Removing a main-path tensor disconnects the output: its ancestors without that tensor's subtree lack the input.
    for (const t of path.slice(1, -1)) {
      const reach = new Set<string>([arch.input]);
      for (const n of g.nodes) {
        if (g.dataInputs(n).some((i) => i !== t && reach.has(i))) for (const o of n.output ?? []) if (o && o !== t) reach.add(o);
      }
      expect(reach.has(out)).toBe(false);
    }
  });

  test('a graph without convolutions has no auto taps, and resolveTaps says so', async () => {
    const arch = ARCHITECTURES.vgg19('timm');
    const graph = arch.model.graph!;
    const stripped = { ...arch.model, graph: { ...graph, node: [{ opType: 'Relu', input: [arch.input], output: ['y'], name: 'r' }], output: [{ name: 'y' }] } };
    expect(autoTaps(stripped)).toEqual([]);
    await expect(resolveTaps(stripped, 'auto', { label: 'm.onnx' })).rejects.toThrow(/'auto' found no convolutional feature map/);
  });
});
