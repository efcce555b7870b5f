/**
 * Bad input through the CLI: a typo in a job key, a missing ONNX file and a corrupt ONNX file
 * each end with one line on stderr naming the problem, exit code 2, no stack trace, and an
 * existing run directory is left exactly as it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli as cli } from '../helpers/cli';
import { MNIST_ENCODER, quickJob, writeJob } from '../helpers/jobs';
import { tmpDir } from '../helpers/tmp';

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

describe('CLI errors', () => {
  const dir = tmpDir();
  const runDir = path.join(dir, 'existing-run');

  beforeAll(() => {
    fs.mkdirSync(path.join(runDir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'job.yaml'), 'name: earlier\n');
    fs.writeFileSync(path.join(runDir, 'data', 'precious.npy'), 'finished work');
    fs.writeFileSync(path.join(runDir, 'data', 'DONE'), 'abc\n');
  });

  const cases: Array<[string, () => string, RegExp]> = [
    [
      'a typo in a key',
      () => {
        const job = quickJob();
        (job.train as Record<string, unknown>).learning_rat = 0.1;
        return writeJob(dir, job, 'typo.yaml');
      },
      /typo\.yaml:\d+:\d+ train\.learning_rat: unknown key/,
    ],
    [
      'an ONNX path that does not exist',
      () => writeJob(dir, quickJob({ encoder: { onnx: 'nowhere/enc.onnx', taps: ['x'] } }), 'missing.yaml'),
      /missing\.yaml:\d+:\d+ encoder\.onnx: file not found: .*nowhere\/enc\.onnx/,
    ],
    [
      'a corrupt ONNX file',
      () => {
        fs.writeFileSync(path.join(dir, 'corrupt.onnx'), Buffer.from('this is not a protobuf \x00\xff\xfe garbage'));
        return writeJob(dir, quickJob({ encoder: { onnx: path.join(dir, 'corrupt.onnx'), taps: ['x'] } }), 'corrupt.yaml');
      },
      /corrupt\.onnx: /,
    ],
  ];

  it.each(cases)('%s gives one line, exit code 2 and keeps the run directory', async (_name, make, pattern) => {
    const before = snapshotTree(runDir);
    const jobFile = make();
    const r = await cli(['run', jobFile, '--resume', runDir]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('onnxtune: error:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(snapshotTree(runDir)).toEqual(before);
  });

  it('a new run into a non-empty folder is refused and the folder kept', async () => {
    const before = snapshotTree(runDir);
    const r = await cli(['run', writeJob(dir, quickJob(), 'ok.yaml'), '--out', runDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run directory exists and is not empty; use --resume/);
    expect(snapshotTree(runDir)).toEqual(before);
  });

  it('--verbose adds the stack trace', async () => {
    const jobFile = writeJob(dir, quickJob({ encoder: { onnx: path.join(dir, 'corrupt.onnx'), taps: ['x'] } }), 'corrupt2.yaml');
    const r = await cli(['run', jobFile, '--out', path.join(dir, 'new-run'), '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('an unknown tap names the tensor and suggests a close one', async () => {
    const jobFile = writeJob(dir, quickJob({ encoder: { onnx: MNIST_ENCODER, taps: ['stage3'] } }), 'tap.yaml');
    const r = await cli(['run', jobFile, '--out', path.join(dir, 'tap-run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/encoder\.taps\[0\]: 'stage3' is neither a stage nor a tensor of the model; did you mean 'stage[12]'\?/);
    expect(fs.existsSync(path.join(dir, 'tap-run'))).toBe(false);
  });

  it('a registry entry that does not match the file, or is misspelled, is refused before any stage', async () => {
    const wrong = writeJob(dir, quickJob({ encoder: { onnx: MNIST_ENCODER, taps: ['stage1'], registry: 'resnet18' } }), 'reg.yaml');
    let r = await cli(['run', wrong, '--out', path.join(dir, 'reg-run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/encoder\.registry: the file does not look like resnet18/);
    const typo = writeJob(dir, quickJob({ encoder: { onnx: MNIST_ENCODER, taps: ['stage1'], registry: 'resnet19' } }), 'reg2.yaml');
    r = await cli(['run', typo, '--out', path.join(dir, 'reg-run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/encoder\.registry.*resnet18/);
    expect(fs.existsSync(path.join(dir, 'reg-run'))).toBe(false);
  });

  it('--help on run explains every option', async () => {
    const r = await cli(['run', '--help']);
    for (const opt of ['--set', '--out', '--resume', '--from', '--until', '--log-level', '--json']) expect(r.stdout).toContain(opt);
  });
});

describe('CLI usage errors', () => {
  it.each([
    [['inspect'], /Not enough non-option arguments/],
    [['run', 'x.yaml', '--bogus'], /Unknown argument: bogus/],
    [['run'], /give a job file, or --resume DIR/],
    // A single-value option given twice is named (yargs would hand the command an array).
    [['eval', 'gray-s25', '--data', 'a', '--data', 'b'], /--data takes one value, given 2 \(a, b\)/],
  ])('%j exits 2 with a one-line error and a pointer to --help', async (args, pattern) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/Run with --help for usage/);
  });

  it('dashed array options pass that check (yargs adds their camelCase key: --input-shape → inputShape)', async () => {
    const dir = tmpDir();
    const r = await cli(['convert', path.join(dir, 'missing.onnx'), path.join(dir, 'out', 'model.json'), '--input-shape', '1,1,8,8', '--fp32-ops', 'Resize']);
    expect(r.stderr).not.toMatch(/takes one value/);
    expect(r.stderr).toMatch(/missing\.onnx/);
  });
});
