/** bench/random-encoder.ts: every Conv weight re-drawn He-normal N(0, 2/fan_in), biases 0, the rest untouched, seeded. */
import { randomizeConvs } from '../../../bench/random-encoder';
import { GraphBuilder } from '../../../src/onnx/builder';
import type { ModelProto } from '../../../src/onnx/proto';
import { tensorToFloat32 } from '../../../src/onnx/tensor';

function model(): ModelProto {
  const b = new GraphBuilder();
  b.addInput('x', [1, 8, 16, 16]);
  b.addInitializer('w', [32, 8, 3, 3], new Float32Array(32 * 8 * 9).fill(0.5));
  b.addInitializer('bias', [32], new Float32Array(32).fill(2));
  b.addInitializer('scale', [32], new Float32Array(32).fill(3));
  b.addNode('Conv', ['x', 'w', 'bias'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Mul', ['c', 'scale'], ['y']);
  b.addOutput('y');
  return b.toModel({ opset: 17 });
}

const init = (m: ModelProto, name: string) => tensorToFloat32(m.graph!.initializer!.find((t) => t.name === name)!);

describe('randomizeConvs', () => {
  it('draws He-normal weights with zero biases and leaves other initializers alone', () => {
    const m = model();
    expect(randomizeConvs(m, 0)).toBe(1);
    const w = init(m, 'w');
    const mean = w.reduce((a, v) => a + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
    // fan_in = 8·3·3 = 72; 2304 draws: the sample std is within a few % of sqrt(2/72).
    expect(Math.abs(std / Math.sqrt(2 / 72) - 1)).toBeLessThan(0.06);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Array.from(init(m, 'bias'))).toEqual(new Array(32).fill(0));
    expect(Array.from(init(m, 'scale'))).toEqual(new Array(32).fill(3));
  });

  it('is seeded: same seed, same weights; another seed, other weights', () => {
    const [a, b, c] = [model(), model(), model()];
    randomizeConvs(a, 1);
    randomizeConvs(b, 1);
    randomizeConvs(c, 2);
    expect(init(a, 'w')).toEqual(init(b, 'w'));
    expect(init(a, 'w')).not.toEqual(init(c, 'w'));
  });
});
