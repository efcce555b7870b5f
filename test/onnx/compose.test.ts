/** prefixGraph and mergeModels: renaming, wiring, shared inputs, opset, collisions, parity. */
import type { FloatTensor } from '../../src/backends/ort';
import { InputError } from '../../src/errors';
import { GraphBuilder } from '../../src/onnx/builder';
import { checkModel } from '../../src/onnx/check';
import { mergeModels, prefixGraph } from '../../src/onnx/compose';
import { getMetadata } from '../../src/onnx/metadata';
import type { onnx } from '../../src/onnx/proto';
import { convReluConvRelu, runModel as run, seeded } from './fixtures';


/** b: feat [N,4,H,W] and image [N,2,H,W] → Concat → 1×1 Conv → Sigmoid = out (opset 13, ir 7). */
function head(): onnx.ModelProto {
  const b = new GraphBuilder('head');
  b.addInput('feat', ['N', 4, 'H', 'W']);
  b.addInput('image', ['N', 2, 'H', 'W']);
  b.addInitializer('w', [1, 6, 1, 1], seeded(6, 21));
  b.addNode('Concat', ['feat', 'image'], ['cat'], { axis: 1 });
  b.addNode('Conv', ['cat', 'w'], ['conv'], { kernel_shape: [1, 1] });
  b.addNode('Sigmoid', ['conv'], ['out']);
  b.addOutput('out', ['N', 1, 'H', 'W']);
  return b.toModel({ opset: 13, irVersion: 7, metadata: { part: 'head', b: 'yes' } });
}

const x: FloatTensor = { data: seeded(2 * 2 * 5 * 6, 31), dims: [2, 2, 5, 6] };

describe('prefixGraph', () => {
  test('renames every node, tensor and initializer except the kept names', () => {
    const g = prefixGraph(convReluConvRelu().graph!, 'enc/', new Set(['x']));
    expect(g.input!.map((i) => i.name)).toEqual(['x']);
    expect(g.output!.map((o) => o.name)).toEqual(['enc/y']);
    expect(g.initializer!.every((t) => t.name!.startsWith('enc/'))).toBe(true);
    expect(g.node![0].input).toEqual(['x', 'enc/w1', 'enc/b1']);
    expect(g.node!.every((n) => n.name!.startsWith('enc/'))).toBe(true);
    expect(g.valueInfo!.map((v) => v.name)).toEqual(['enc/relu1']);
  });
});

describe('mergeModels', () => {
  test('a then b equals the merged model (intermediate tap, shared input, prefixes)', async () => {
    const a = convReluConvRelu();
    const b = head();
    const merged = mergeModels(a, b, {
      connect: [['relu1', 'feat']],
      shareInputs: [['x', 'image']],
      outputs: ['out'],
      prefixA: 'enc/',
      prefixB: 'dec/',
    });
    expect(checkModel(merged)).toEqual([]);
    // Nodes a's tap does not need (conv2, relu2) are pruned with their weights.
    expect(merged.graph!.node!.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Concat', 'Conv', 'Sigmoid']);
    expect(merged.graph!.initializer!.map((t) => t.name)).toEqual(['enc/w1', 'enc/b1', 'dec/w']);
    expect(merged.graph!.input!.map((i) => i.name)).toEqual(['enc/x']);
    expect(merged.graph!.output!.map((o) => o.name)).toEqual(['dec/out']);
    expect(merged.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(merged.irVersion).toBe(8);
    expect(getMetadata(merged)).toEqual({ origin: 'fixture', part: 'head', b: 'yes' });

    const withTap = convReluConvRelu();
    withTap.graph!.output!.push({ name: 'relu1' });
    const feat = (await run(withTap, { x })).relu1;
    const expected = (await run(head(), { feat, image: x })).out;
    const got = (await run(merged, { 'enc/x': x }))['dec/out'];
    expect(got.data).toBeCloseToArray(expected.data, { atol: 1e-6 });
  });

  test('outputs may be given by merged name; opset may be raised, not lowered; connected shapes must agree', () => {
    const opts = { connect: [['y', 'feat']] as Array<[string, string]>, outputs: ['dec/out', 'y'], prefixB: 'dec/' };
    const merged = mergeModels(convReluConvRelu(), head3(), { ...opts, opset: 18 });
    expect(checkModel(merged)).toEqual([]);
    expect(merged.graph!.output!.map((o) => o.name)).toEqual(['dec/out', 'y']);
    expect(merged.opsetImport).toEqual([{ domain: '', version: 18 }]);
    expect(merged.graph!.input!.map((i) => i.name)).toEqual(['x', 'dec/image']);
    expect(() => mergeModels(convReluConvRelu(), head3(), { ...opts, opset: 15 })).toThrow(/lower than the models need/);
    // relu1 has 4 channels, head3's feat input declares 3.
    expect(() => mergeModels(convReluConvRelu(), head3(), { ...opts, connect: [['relu1', 'feat']] })).toThrow(/dim 1 differs/);
  });

  test('name collisions without prefixes, unknown names and double wiring are InputErrors', () => {
    const a = convReluConvRelu();
    const cb = new GraphBuilder('clash');
    cb.addInput('feat', ['N', 3, 'H', 'W']);
    cb.addNode('Relu', ['feat'], ['conv1']);
    cb.addOutput('conv1');
    const clash = cb.toModel();
    expect(() => mergeModels(a, clash, { connect: [['y', 'feat']], outputs: ['conv1'] })).toThrow(/both define 'conv1'.*prefixA\/prefixB/);
    expect(() => mergeModels(a, clash, { connect: [['y', 'feat']], outputs: ['b/conv1'], prefixB: 'b/' })).not.toThrow();
    expect(() => mergeModels(a, head(), { connect: [['nope', 'feat']], outputs: ['out'] })).toThrow(InputError);
    expect(() => mergeModels(a, head(), { connect: [['relu1', 'nope']], outputs: ['out'] })).toThrow(/no graph input 'nope'/);
    expect(() =>
      mergeModels(a, head(), { connect: [['relu1', 'feat']], shareInputs: [['x', 'feat']], outputs: ['out'] }),
    ).toThrow(/wired twice/);
    expect(() => mergeModels(a, head(), { connect: [['relu1', 'feat']], outputs: ['missing'] })).toThrow(/neither model/);
  });
});

/** Like head() but with a 3-channel feat input (matches the fixture's final output y). */
function head3(): onnx.ModelProto {
  const b = new GraphBuilder('head3');
  b.addInput('feat', ['N', 3, 'H', 'W']);
  b.addInput('image', ['N', 2, 'H', 'W']);
  b.addInitializer('w', [1, 5, 1, 1], seeded(5, 22));
  b.addNode('Concat', ['feat', 'image'], ['cat'], { axis: 1 });
  b.addNode('Conv', ['cat', 'w'], ['out'], { kernel_shape: [1, 1] });
  b.addOutput('out', ['N', 1, 'H', 'W']);
  return b.toModel({ opset: 17 });
}
