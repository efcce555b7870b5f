/** Tests for schema-driven YAML loading: positions, messages, suggestions, overrides. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError, InputError } from '../../../src/errors';
import {
  ConfigIssuesError,
  editDistance,
  loadYamlWithSchema,
  parseYamlWithSchema,
  relativePathResolver,
  suggestClosest,
  formatPath,
  describeSchema,
} from '../../../src/config/load-yaml';
import { noiseSchema } from '../../../src/noise';

const schema = z
  .object({
    name: z.string().min(1).describe('job name'),
    train: z
      .object({
        lr: z.number().positive().default(0.001).describe('learning rate'),
        epochs: z.number().int().min(1).describe('epochs'),
        optimizer: z.enum(['adam', 'sgd']).default('adam').describe('optimizer'),
      })
      .strict()
      .describe('training'),
    data: z
      .object({
        split: z.array(z.number().min(0).max(1)).length(3).default([0.8, 0.1, 0.1]).describe('fractions'),
        noise: noiseSchema,
      })
      .strict()
      .describe('data'),
  })
  .strict();

const VALID = `name: demo
train:
  lr: 0.01
  epochs: 3
data:
  noise:
    type: gaussian
    sigma: 25
`;

function issuesOf(fn: () => unknown): ConfigIssuesError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(ConfigIssuesError);
    return err as ConfigIssuesError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseYamlWithSchema', () => {
  it('returns the validated value with defaults and the raw data', () => {
    const { value, doc } = parseYamlWithSchema(VALID, 'job.yaml', schema);
    expect(value.train).toEqual({ lr: 0.01, epochs: 3, optimizer: 'adam' });
    expect(value.data.noise).toEqual({ type: 'gaussian', sigma: 25, clip: false, realizations: 1 });
    expect(value.data.split).toEqual([0.8, 0.1, 0.1]);
    expect((doc as { train: object }).train).toEqual({ lr: 0.01, epochs: 3 });
  });

  it('reports YAML syntax errors with the line and column from the parser', () => {
    const err = issuesOf(() => parseYamlWithSchema('name: x\ntrain: [1, 2\nfoo: bar\n', 'bad.yaml', schema));
    expect(err.file).toBe('bad.yaml');
    expect(err.location?.line).toBeGreaterThanOrEqual(2);
    expect(err.message).toMatch(/^bad\.yaml:\d+:\d+ YAML syntax error: /);
  });

  it('reports duplicate keys as syntax errors', () => {
    const err = issuesOf(() => parseYamlWithSchema('name: a\nname: b\n', 'dup.yaml', schema));
    expect(err.message).toMatch(/^dup\.yaml:2:1 YAML syntax error: Map keys must be unique/);
  });

  it('lists every schema problem on its own line, in file order, with file:line:col', () => {
    const text = `name: demo
train:
  lr: fast
  lrr: 0.1
  optimizer: adamw
data:
  split: [0.8, 1.5, 0.1]
  noise:
    type: gausian
`;
    const err = issuesOf(() => parseYamlWithSchema(text, 'job.yaml', schema));
    expect(err.message.split('\n')).toEqual([
      'job.yaml:2:1 train.epochs: missing required field (expected an integer >= 1)',
      'job.yaml:3:7 train.lr: expected a positive number, got "fast"',
      "job.yaml:4:3 train.lrr: unknown key; did you mean 'lr'?",
      "job.yaml:5:14 train.optimizer: expected one of 'adam', 'sgd', got \"adamw\"; did you mean 'adam'?",
      'job.yaml:7:16 data.split[1]: expected a number >= 0 and <= 1, got 1.5',
      "job.yaml:9:11 data.noise.type: expected one of 'gaussian', 'poisson', 'salt-pepper', 'speckle', " +
        "got \"gausian\"; did you mean 'gaussian'?",
    ]);
    // The first line alone is a complete message, and the error's fields describe it.
    expect(err.path).toBe('train.epochs');
    expect(err.location).toEqual({ line: 2, col: 1 });
    expect(err.issues).toHaveLength(6);
    expect(err.exitCode).toBe(2);
  });

  it('lists the allowed keys when no key is close to an unknown one', () => {
    const text = VALID.replace('  epochs: 3', '  epochs: 3\n  momentum: 0.9');
    const err = issuesOf(() => parseYamlWithSchema(text, 'j.yaml', schema));
    expect(err.message).toBe('j.yaml:5:3 train.momentum: unknown key; allowed keys: lr, epochs, optimizer');
  });

  it('uses the keys of the selected union option for suggestions', () => {
    const text = VALID.replace('sigma: 25', 'sigma: 25\n    peek: 3');
    const err = issuesOf(() => parseYamlWithSchema(text, 'j.yaml', schema));
    expect(err.message).toBe('j.yaml:9:5 data.noise.peek: unknown key; allowed keys: type, sigma, clip, realizations');
    const text2 = VALID.replace('type: gaussian\n    sigma: 25', 'type: poisson\n    peek: 3');
    const err2 = issuesOf(() => parseYamlWithSchema(text2, 'j.yaml', schema));
    // The typo and the missing required key it was meant to be are one mistake: one line.
    expect(err2.message.split('\n')).toEqual([
      "j.yaml:8:5 data.noise.peek: unknown key; did you mean 'peak'? ('peak' is required)",
    ]);
  });

  it('reports a wrong type for a whole section and an empty value', () => {
    const text = 'name:\ntrain: 3\ndata:\n  noise: {type: speckle, sigma: 300}\n';
    const err = issuesOf(() => parseYamlWithSchema(text, 'j.yaml', schema));
    expect(err.message.split('\n')).toEqual([
      'j.yaml:1:1 name: expected a non-empty string, got null (empty value)',
      'j.yaml:2:8 train: expected a mapping, got 3',
      'j.yaml:4:33 data.noise.sigma: expected a number > 0 and <= 255, got 300',
    ]);
  });

  it('reports a missing discriminator and list length', () => {
    const err = issuesOf(() =>
      parseYamlWithSchema('name: a\ntrain: {epochs: 1}\ndata:\n  split: [1]\n  noise: {sigma: 3}\n', 'j.yaml', schema),
    );
    expect(err.message.split('\n')).toEqual([
      'j.yaml:4:10 data.split: expected exactly 3 items, got 1',
      "j.yaml:5:3 data.noise.type: missing required field (one of 'gaussian', 'poisson', 'salt-pepper', 'speckle')",
    ]);
  });

  it('reports an empty document', () => {
    const err = issuesOf(() => parseYamlWithSchema('', 'empty.yaml', schema));
    expect(err.message).toBe('empty.yaml expected a mapping, got null (empty value)');
  });

  it("keeps a schema author's own messages and custom refinements", () => {
    const s = z
      .object({
        n: z.number({ error: 'expected a count of images' }).int(),
        range: z
          .object({ lo: z.number(), hi: z.number() })
          .strict()
          .refine((r) => r.lo < r.hi, { error: 'lo must be below hi' }),
      })
      .strict();
    const err = issuesOf(() => parseYamlWithSchema('n: many\nrange:\n  lo: 2\n  hi: 1\n', 'c.yaml', s));
    expect(err.message.split('\n')).toEqual([
      'c.yaml:1:4 n: expected a count of images, got "many"',
      'c.yaml:3:3 range: lo must be below hi',
    ]);
    const err2 = issuesOf(() => parseYamlWithSchema('range: {lo: 1, hi: 2}\n', 'c.yaml', s));
    expect(err2.message).toBe('c.yaml:1:1 n: missing required field (expected a count of images)');
  });

  it('follows aliases to report positions', () => {
    const text = 'name: a\nbase: &b {epochs: 0}\ntrain: *b\ndata: {noise: {type: gaussian, sigma: 1}}\n';
    const s = schema.extend({ base: z.unknown() });
    const err = issuesOf(() => parseYamlWithSchema(text, 'a.yaml', s));
    expect(err.message).toBe('a.yaml:2:19 train.epochs: expected an integer >= 1, got 0');
  });

  it('gives callers an errorAt() for checks made after loading', () => {
    const { errorAt } = parseYamlWithSchema(VALID, 'job.yaml', schema);
    const e = errorAt(['data', 'noise', 'sigma'], 'too noisy for this encoder');
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('job.yaml:8:12 data.noise.sigma: too noisy for this encoder');
  });
});

describe('--set overrides', () => {
  it('parses values as YAML scalars and flow collections', () => {
    const { value } = parseYamlWithSchema(VALID, 'job.yaml', schema, {
      overrides: ['train.lr=0.05', 'data.split=[0.7, 0.2, 0.1]', 'train.optimizer=sgd', 'data.noise.clip=true'],
    });
    expect(value.train.lr).toBe(0.05);
    expect(value.train.optimizer).toBe('sgd');
    expect(value.data.split).toEqual([0.7, 0.2, 0.1]);
    expect(value.data.noise).toMatchObject({ type: 'gaussian', clip: true });
  });

  it('sets list items by index and creates missing mappings', () => {
    const text = VALID.replace('data:\n', 'data:\n  split: [0.8, 0.1, 0.1]\n');
    const { value } = parseYamlWithSchema(text, 'job.yaml', schema, { overrides: ['data.split.1=0.15'] });
    expect(value.data.split).toEqual([0.8, 0.15, 0.1]);
    const noTrain = 'name: a\ndata: {noise: {type: gaussian, sigma: 5}}\n';
    const r = parseYamlWithSchema(noTrain, 'job.yaml', schema, { overrides: ['train.epochs=2'] });
    expect(r.value.train).toEqual({ lr: 0.001, epochs: 2, optimizer: 'adam' });
  });

  it('can switch a union option', () => {
    const { value } = parseYamlWithSchema(VALID.replace('    sigma: 25\n', ''), 'job.yaml', schema, {
      overrides: ['data.noise.type=poisson', 'data.noise.peak=30'],
    });
    expect(value.data.noise).toEqual({ type: 'poisson', peak: 30, clip: false, realizations: 1 });
  });

  it('reports an unknown override path against --set, with a suggestion', () => {
    const overrides = ['train.lrr=0.1', 'trian.lr=1'];
    const err = issuesOf(() => parseYamlWithSchema(VALID, 'job.yaml', schema, { overrides }));
    expect(err.file).toBe('--set');
    expect(err.message.split('\n')).toEqual([
      "--set train.lrr: unknown key; did you mean 'lr'?",
      "--set trian: unknown key; did you mean 'train'?",
    ]);
  });

  it('reports a bad override value against --set, not the line it replaced', () => {
    const err = issuesOf(() => parseYamlWithSchema(VALID, 'job.yaml', schema, { overrides: ['train.lr=fast'] }));
    expect(err.message).toBe('--set train.lr: expected a positive number, got "fast"');
  });

  it('rejects malformed overrides and paths through scalars', () => {
    for (const [o, re] of [
      ['train.lr', /--set cannot read override "train.lr": expected dotted.path=value/],
      ['=3', /expected dotted.path=value/],
      ['train..lr=3', /expected dotted.path=value/],
      ['train.lr.x=3', /--set train.lr.x: cannot set 'x' inside 'train.lr', which is 0.01/],
      ['data.split.x=3', /is a list; use a numeric index/],
      ['train.lr=[1, 2', /--set train.lr: cannot parse value/],
    ] as const) {
      const text = VALID.replace('data:\n', 'data:\n  split: [0.8, 0.1, 0.1]\n');
      const err = issuesOf(() => parseYamlWithSchema(text, 'job.yaml', schema, { overrides: [o] }));
      expect(err.file).toBe('--set');
      expect(err.message).toMatch(re);
    }
  });
});

describe('loadYamlWithSchema', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-yaml-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads a file and names it in errors', () => {
    const file = path.join(dir, 'job.yaml');
    fs.writeFileSync(file, VALID);
    expect(loadYamlWithSchema(file, schema).value.name).toBe('demo');
    fs.writeFileSync(file, VALID.replace('epochs: 3', 'epochs: -1'));
    const expected = `${file}:4:11 train.epochs: expected an integer >= 1, got -1`;
    expect(() => loadYamlWithSchema(file, schema)).toThrow(expected);
  });

  it('throws InputError for a missing file or a folder', () => {
    expect(() => loadYamlWithSchema(path.join(dir, 'nope.yaml'), schema)).toThrow(InputError);
    expect(() => loadYamlWithSchema(path.join(dir, 'nope.yaml'), schema)).toThrow(/nope\.yaml: config file not found/);
    expect(() => loadYamlWithSchema(dir, schema)).toThrow(InputError);
  });
});

describe('helpers', () => {
  it('relativePathResolver resolves against the YAML file folder', () => {
    const resolve = relativePathResolver('/work/configs/job.yaml');
    expect(resolve('../models/enc.onnx')).toBe(path.resolve('/work/models/enc.onnx'));
    expect(resolve('data/x.idx')).toBe(path.resolve('/work/configs/data/x.idx'));
    expect(resolve('/abs/file')).toBe('/abs/file');
  });

  it('edit distance counts insertions, substitutions and swaps', () => {
    expect(editDistance('lr', 'lrr')).toBe(1);
    expect(editDistance('sgima', 'sigma')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    expect(suggestClosest('epoch', ['lr', 'epochs'])).toBe('epochs');
    expect(suggestClosest('LR', ['lr', 'epochs'])).toBe('lr');
    expect(suggestClosest('xy', ['lr', 'epochs'])).toBeUndefined();
  });

  it('formats paths and describes schemas', () => {
    expect(formatPath(['data', 'split', 1])).toBe('data.split[1]');
    expect(formatPath([])).toBe('');
    expect(describeSchema(z.number().nonnegative())).toBe('a non-negative number');
    expect(describeSchema(z.number().int().gt(0).lt(10).optional())).toBe('an integer > 0 and < 10');
    expect(describeSchema(z.boolean().default(false))).toBe('true or false');
    expect(describeSchema(z.literal('x'))).toBe("'x'");
  });
});
