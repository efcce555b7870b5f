/** extractSubModel: the cut model computes exactly what the original computes at that tensor. */
import type { FloatTensor } from '../../src/backends/ort';
import { InputError } from '../../src/errors';
import { checkModel } from '../../src/onnx/check';
import { extractSubModel } from '../../src/onnx/extract';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import type { onnx } from '../../src/onnx/proto';
import { convReluConvRelu, runModel as run, seeded } from './fixtures';


const x: FloatTensor = { data: seeded(2 * 2 * 6 * 7, 11), dims: [2, 2, 6, 7] };

describe('extractSubModel', () => {
  test('the extracted intermediate equals the original model run with that tensor as an extra output', async () => {
    const original = convReluConvRelu();
    const withTap = convReluConvRelu();
    withTap.graph!.output!.push(makeValueInfo('relu1'));
    const ref = await run(withTap, { x });

    const cut = extractSubModel(original, ['relu1']);
    expect(checkModel(cut)).toEqual([]);
    expect(cut.graph!.node!.map((n) => n.opType)).toEqual(['Conv', 'Relu']);
    expect(cut.graph!.initializer!.map((t) => t.name)).toEqual(['w1', 'b1']);
    expect(cut.graph!.input!.map((i) => i.name)).toEqual(['x']);
    // The output keeps the value-info shape the original declared.
    expect(cut.graph!.output![0].type?.tensorType?.shape?.dim).toHaveLength(4);
    const got = await run(cut, { x });
    expect(got.relu1.dims).toEqual([2, 4, 6, 7]);
    expect(got.relu1.data).toBeCloseToArray(ref.relu1.data, { atol: 1e-6 });
    expect(original.graph!.node).toHaveLength(4); // the source is untouched
  });

  test('cutting at an inner tensor makes it the new input', async () => {
    const withTap = convReluConvRelu();
    withTap.graph!.output!.push(makeValueInfo('relu1'));
    const ref = await run(withTap, { x });
    const tail = extractSubModel(convReluConvRelu(), ['y'], ['relu1']);
    expect(tail.graph!.input!.map((i) => i.name)).toEqual(['relu1']);
    expect(tail.graph!.initializer!.map((t) => t.name)).toEqual(['w2', 'b2']);
    const got = await run(tail, { relu1: ref.relu1 });
    expect(got.y.data).toBeCloseToArray(ref.y.data, { atol: 1e-6 });
  });

  test('an unknown tensor name is an InputError listing valid names', () => {
    let err: unknown;
    try {
      extractSubModel(convReluConvRelu(), ['relu_1']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/no tensor named 'relu_1'; some valid names: .*relu1/);
    expect(() => extractSubModel(convReluConvRelu(), ['y'], ['nope'])).toThrow(/'nope'/);
  });
});
