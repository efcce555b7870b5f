/**
 * `onnxtune eval`: an identity "denoiser" built here gives exactly the noisy PSNR (the noise is
 * seeded and shared by every method), baselines improve on it, and bad arguments are clear.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../../src/onnx/builder';
import { saveModel } from '../../src/onnx/model-io';
import { writePng } from '../../src/images/png';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

describe('onnxtune eval', () => {
  const dir = tmpDir();
  const data = path.join(dir, 'images');
  const identity = path.join(dir, 'identity.onnx');

  beforeAll(async () => {
    fs.mkdirSync(data);
    for (let i = 0; i < 2; i++) {
      const w = 24 + i * 8;
      const img = Float32Array.from({ length: w * 20 }, (_, k) => 0.25 + 0.5 * ((Math.floor(k / 4) + i) % 2));
      await writePng(path.join(data, `img${i}.png`), img, w, 20, 1);
    }
    const b = new GraphBuilder();
    b.addInput('x', ['n', 1, 'h', 'w']);
    b.addNode('Identity', ['x'], ['y']);
    b.addOutput('y', ['n', 1, 'h', 'w']);
    saveModel(b.toModel({ opset: 17 }), identity);
  });

  it('reports the noisy PSNR for an identity model (clipping aside) and writes JSON + markdown', async () => {
    const out = path.join(dir, 'out');
    const r = await runCli(['eval', identity, '--data', data, '--sigma', '15,50', '--baseline', 'gaussian', '--out', out]);
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
    const model = report.summaries.filter((s: { method: string }) => s.method === 'identity.onnx');
    expect(model.map((s: { sigma: number }) => s.sigma)).toEqual([15, 50]);
    // The identity's output is the noisy image clipped to [0,1], which can only be closer to the clean one.
    for (const s of model) expect(s.psnr).toBeGreaterThanOrEqual(s.noisyPsnr);
    // At σ=15 clipping barely changes these images: the output is the input, and the table says so.
    expect(model[0].note).toMatch(/learned nothing \(output ≈ input\)/);
    const blur = report.summaries.find((s: { method: string; sigma: number }) => s.method === 'gaussian' && s.sigma === 50);
    expect(blur.noisyPsnr).toBeCloseTo(model[1].noisyPsnr, 10); // same seeded noise for every method
    expect(blur.psnr).toBeGreaterThan(blur.noisyPsnr);
    expect(blur.note).toMatch(/best sigma_px/);
    expect(blur.note).not.toMatch(/learned nothing/);
    expect(fs.readFileSync(path.join(out, 'eval.md'), 'utf8')).toMatch(/\| identity\.onnx \| 15 \| 2 \|/);
    expect(report.rows).toHaveLength(2 * 2 * 2);
  });

  it('--self-ensemble 8 scores the model as "<model> ×8"; an identity model (flip/rotation equivariant) scores the same', async () => {
    const plain = await runCli(['eval', identity, '--data', data, '--sigma', '25', '--json']);
    const ens = await runCli(['eval', identity, '--data', data, '--sigma', '25', '--self-ensemble', '8', '--json']);
    expect([plain.code, ens.code]).toEqual([0, 0]);
    const [a, b] = [JSON.parse(plain.stdout).summaries[0], JSON.parse(ens.stdout).summaries[0]];
    expect(b.method).toBe('identity.onnx ×8');
    expect(b.psnr).toBeCloseTo(a.psnr, 5);
    const bad = await runCli(['eval', identity, '--data', data, '--self-ensemble', '3']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/self-ensemble/);
  });

  it('rejects a bad sigma list and a model with two inputs', async () => {
    let r = await runCli(['eval', identity, '--data', data, '--sigma', '25,abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sigma: expected comma-separated noise levels/);
    const b = new GraphBuilder();
    b.addInput('a', ['n', 1, 'h', 'w']);
    b.addInput('b', ['n', 1, 'h', 'w']);
    b.addNode('Add', ['a', 'b'], ['y']);
    b.addOutput('y', ['n', 1, 'h', 'w']);
    const two = path.join(dir, 'two.onnx');
    saveModel(b.toModel({ opset: 17 }), two);
    r = await runCli(['eval', two, '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/two\.onnx: the model takes 2 inputs \(a, b\); a denoiser takes one image/);
  });
});
