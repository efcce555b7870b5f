/**
 * Broken encoder files through the CLI: truncated, an unknown op, and external data that points
 * outside the model's folder each end in one clear line, exit code 2, before any stage runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../../src/onnx/builder';
import { encodeModel } from '../../src/onnx/model-io';
import { onnx } from '../../src/onnx/proto';
import { runCli } from '../helpers/cli';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

function tinyEncoder(opType = 'Relu'): GraphBuilder {
  const b = new GraphBuilder();
  b.addInput('image', ['batch', 1, 'h', 'w']);
  b.addInitializer('w', [4, 1, 3, 3], new Float32Array(36).fill(0.1));
  b.addNode('Conv', ['image', 'w'], ['conv'], { pads: [1, 1, 1, 1] });
  b.addNode(opType, ['conv'], ['feat']);
  b.addOutput('feat', ['batch', 4, 'h', 'w']);
  return b;
}

describe('bad encoder files', () => {
  const dir = tmpDir();

  async function runWith(file: string, tap = 'feat') {
    const job = writeJob(dir, quickJob({ encoder: { onnx: file, taps: [tap] } }), `${path.basename(file)}.yaml`);
    const out = path.join(dir, `run-${path.basename(file)}`);
    const r = await runCli(['run', job, '--out', out]);
    expect(fs.existsSync(out)).toBe(false);
    return r;
  }

  it('a truncated file', async () => {
    const bytes = fs.readFileSync(MNIST_ENCODER);
    const file = path.join(dir, 'truncated.onnx');
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = await runWith(file, 'stage1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/truncated\.onnx: /);
  });

  it('an unknown op', async () => {
    const file = path.join(dir, 'unknown-op.onnx');
    fs.writeFileSync(file, encodeModel(tinyEncoder('NotARealOp').toModel({ opset: 17 })));
    const r = await runWith(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown-op\.onnx: .*NotARealOp/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('external data outside the model folder', async () => {
    const model = tinyEncoder().toModel({ opset: 17 });
    const w = model.graph!.initializer![0];
    w.rawData = new Uint8Array(0);
    w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    w.externalData = [{ key: 'location', value: '../outside.bin' }];
    fs.mkdirSync(path.join(dir, 'model'));
    fs.writeFileSync(path.join(dir, 'outside.bin'), Buffer.alloc(36 * 4));
    const file = path.join(dir, 'model', 'escape.onnx');
    fs.writeFileSync(file, encodeModel(model));
    const r = await runWith(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/escape\.onnx.*outside/);
  });
});
