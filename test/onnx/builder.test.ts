/** GraphBuilder (attribute typing, naming, guards, toModel), modelInfo and metadata. */
import { floatAttr, floatsAttr, GraphBuilder, makeAttribute } from '../../src/onnx/builder';
import { modelInfo } from '../../src/onnx/info';
import { getMetadata, setMetadata } from '../../src/onnx/metadata';
import { AttributeType } from '../../src/onnx/proto';
import { convReluConvRelu } from './fixtures';

describe('GraphBuilder', () => {
  test('attribute types follow the values; floatAttr forces FLOAT for integral numbers', () => {
    const types = Object.entries({
      axis: 1,
      alpha: 0.2,
      pads: [0, 1, 0, 1],
      scales: [1, 1.5],
      mode: 'nearest',
      names: ['a', 'b'],
      forced: floatAttr(1),
      forcedList: floatsAttr([1, 2]),
    }).map(([k, v]) => [k, makeAttribute(k, v).type]);
    expect(Object.fromEntries(types)).toEqual({
      axis: AttributeType.INT,
      alpha: AttributeType.FLOAT,
      pads: AttributeType.INTS,
      scales: AttributeType.FLOATS,
      mode: AttributeType.STRING,
      names: AttributeType.STRINGS,
      forced: AttributeType.FLOAT,
      forcedList: AttributeType.FLOATS,
    });
    expect(makeAttribute('forced', floatAttr(1)).f).toBe(1);
    expect(Buffer.from(makeAttribute('mode', 'nearest').s).toString()).toBe('nearest');
  });

  test('unique names, and guards against reading unknown tensors or producing one twice', () => {
    const b = new GraphBuilder();
    b.addInput('x', ['batch', 3]);
    expect(b.uniqueName('x')).toBe('x_1');
    expect(b.uniqueName('y')).toBe('y');
    expect(b.uniqueName('y')).toBe('y_1');
    expect(() => b.addNode('Relu', ['nope'], ['r'])).toThrow(/'nope' is not produced/);
    b.addNode('Relu', ['x'], ['r']);
    expect(() => b.addNode('Relu', ['x'], ['r'])).toThrow(/already produced/);
    expect(() => b.addInitializer('x', [1], new Float32Array(1))).toThrow(/already produced/);
  });

  test('toModel sets opset, producer, metadata and raises the IR version the opset needs', () => {
    const b = new GraphBuilder('g');
    b.addInput('x', ['batch', 3]);
    b.addNode('Relu', ['x'], ['y']);
    b.addOutput('y', ['batch', 3]);
    const m17 = b.toModel({ metadata: { k: 'v' } });
    expect(m17.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(m17.irVersion).toBe(8);
    expect(m17.producerName).toBe('onnxtune');
    expect(m17.producerVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(getMetadata(m17)).toEqual({ k: 'v' });
    expect(b.toModel({ opset: 21 }).irVersion).toBe(10);
    expect(b.toModel({ opset: 13, irVersion: 7 }).irVersion).toBe(7);
  });

  test('fromGraph continues an existing graph without name clashes', () => {
    const m = convReluConvRelu();
    const b = GraphBuilder.fromGraph(m.graph!);
    expect(b.isProduced('relu1')).toBe(true);
    expect(b.uniqueName('relu1')).toBe('relu1_1');
    b.addNode('Sigmoid', ['y'], ['s']);
    expect(b.toGraph().node).toHaveLength(5);
  });
});

describe('modelInfo and metadata', () => {
  test('modelInfo summarizes inputs, outputs, opsets, parameters and ops', () => {
    const info = modelInfo(convReluConvRelu());
    expect(info.inputs).toEqual([{ name: 'x', elemType: 'FLOAT', dims: ['N', 2, 'H', 'W'], shapeKnown: true }]);
    expect(info.outputs[0].dims).toEqual(['N', 3, 'H', 'W']);
    expect(info.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(info.irVersion).toBe(8);
    expect(info.producer).toMatch(/^onnxtune /);
    expect(info.parameterCount).toBe(72 + 4 + 108 + 3 + 2);
    expect(info.nodeCount).toBe(4);
    expect(info.opCounts).toEqual({ Conv: 2, Relu: 2 });
    expect(info.metadata).toEqual({ origin: 'fixture' });
  });

  test('setMetadata replaces same keys and keeps the others', () => {
    const m = convReluConvRelu();
    setMetadata(m, { a: '1', origin: 'changed' });
    setMetadata(m, { a: '2' });
    expect(getMetadata(m)).toEqual({ origin: 'changed', a: '2' });
    expect(m.metadataProps).toHaveLength(2);
  });
});
