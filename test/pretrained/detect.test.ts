/**
 * detectArchitecture on synthetic graphs: four ResNet layouts and two VGG layouts, each in three
 * exporters' naming styles, give the same stages (names, channels, strides), and onnxruntime
 * confirms every stage tensor's channels and spatial size. Renamed or reordered graphs detect the same.
 */
import { checkModel } from '../../src/onnx/check';
import { renameGraph } from '../../src/onnx/compose';
import { onnx } from '../../src/onnx/proto';
import { describeArchitecture, detectArchitecture } from '../../pretrained/detect';
import { GraphBuilder } from '../../src/onnx/builder';
import { convReluConvRelu, seeded } from '../onnx/fixtures';
import { randomInput, runModel, withOutputs } from './helpers';
import { allSynthetic, basicResnet, NAMING_STYLES, type SyntheticModel } from './synthetic';

const MODELS = allSynthetic();
const SIZE = 32;

describe('detectArchitecture: synthetic graphs in torch, model-zoo and tf2onnx naming', () => {
  test.each(MODELS.map((m) => [m.name, m] as [string, SyntheticModel]))('%s', async (_name, m) => {
    expect(checkModel(m.model)).toEqual([]);
    const arch = detectArchitecture(m.model);
    expect(arch).toBeDefined();
    expect(arch?.family).toBe(m.family);
    expect(arch?.variant).toBe(m.variant);
    expect(arch?.input).toBe(m.input);
    expect(arch?.stages).toEqual(m.stages);
    expect(arch?.registryMatch).toBeUndefined(); // tiny widths match no registry entry

    // onnxruntime agrees on channels and spatial size of every stage tensor.
    const out = await runModel(withOutputs(m.model, m.stages.map((s) => s.tensor)), { [m.input]: randomInput(m.inputDims(SIZE)) });
    for (const s of m.stages) {
      expect([s.name, out[s.tensor].dims]).toEqual([s.name, [1, s.channels, SIZE / s.stride, SIZE / s.stride]]);
    }
  });

  test('the three naming styles give identical stage lists for each architecture', () => {
    const shape = (m: SyntheticModel) => detectArchitecture(m.model)?.stages.map(({ name, channels, stride }) => ({ name, channels, stride }));
    const perArch = MODELS.length / NAMING_STYLES.length;
    for (let i = 0; i < perArch; i++) {
      const [torch, zoo, tf] = NAMING_STYLES.map((_, k) => MODELS[k * perArch + i]);
      expect(shape(zoo)).toEqual(shape(torch));
      expect(shape(tf)).toEqual(shape(torch));
    }
  });

  test('names carry no meaning: opaque names and a shuffled node order detect the same stages', () => {
    const m = basicResnet('torch');
    const names = new Map<string, string>();
    const opaque = (n: string) => (n === m.input ? n : names.get(n) ?? (names.set(n, `t${names.size}`), `t${names.size - 1}`));
    const graph = renameGraph(m.model.graph!, opaque);
    graph.node = [...graph.node].reverse();
    const arch = detectArchitecture(onnx.ModelProto.create({ ...m.model, graph }));
    expect(arch?.stages).toEqual(m.stages.map((s) => ({ ...s, tensor: opaque(s.tensor) })));
  });

  test('describeArchitecture prints stride and width per stage', () => {
    const arch = detectArchitecture(basicResnet('zoo').model);
    expect(describeArchitecture(arch!)).toBe('resnet: stem /2 8ch → layer1 /2 8ch → layer2 /4 16ch');
  });

  test('graphs that are neither ResNet nor VGG give undefined', () => {
    expect(detectArchitecture(convReluConvRelu())).toBeUndefined();
    expect(detectArchitecture(onnx.ModelProto.create({}))).toBeUndefined();

    // Two single-conv paths added together (a U-Net-like merge), then a strided conv stack: no residual blocks, no pools.
    const b = new GraphBuilder('not-resnet');
    b.addInput('x', ['N', 3, 'H', 'W']);
    let seed = 1;
    const conv = (x: string, cin: number, cout: number, out: string, s = 1) => {
      const w = b.addInitializer(`${out}.w`, [cout, cin, 3, 3], seeded(cout * cin * 9, seed++));
      b.addNode('Conv', [x, w], [out], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [s, s] });
      return out;
    };
    const a1 = conv('x', 3, 4, 'a1');
    const a2 = conv('x', 3, 4, 'a2');
    b.addNode('Add', [a1, a2], ['sum']);
    b.addNode('Relu', ['sum'], ['r']);
    const c = conv(conv('r', 4, 8, 'c1', 2), 8, 8, 'c2', 2);
    b.addOutput(c);
    expect(detectArchitecture(b.toModel())).toBeUndefined();
  });
});
