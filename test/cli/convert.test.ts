/**
 * `onnxtune convert` and `onnxtune verify` through the CLI: ONNX → tfjs → ONNX with the
 * direction from the file types, float16/int8/opset/NHWC outputs with their size and error
 * report, the parity checker passing and failing (exit 1), and usage/input errors (exit 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../../src/onnx/builder';
import { modelInfo } from '../../src/onnx/info';
import { getMetadata } from '../../src/onnx/metadata';
import { loadModel, saveModel } from '../../src/onnx/model-io';
import { DataType } from '../../src/onnx/proto';
import { writeNpy } from '../../src/io/npy';
import { convReluConvRelu, seeded } from '../onnx/fixtures';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';
import { quietCpu } from '../helpers/tf-cpu';
import { getTf } from '../converters/parity-helpers';

/** conv → relu → nearest ×2 resize → conv, 2 → 3 channels. */
function upsampler() {
  const b = new GraphBuilder('upsampler');
  b.addInput('x', ['N', 2, 'H', 'W']);
  b.addInitializer('w1', [4, 2, 3, 3], seeded(72, 1).map((v) => v * 0.5));
  b.addInitializer('b1', [4], seeded(4, 2));
  b.addInitializer('scales', [4], Float32Array.from([1, 1, 2, 2]));
  b.addInitializer('w2', [3, 4, 3, 3], seeded(108, 3).map((v) => v * 0.3));
  b.addNode('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addNode('Relu', ['c1'], ['r1']);
  b.addNode('Resize', ['r1', '', 'scales'], ['up'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  b.addNode('Conv', ['up', 'w2'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.addOutput('y', ['N', 3, 'H2', 'W2']);
  return b.toModel({ opset: 17 });
}

describe('onnxtune convert / verify', () => {
  const dir = tmpDir();
  const src = path.join(dir, 'up.onnx');
  beforeAll(async () => {
    await getTf();
    await quietCpu();
    saveModel(upsampler(), src);
  });

  test('ONNX → tfjs folder → ONNX, each checked against its source; verify passes', async () => {
    const tfjsDir = path.join(dir, 'tfjs');
    let r = await runCli(['convert', src, tfjsDir, '--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.output.format).toBe('tfjs');
    expect(report.check.outputs[0].maxAbs).toBeLessThanOrEqual(1e-5);
    expect(fs.readdirSync(tfjsDir).sort()).toEqual(['model.json', 'weights.bin']);

    const back = path.join(dir, 'back.onnx');
    r = await runCli(['convert', path.join(tfjsDir, 'model.json'), back, '--opset', '13']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/steps: tfjs → onnx \(opset 13\)/);
    expect(modelInfo(loadModel(back)).opsets[0].version).toBe(13);

    r = await runCli(['verify', src, path.join(tfjsDir, 'model.json'), '--shape', '2x2x5x7', '--atol', '1e-5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/parity: ok/);
    expect(r.stdout).toMatch(/inputs \(NCHW\): x \[2, 2, 5, 7\] random/);
    r = await runCli(['verify', src, back, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0].dims).toEqual([1, 3, 64, 64]);
  });

  test('--fp16 and --quantize int8 write smaller models and report the error; verify with the right tolerance', async () => {
    const half = path.join(dir, 'up.fp16.onnx');
    let r = await runCli(['convert', src, half, '--fp16', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.fp16.initializers).toBe(3);
    expect(rep.check.outputs[0].maxAbs).toBeLessThan(1e-2);
    expect(rep.output.bytes).toBeLessThan(rep.input.bytes);
    const init = (f: string, n: string) => loadModel(f).graph?.initializer?.find((t) => t.name === n);
    expect(init(half, 'w1')?.dataType).toBe(DataType.FLOAT16);
    expect(init(half, 'scales')?.dataType).toBe(DataType.FLOAT);

    const q = path.join(dir, 'up.int8.onnx');
    r = await runCli(['convert', src, q, '--quantize', 'int8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/int8: 2 weights \(2 per channel\)/);
    expect(r.stdout).toMatch(/result vs source on random inputs/);

    r = await runCli(['verify', src, half, '--atol', '1e-2', '--rtol', '1e-2']);
    expect(r.code).toBe(0);
    // The int8 model differs by more than the fp32 default tolerance: verify fails with exit 1.
    r = await runCli(['verify', src, q]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/parity: FAILED/);
    expect(r.stderr).toMatch(/max abs error of output 'y'.*exceeds the tolerance/);
  });

  test('--opset, --nhwc (verify transposes by the layout metadata) and given .npy inputs', async () => {
    const out = path.join(dir, 'up.nhwc.onnx');
    let r = await runCli(['convert', src, out, '--opset', '11', '--nhwc']);
    expect(r.code).toBe(0);
    const m = loadModel(out);
    expect(getMetadata(m)['onnxtune.layout']).toBe('NHWC');
    expect(modelInfo(m).inputs[0].dims).toEqual(['N', 'H', 'W', 2]);
    expect(modelInfo(m).opsets[0].version).toBe(11);
    const npy = path.join(dir, 'x.npy');
    writeNpy(npy, [1, 2, 6, 5], seeded(60, 9));
    r = await runCli(['verify', src, out, '--input', `x=${npy}`, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.inputs[0]).toEqual({ name: 'x', dims: [1, 2, 6, 5], source: 'given' });
    expect(rep.b.layout).toBe('NHWC');
    expect(rep.outputs[0].maxAbs).toBeLessThanOrEqual(1e-6);
  });

  test('--list-ops prints the generated tables', async () => {
    const r = await runCli(['convert', '--list-ops']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| Conv \| conv \| 1–21 \| layer \|/);
    expect(r.stdout).toMatch(/tfjs → ONNX/);
  });

  test('errors: missing arguments and format pairs (exit 2), unsupported ops (exit 1) naming the node', async () => {
    let r = await runCli(['convert', src]);
    expect(r.code).toBe(2);
    r = await runCli(['convert', src, path.join(dir, 'x.txt')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot tell the model format/);
    // A .json output other than model.json: the folder it would be written to is named.
    r = await runCli(['convert', src, path.join(dir, 'mine.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`a tfjs model is written as model.json + weights in a folder; give the folder (${path.join(dir, 'mine')})`);
    expect(fs.existsSync(path.join(dir, 'mine.json'))).toBe(false);
    r = await runCli(['convert', src, path.join(dir, 'tf2'), '--fp16']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/apply to \.onnx outputs only/);
    r = await runCli(['convert', src, path.join(dir, 'both.onnx'), '--fp16', '--quantize', 'int8']);
    expect(r.code).toBe(2);

    const b = new GraphBuilder('bad');
    b.addInput('x', ['N', 2, 'H', 'W']);
    b.addNode('Transpose', ['x'], ['y'], { perm: [0, 2, 3, 1] }, '/bad/transpose');
    b.addOutput('y');
    const bad = path.join(dir, 'bad.onnx');
    saveModel(b.toModel(), bad);
    r = await runCli(['convert', bad, path.join(dir, 'bad-tfjs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/'Transpose' at node '\/bad\/transpose'/);

    r = await runCli(['verify', src, path.join(dir, 'nope.onnx')]);
    expect(r.code).toBe(2);
    saveModel(convReluConvRelu(), path.join(dir, 'other.onnx'));
    r = await runCli(['verify', src, path.join(dir, 'other.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dims/);
  });
});
