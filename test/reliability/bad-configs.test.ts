/**
 * Broken job files through `onnxtune run`: YAML syntax errors, unknown keys (with a "did you
 * mean"), wrong types, out-of-range values, missing fields and files, taps the encoder does not
 * have, and bad --set overrides. Every one ends before any work with exit code 2 and exactly one
 * line `file:line:col path: problem` naming the YAML path (syntax errors: the line and column),
 * and no run directory is created.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { MNIST_ENCODER } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

/** A valid quick job; cases edit its lines (line numbers in comments are 1-based). */
const BASE = [
  'name: quick', //                                          1
  'seed: 7', //                                              2
  'device: cpu', //                                          3
  'data:', //                                                4
  '  source: mnist', //                                      5
  '  limit: 200', //                                         6
  '  split: {train: 0.8, val: 0.1, test: 0.1}', //           7
  '  noise: {type: gaussian, sigma: 50, clip: true}', //     8
  'encoder:', //                                             9
  `  onnx: ${MNIST_ENCODER}`, //                             10
  '  taps: [stage1, stage2]', //                             11
  'decoder:', //                                             12
  '  widths: [8, 8, 8]', //                                  13
  'train:', //                                               14
  '  epochs: 1', //                                          15
  '  batch_size: 32', //                                     16
  '  lr: 0.001', //                                          17
  'evaluate:', //                                            18
  '  grid_samples: 4', //                                    19
  'export:', //                                              20
  '  opset: 17', //                                          21
  'verify:', //                                              22
  '  samples: 8', //                                         23
];

interface Case {
  name: string;
  /** 1-based line → replacement text (may hold several lines, or '' to delete). */
  edit?: Record<number, string>;
  /** CLI --set overrides. */
  set?: string[];
  /** The one error line, after `onnxtune: error: `; `FILE` stands for the job file's path. */
  expected: RegExp;
}

const re = (s: string) => new RegExp('^FILE' + s);

const CASES: Case[] = [
  // --- YAML syntax: the line and column of the first error
  { name: 'unclosed flow sequence', edit: { 13: '  widths: [8, 8, 8' }, expected: re(String.raw`:14:1 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a \]`) },
  { name: 'unclosed flow mapping', edit: { 8: '  noise: {type: gaussian, sigma: 50' }, expected: re(String.raw`:9:1 YAML syntax error: Flow map .* end with a \}`) },
  { name: 'duplicate key', edit: { 17: '  lr: 0.001\n  epochs: 2' }, expected: re(String.raw`:18:3 YAML syntax error: Map keys must be unique`) },
  { name: 'tab indentation', edit: { 17: '\tlr: 0.001' }, expected: re(String.raw`:17:1 YAML syntax error: Tabs are not allowed as indentation`) },
  { name: 'unterminated quote', edit: { 1: 'name: "quick' }, expected: re(String.raw`:\d+:\d+ YAML syntax error: Missing closing "quote`) },
  { name: 'over-indented key', edit: { 17: '      lr: 0.001' }, expected: re(String.raw`:16:\d+ YAML syntax error: .*\(1 more error after it; fix this one first\)`) },
  { name: 'a list item inside a mapping', edit: { 17: '  - lr: 0.001' }, expected: re(String.raw`:17:1 YAML syntax error: A block sequence may not be used as an implicit map key \(2 more errors after it`) },
  { name: 'alias to an undefined anchor', edit: { 15: '  epochs: *many' }, expected: re(String.raw`:15:11 YAML error: the alias \*many refers to no anchor &many defined before it`) },
  // --- unknown keys, with a suggestion
  { name: 'misspelled top-level key', edit: { 2: 'sed: 7' }, expected: re(String.raw`:2:1 sed: unknown key; did you mean 'seed'\?`) },
  { name: 'misspelled train key', edit: { 15: '  epoch: 1' }, expected: re(String.raw`:15:3 train\.epoch: unknown key; did you mean 'epochs'\?`) },
  { name: 'misspelled batch size', edit: { 16: '  batchsize: 32' }, expected: re(String.raw`:16:3 train\.batchsize: unknown key; did you mean 'batch_size'\?`) },
  { name: 'misspelled decoder key', edit: { 13: '  widht: [8, 8, 8]' }, expected: re(String.raw`:13:3 decoder\.widht: unknown key; did you mean 'widths'\?`) },
  { name: 'misspelled encoder key', edit: { 11: '  tap: [stage1, stage2]' }, expected: re(String.raw`:11:3 encoder\.tap: unknown key; did you mean 'taps'\? \('taps' is required\)$`) },
  { name: 'misspelled noise key', edit: { 8: '  noise: {type: gaussian, sigam: 50, clip: true}' }, expected: re(String.raw`:8:27 data\.noise\.sigam: unknown key; did you mean 'sigma'\? \('sigma' is required\)$`) },
  { name: 'misspelled evaluate key', edit: { 19: '  grid_sample: 4' }, expected: re(String.raw`:19:3 evaluate\.grid_sample: unknown key; did you mean 'grid_samples'\?`) },
  // --- wrong types
  { name: 'seed is a word', edit: { 2: 'seed: seven' }, expected: re(String.raw`:2:7 seed: expected a non-negative integer, got "seven"`) },
  { name: 'epochs is a string', edit: { 15: '  epochs: "many"' }, expected: re(String.raw`:15:11 train\.epochs: expected a positive integer, got "many"`) },
  { name: 'widths is a number', edit: { 13: '  widths: 8' }, expected: re(String.raw`:13:11 decoder\.widths: expected a list.*, got 8`) },
  { name: 'taps is a string', edit: { 11: '  taps: stage1' }, expected: re(String.raw`:11:9 encoder\.taps: expected 'auto' or a list of stage or tensor names, got "stage1"`) },
  { name: 'clip is not a boolean', edit: { 8: '  noise: {type: gaussian, sigma: 50, clip: maybe}' }, expected: re(String.raw`:8:\d+ data\.noise\.clip: expected true or false, got "maybe"`) },
  { name: 'device is not a choice', edit: { 3: 'device: gpu' }, expected: re(String.raw`:3:9 device: expected one of 'auto', 'cpu', 'cuda', got "gpu"`) },
  { name: 'data is a number', edit: { 4: 'data: 5', 5: '', 6: '', 7: '', 8: '' }, expected: re(String.raw`:4:7 data: expected a mapping, got 5`) },
  { name: 'split is a list', edit: { 7: '  split: [0.8, 0.1, 0.1]' }, expected: re(String.raw`:7:10 data\.split: expected a mapping, got a list of 3 items`) },
  { name: 'name with spaces', edit: { 1: 'name: my job' }, expected: re(String.raw`:1:7 name: expected letters, digits, "\.", "_" or "-", got "my job"`) },
  // --- out of range
  { name: 'negative learning rate', edit: { 17: '  lr: -0.001' }, expected: re(String.raw`:17:7 train\.lr: expected a positive number, got -0\.001`) },
  { name: 'sigma above 255', edit: { 8: '  noise: {type: gaussian, sigma: 300, clip: true}' }, expected: re(String.raw`:8:\d+ data\.noise\.sigma: .*255.*300`) },
  { name: 'sigma zero', edit: { 8: '  noise: {type: gaussian, sigma: 0, clip: true}' }, expected: re(String.raw`:8:\d+ data\.noise\.sigma: .*got 0`) },
  { name: 'batch size 0', edit: { 16: '  batch_size: 0' }, expected: re(String.raw`:16:15 train\.batch_size: expected a positive integer, got 0`) },
  { name: 'fractional epochs', edit: { 15: '  epochs: 1.5' }, expected: re(String.raw`:15:11 train\.epochs: expected a positive integer, got 1\.5`) },
  { name: 'negative limit', edit: { 6: '  limit: -5' }, expected: re(String.raw`:6:10 data\.limit: expected a positive integer, got -5`) },
  { name: 'split over 100%', edit: { 7: '  split: {train: 0.8, val: 0.3, test: 0.1}' }, expected: re(String.raw`:7:10 data\.split: train \+ val \+ test must be at most 1`) },
  { name: 'empty widths', edit: { 13: '  widths: []' }, expected: re(String.raw`:13:11 decoder\.widths: expected at least 1 item, got 0`) },
  { name: 'negative width', edit: { 13: '  widths: [8, -1]' }, expected: re(String.raw`:13:15 decoder\.widths\[1\]: expected a positive integer, got -1`) },
  { name: 'opset too old', edit: { 21: '  opset: 9' }, expected: re(String.raw`:21:10 export\.opset: expected an integer >= 13 and <= 21, got 9`) },
  { name: 'zero verify samples', edit: { 23: '  samples: 0' }, expected: re(String.raw`:23:12 verify\.samples: expected a positive integer, got 0`) },
  // --- unknown choices and missing things
  { name: 'unknown data source', edit: { 5: '  source: imagenet' }, expected: re(String.raw`:5:11 data\.source: expected one of 'mnist', 'mnist-idx', 'folder', 'pairs', got "imagenet"`) },
  { name: 'misspelled noise type', edit: { 8: '  noise: {type: gausian, sigma: 50, clip: true}' }, expected: re(String.raw`:8:\d+ data\.noise\.type: expected one of .*, got "gausian"; did you mean 'gaussian'\?`) },
  { name: 'encoder file missing', edit: { 10: '  onnx: nowhere/encoder.onnx' }, expected: re(String.raw`:10:9 encoder\.onnx: file not found: .*nowhere/encoder\.onnx \(paths are relative to the job file\)`) },
  { name: 'encoder section missing', edit: { 9: '', 10: '', 11: '' }, expected: re(String.raw`:\d+:\d+ encoder: missing required field`) },
  // --- taps the encoder does not have (found by opening the model, reported at the job line)
  { name: 'a tap that is not in the encoder', edit: { 11: '  taps: [stage3]' }, expected: re(String.raw`:11:10 encoder\.taps\[0\]: 'stage3' is neither a stage nor a tensor of the model; did you mean 'stage[12]'\?`) },
  { name: 'the second tap is unknown', edit: { 11: '  taps: [stage1, relu9]' }, expected: re(String.raw`:11:18 encoder\.taps\[1\]: 'relu9' is neither a stage nor a tensor of the model`) },
  // --- --set overrides are reported against --set
  { name: '--set a negative lr', set: ['train.lr=-1'], expected: /^--set train\.lr: expected a positive number, got -1$/ },
  { name: '--set an unknown key', set: ['train.epocs=2'], expected: /^--set train\.epocs: unknown key; did you mean 'epochs'\?$/ },
];

describe('bad job files', () => {
  const dir = tmpDir('onnxtune-bad-configs-');

  it(`covers at least 30 broken files (${CASES.length})`, () => {
    expect(CASES.filter((c) => c.edit).length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const lines = BASE.map((l, k) => (c.edit && (k + 1) in c.edit ? c.edit[k + 1] : l)).filter((l) => l !== '');
    const file = path.join(dir, `case-${i}.yaml`);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const out = path.join(dir, `run-${i}`);
    const r = await runCli(['run', file, '--out', out, ...(c.set ?? []).flatMap((s) => ['--set', s])]);
    const errors = r.stderr.split('\n').filter(Boolean);
    expect(errors).toHaveLength(1);
    const line = errors[0].replace(/^onnxtune: error: /, '').replace(file, 'FILE');
    expect(line).toMatch(c.expected);
    expect(r.code).toBe(2);
    expect(fs.existsSync(out)).toBe(false);
  });
});
