/** `encoder.trainable`: defaults, and one located error per mistake. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadJobConfig } from '../../../src/config/load';
import { ConfigError } from '../../../src/errors';
import { tmpDir } from '../../helpers/tmp';

const dir = tmpDir();
fs.writeFileSync(path.join(dir, 'enc.onnx'), 'not checked by the schema');

const job = (trainable: string) => `name: t
data:
  source: mnist
  noise: { type: gaussian, sigma: 25 }
encoder:
  onnx: enc.onnx
  taps: [a, b]
  trainable: ${trainable}
`;

function load(text: string) {
  const file = path.join(dir, 'job.yaml');
  fs.writeFileSync(file, text);
  return loadJobConfig(file);
}

function errorOf(text: string): string {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('encoder.trainable', () => {
  it('takes stage names or last: N, with at_epoch 0 and lr_multiplier 0.1 by default', () => {
    expect(load(job('{ stages: [b] }')).encoder.trainable).toEqual({ stages: ['b'], at_epoch: 0, lr_multiplier: 0.1 });
    expect(load(job('{ last: 2, at_epoch: 1, lr_multiplier: 0.5 }')).encoder.trainable).toEqual({ last: 2, at_epoch: 1, lr_multiplier: 0.5 });
    expect(load(job('{ last: 1 }').replace(/\n  trainable.*\n/, '\n')).encoder.trainable).toBeUndefined();
  });

  it.each([
    ['{ stages: [b], last: 1 }', /encoder\.trainable.*give exactly one of encoder\.trainable\.stages and encoder\.trainable\.last/],
    ['{ at_epoch: 1 }', /give exactly one of/],
    ['{ last: 0 }', /encoder\.trainable\.last: expected a positive integer/],
    ['{ stages: [] }', /encoder\.trainable\.stages/],
    ['{ last: 1, lr_multiplier: 0 }', /encoder\.trainable\.lr_multiplier: expected a positive number/],
    ['{ last: 1, unfreeze: 2 }', /encoder\.trainable.*unfreeze/],
  ])('rejects %s', (value, message) => {
    expect(errorOf(job(value))).toMatch(message);
  });
});
