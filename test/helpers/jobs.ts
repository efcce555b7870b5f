/** A small, fast job on the embedded MNIST digits and the project's pretrained encoder. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..');
export const MNIST_ENCODER = path.join(ROOT, 'pretrained', 'mnist-conv-ae', 'encoder.onnx');

export function quickJob(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'quick',
    seed: 7,
    device: 'cpu',
    data: { source: 'mnist', limit: 400, split: { train: 0.8, val: 0.1, test: 0.1 }, noise: { type: 'gaussian', sigma: 127.5, clip: true } },
    encoder: { onnx: MNIST_ENCODER, taps: ['stage1', 'stage2'] },
    decoder: { widths: [8, 8, 8] },
    train: { epochs: 1, batch_size: 32 },
    evaluate: { grid_samples: 4 },
    verify: { samples: 16 },
    ...extra,
  };
}

/** Writes `job` as YAML into `dir` and returns the file path. */
export function writeJob(dir: string, job: Record<string, unknown>, name = 'job.yaml'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, YAML.stringify(job));
  return file;
}
