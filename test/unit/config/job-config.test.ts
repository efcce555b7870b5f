/** The job schema: the demo config is valid; typical mistakes give one located line each. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadJobConfig } from '../../../src/config/load';
import { ConfigError } from '../../../src/errors';
import { ROOT } from '../../helpers/jobs';
import { tmpDir } from '../../helpers/tmp';

const dir = tmpDir();
fs.writeFileSync(path.join(dir, 'enc.onnx'), 'not checked by the schema');

function load(text: string, overrides?: string[]) {
  const file = path.join(dir, 'job.yaml');
  fs.writeFileSync(file, text);
  return loadJobConfig(file, { overrides });
}

function errorOf(text: string, overrides?: string[]): ConfigError {
  try {
    load(text, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const base = `name: t
data:
  source: mnist
  noise: { type: gaussian, sigma: 25 }
encoder:
  onnx: enc.onnx
  taps: [a]
`;

describe('job config', () => {
  it("accepts encoder.taps: auto and rejects any other string", () => {
    expect(load(base.replace('taps: [a]', 'taps: auto')).encoder.taps).toBe('auto');
    expect(errorOf(base.replace('taps: [a]', 'taps: automatic')).message).toMatch(/encoder\.taps: expected 'auto' or a list of stage or tensor names/);
  });

  it('accepts configs/mnist-dae.yaml and resolves paths against the job file', () => {
    const job = loadJobConfig(path.join(ROOT, 'configs', 'mnist-dae.yaml'));
    expect(job.encoder.onnx).toBe(path.join(ROOT, 'pretrained', 'mnist-conv-ae', 'encoder.onnx'));
    expect(job.data).toMatchObject({ noise: { type: 'gaussian', sigma: 127.5, clip: true } });
    expect(job.train.lr).toBe(0.001);
  });

  it('fills defaults', () => {
    const job = load(base);
    expect(job.train).toMatchObject({ loss: 'mse', optimizer: 'adam', lr: 1e-3, batch_size: 64 });
    expect(job.decoder.output).toBe('direct');
    expect(job.export.opset).toBe(17);
  });

  it('reports a wrong type with its path and line', () => {
    const e = errorOf(base + 'train:\n  lr: fast\n');
    expect(e.message.split('\n')[0]).toMatch(/job\.yaml:9:\d+ train\.lr: expected a positive number.*"fast"/);
  });

  it('reports a typo in a key with a suggestion', () => {
    const e = errorOf(base + 'train:\n  epochz: 3\n');
    expect(e.message).toMatch(/job\.yaml:9:\d+ train\.epochz: unknown key.*'epochs'/);
  });

  it('reports a missing encoder file with the resolved path', () => {
    const e = errorOf(base.replace('enc.onnx', 'missing.onnx'));
    expect(e.message).toMatch(/job\.yaml:6:\d+ encoder\.onnx: file not found: .*missing\.onnx/);
  });

  it('reports every problem, one per line', () => {
    const e = errorOf(base + 'train:\n  lr: -1\n  batch_size: 0\n');
    const lines = e.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/train\.lr/);
    expect(lines[1]).toMatch(/train\.batch_size/);
  });

  it('applies --set overrides as YAML values and validates them', () => {
    expect(load(base, ['train.epochs=7']).train.epochs).toBe(7);
    expect(errorOf(base, ['train.lr=fast']).message).toMatch(/train\.lr/);
  });

  it('resolves --set paths against the current folder, paths in the file against the file', () => {
    const elsewhere = tmpDir();
    fs.writeFileSync(path.join(elsewhere, 'other.onnx'), 'x');
    const cwd = process.cwd();
    try {
      process.chdir(elsewhere);
      expect(load(base).encoder.onnx).toBe(path.join(dir, 'enc.onnx'));
      expect(load(base, ['encoder.onnx=other.onnx']).encoder.onnx).toBe(path.join(fs.realpathSync(elsewhere), 'other.onnx'));
      // A file next to the job but not in the current folder is not found through --set.
      expect(errorOf(base, ['encoder.onnx=enc.onnx']).message).toMatch(/encoder\.onnx.*file not found/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('rejects noise sigma above 255', () => {
    expect(errorOf(base.replace('sigma: 25', 'sigma: 300')).message).toMatch(/data\.noise\.sigma/);
  });
});
