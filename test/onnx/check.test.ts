/** checkModel / assertModelValid: topological order, single production, outputs, opsets. */
import { InputError } from '../../src/errors';
import { assertModelValid, checkModel } from '../../src/onnx/check';
import { onnx } from '../../src/onnx/proto';
import { convReluConvRelu } from './fixtures';

function mutated(f: (g: onnx.IGraphProto, m: onnx.ModelProto) => void): onnx.ModelProto {
  const m = convReluConvRelu();
  f(m.graph!, m);
  return m;
}

describe('checkModel', () => {
  test('a well-formed model has no problems', () => {
    expect(checkModel(convReluConvRelu())).toEqual([]);
    expect(() => assertModelValid(convReluConvRelu(), 'ok.onnx')).not.toThrow();
  });

  test.each<[string, (g: onnx.IGraphProto, m: onnx.ModelProto) => void, RegExp]>([
    ['nodes out of topological order', (g) => g.node!.reverse(), /not produced before it/],
    ['no default-domain opset', (_g, m) => (m.opsetImport = [{ domain: 'com.example', version: 1 }]), /no opset_import for the default/],
    ['an output nobody produces', (g) => g.output!.push({ name: 'ghost' }), /'ghost' is never produced/],
    ['a tensor produced twice', (g) => (g.node![1].output = ['conv1']), /'conv1' is produced twice/],
    ['a custom domain without opset', (g) => (g.node![1].domain = 'com.example'), /domain 'com.example'/],
  ])('finds %s', (_name, f, problem) => {
    const m = mutated(f);
    expect(checkModel(m).join('\n')).toMatch(problem);
    expect(() => assertModelValid(m, 'bad.onnx')).toThrow(InputError);
    expect(() => assertModelValid(m, 'bad.onnx')).toThrow(/bad\.onnx/);
  });

  test('optional (empty) inputs are fine; a missing graph is reported', () => {
    const m = mutated((g) => g.node![1].input!.push(''));
    expect(checkModel(m)).toEqual([]);
    expect(checkModel({ opsetImport: [{ domain: '', version: 17 }] })).toEqual(['model has no graph']);
  });
});
