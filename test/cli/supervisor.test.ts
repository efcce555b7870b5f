/**
 * The CLI supervisor (src/cli/supervisor.ts): a worker that dies by a crash signal becomes one
 * line naming the file, the signal, the cause and the workaround, and a retry (after a SIGFPE with
 * oneDNN on: native TF with oneDNN off, then wasm; otherwise wasm); exit
 * codes, --json stdout and plain runs are unchanged. The crashes come from the test-only hook
 * ONNXTUNE_TEST_CRASH in src/backends/tf.ts and, where this CPU allows CPUID faulting, from the
 * real oneDNN division by zero under an emulated AMD-without-topoext CPU (bench/tools/cpuid-fake.c).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commandOf, crashMessage, resumeArgv, retriesAfter, shouldSupervise } from '../../src/cli/supervisor';
import { ONEDNN_SUPERVISED_ENV, oneDnnHazard, readCpuDescription } from '../../src/backends/onednn-guard';
import { quickJob, writeJob } from '../helpers/jobs';
import { encodeModel } from '../../src/onnx/model-io';
import { nativeTfInstalled } from '../helpers/native-tf';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { tmpDir } from '../helpers/tmp';
import { convReluConvRelu } from '../onnx/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const itNative = nativeTfInstalled('supervisor') ? test : test.skip;
const ENTRY = path.join(ROOT, 'test/helpers/supervised-cli-entry.ts');
const REGISTER = path.join(ROOT, 'test/helpers/ts-register.js');

/** Runs the supervised CLI; `env` values are added, `undefined` ones removed. */
function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const full: NodeJS.ProcessEnv = { ...process.env, ONNXTUNE_LOG_LEVEL: 'info', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete full[k];
  const r = spawnSync(process.execPath, ['-r', REGISTER, ENTRY, ...args], {
    cwd: ROOT,
    env: full,
    encoding: 'utf8',
    timeout: 120000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The supervisor's own lines on stderr. */
const crashLines = (stderr: string) => stderr.split('\n').filter((l) => /worker died with/.test(l));

describe('supervisor decisions', () => {
  test('finds the command past global options and supervises only the model-running commands', () => {
    expect(commandOf(['--log-level', 'debug', '--json', 'convert', 'a.onnx'])).toBe('convert');
    expect(shouldSupervise(['convert', 'a.onnx', 'b.json'], {})).toBe(true);
    expect(shouldSupervise(['inspect', 'a.onnx'], {})).toBe(false);
    expect(shouldSupervise(['convert', '--help'], {})).toBe(false);
    expect(shouldSupervise(['run', 'job.yaml'], { ONNXTUNE_SUPERVISE: '0' })).toBe(false);
    // The worker itself runs in-process.
    expect(shouldSupervise(['run', 'job.yaml'], { ONNXTUNE_SUPERVISED_ATTEMPT: '1' })).toBe(false);
  });

  test('the message names the file, the signal, the cause and both workarounds', () => {
    const file = path.join(tmpDir(), 'm.onnx');
    fs.writeFileSync(file, 'x');
    const m = crashMessage(['convert', file, 'out/model.json'], 'SIGFPE', 'native', 'wasm');
    expect(m).toContain(`convert worker died with SIGFPE on ${file}`);
    expect(m).toContain('oneDNN');
    expect(m).toContain('retrying once on the wasm backend');
    expect(m).toContain('TF_ENABLE_ONEDNN_OPTS=0');
    expect(m).toContain('ONNXTUNE_TF_BACKEND=wasm');
    expect(m.includes('\n')).toBe(false);
    expect(crashMessage(['convert', file], 'SIGFPE', 'native', 'onednn-off')).toContain('retrying on native TensorFlow with oneDNN off');
  });

  test('a crashed run is retried as run --resume DIR, keeping --until and the global options', () => {
    expect(resumeArgv(['--log-level', 'debug', 'run', 'job.yaml', '--set', 'train.epochs=2', '--out', 'runs/x', '--until', 'train', '--json'], '/abs/runs/x'))
      .toEqual(['--log-level', 'debug', 'run', '--resume', '/abs/runs/x', '--until', 'train', '--json']);
    expect(resumeArgv(['run', '--resume', 'runs/x', '--from=featurize', '--until=evaluate'], '/abs/runs/x'))
      .toEqual(['run', '--resume', '/abs/runs/x', '--until=evaluate']);
  });

  test('after a SIGFPE with oneDNN on, native with oneDNN off comes before wasm; otherwise wasm alone', () => {
    expect(retriesAfter('SIGFPE', 'native', { TF_ENABLE_ONEDNN_OPTS: '1' })).toEqual(['onednn-off', 'wasm']);
    expect(retriesAfter('SIGFPE', 'tensorflow', { TF_ENABLE_ONEDNN_OPTS: '1' })).toEqual(['onednn-off', 'wasm']);
    expect(retriesAfter('SIGFPE', 'native', { TF_ENABLE_ONEDNN_OPTS: '0' })).toEqual(['wasm']);
    expect(retriesAfter('SIGSEGV', 'native', { TF_ENABLE_ONEDNN_OPTS: '1' })).toEqual(['wasm']);
    expect(retriesAfter('SIGFPE', 'wasm', {})).toEqual([]);
    expect(retriesAfter('SIGFPE', 'cpu', {})).toEqual([]);
    // On a CPU the guard finds hazardous, the worker already ran with oneDNN off: straight to wasm.
    const root = path.join(tmpDir(), 'fake-root');
    fs.mkdirSync(path.join(root, 'proc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'proc/cpuinfo'), 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2\n\n');
    expect(retriesAfter('SIGFPE', 'native', { ONNXTUNE_TEST_CPUINFO_ROOT: root })).toEqual(['wasm']);
    // Under the supervisor the guard keeps oneDNN on there, so any crash tries oneDNN off first.
    const supervised = { ONNXTUNE_TEST_CPUINFO_ROOT: root, [ONEDNN_SUPERVISED_ENV]: '1' };
    expect(retriesAfter('SIGFPE', 'native', supervised)).toEqual(['onednn-off', 'wasm']);
    expect(retriesAfter('SIGSEGV', 'native', supervised)).toEqual(['onednn-off', 'wasm']);
    expect(retriesAfter('SIGSEGV', 'native', { ...supervised, TF_ENABLE_ONEDNN_OPTS: '0' })).toEqual(['wasm']);
  });
});

describe('supervised CLI in a child process', () => {
  let model: string;
  let dir: string;
  beforeAll(() => {
    dir = tmpDir();
    model = path.join(dir, 'crcr.onnx');
    fs.writeFileSync(model, encodeModel(convReluConvRelu()));
  });

  test('a worker killed by SIGFPE is reported in one line and retried on wasm; --json stdout stays one document', () => {
    const out = path.join(dir, 'a', 'model.json');
    // oneDNN already off: the SIGFPE is not oneDNN's, so wasm is the one retry.
    const r = cli(['--json', 'convert', model, out, '--check-size', '8'], { ONNXTUNE_TEST_CRASH: 'SIGFPE', TF_ENABLE_ONEDNN_OPTS: '0' });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    const lines = crashLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`died with SIGFPE on ${model}`);
    expect(r.stderr).toContain('TensorFlow.js backend: wasm');
    const report = JSON.parse(r.stdout) as { check: { outputs: Array<{ maxAbs: number }> } };
    expect(report.check.outputs[0].maxAbs).toBeLessThanOrEqual(1e-4);
    expect(fs.existsSync(out)).toBe(true);
  });

  itNative('a SIGFPE with oneDNN on is retried on native TF with oneDNN off: one line, native speed kept', () => {
    const out = path.join(dir, 'e', 'model.json');
    const r = cli(['convert', model, out, '--check-size', '8'], { ONNXTUNE_TEST_CRASH: 'SIGFPE:onednn', TF_ENABLE_ONEDNN_OPTS: '1', ONNXTUNE_TF_BACKEND: undefined });
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
    const lines = crashLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('retrying on native TensorFlow with oneDNN off');
    expect(r.stderr).toContain('TensorFlow.js backend: tensorflow');
    expect(fs.existsSync(out)).toBe(true);
  });

  itNative('a crash again with oneDNN off goes on to wasm: two lines', () => {
    const r = cli(['convert', model, path.join(dir, 'f', 'model.json'), '--check-size', '8'], { ONNXTUNE_TEST_CRASH: 'SIGFPE', TF_ENABLE_ONEDNN_OPTS: '1', ONNXTUNE_TF_BACKEND: undefined });
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
    const lines = crashLines(r.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('oneDNN off');
    expect(lines[1]).toContain('(native, oneDNN off backend)');
    expect(lines[1]).toContain('retrying once on the wasm backend');
    expect(r.stderr).toContain('TensorFlow.js backend: wasm');
  });

  itNative('on a CPU the guard finds hazardous the worker keeps oneDNN on, and its crash is retried with oneDNN off', () => {
    const root = path.join(dir, 'amd-root');
    fs.mkdirSync(path.join(root, 'proc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'proc/cpuinfo'), 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2\n\n');
    const env = { ONNXTUNE_TEST_CRASH: 'SIGFPE:onednn', ONNXTUNE_TEST_CPUINFO_ROOT: root, TF_ENABLE_ONEDNN_OPTS: undefined, ONNXTUNE_TF_BACKEND: undefined };
    const r = cli(['convert', model, path.join(dir, 'g', 'model.json'), '--check-size', '8'], env);
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
    expect(r.stderr).toMatch(/oneDNN custom ops kept on although AMD CPU without the topoext/);
    const lines = crashLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('retrying on native TensorFlow with oneDNN off');
    expect(r.stderr).toContain('TensorFlow.js backend: tensorflow');
    // In-process (library use, ONNXTUNE_SUPERVISE=0) nobody would retry: the guard turns oneDNN off, and the hook never fires.
    const bare = cli(['convert', model, path.join(dir, 'h', 'model.json'), '--check-size', '8'], { ...env, ONNXTUNE_SUPERVISE: '0' });
    expect({ signal: bare.signal, code: bare.code }).toEqual({ signal: null, code: 0 });
    expect(bare.stderr).toMatch(/oneDNN custom ops off \(TF_ENABLE_ONEDNN_OPTS=0\)/);
  });

  test('a run that crashes in its train stage resumes in the same run directory: finished stages are loaded, not redone', () => {
    const jobDir = tmpDir();
    const out = path.join(jobDir, 'run');
    const job = writeJob(jobDir, quickJob());
    // The hook fires when native TF loads, i.e. in the train stage, after data, encoder and featurize finished.
    const r = cli(['run', job, '--out', out], { ONNXTUNE_TEST_CRASH: 'SIGFPE', TF_ENABLE_ONEDNN_OPTS: '0', ONNXTUNE_TF_BACKEND: undefined });
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
    expect(crashLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`Resuming run ${out}`);
    for (const stage of ['data', 'encoder', 'featurize']) expect(r.stderr).toContain(`Loaded stage ${stage} from the run directory`);
    expect(r.stderr).toContain('TensorFlow.js backend: wasm');
    expect(fs.existsSync(path.join(out, 'verify', 'DONE'))).toBe(true);
    expect(fs.readdirSync(jobDir).sort()).toEqual(['job.yaml', 'run']);
  });

  test('a crash on wasm too ends with exit 1 and a second line, never a signal', () => {
    // oneDNN off: on a CPU the guard finds hazardous, a crash with oneDNN on would first be retried with it off.
    const r = cli(['convert', model, path.join(dir, 'b', 'model.json')], { ONNXTUNE_TEST_CRASH: 'SIGSEGV:all', TF_ENABLE_ONEDNN_OPTS: '0' });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    const lines = crashLines(r.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('died with SIGSEGV');
    expect(lines[1]).toContain('(wasm backend)');
    expect(lines[1]).toContain('no retry left');
    expect(r.stdout).toBe('');
  });

  test('a backend the user forced to wasm is not retried', () => {
    const r = cli(['convert', model, path.join(dir, 'c', 'model.json')], { ONNXTUNE_TEST_CRASH: 'SIGABRT:all', ONNXTUNE_TF_BACKEND: 'wasm' });
    expect(r.code).toBe(1);
    expect(crashLines(r.stderr)).toHaveLength(1);
  });

  test('exit codes of handled errors pass through unchanged, with no retry', () => {
    const r = cli(['convert', path.join(dir, 'missing.onnx'), path.join(dir, 'd', 'model.json')]);
    expect(r.code).toBe(2);
    expect(crashLines(r.stderr)).toEqual([]);
    expect(r.stderr).toMatch(/onnxtune: error: /);
  });
});

describeIfShared('stopping a supervised command', ['repros/densenet121-to-7x7.onnx'], () => {
  test('SIGTERM to the supervisor stops the worker too, and the supervisor ends by the same signal', async () => {
    const out = path.join(tmpDir(), 'model.json');
    const child = spawn(process.execPath, ['-r', REGISTER, ENTRY, 'convert', sharedPath('repros/densenet121-to-7x7.onnx'), out], {
      cwd: ROOT,
      env: { ...process.env, ONNXTUNE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const t0 = performance.now();
    // The worker holds the same stdout/stderr pipes: 'close' comes only once it has exited as well.
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += String(d);
        if (stderr.includes('TensorFlow.js backend')) resolve();
      });
    });
    child.kill('SIGTERM');
    const end = await closed;
    expect(end).toEqual({ code: null, signal: 'SIGTERM' });
    expect(performance.now() - t0).toBeLessThan(60000);
    expect(crashLines(stderr)).toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
  });
});

/** CPUID faulting lets bench/tools/cpuid-fake.c show native TF a VM's CPU description. */
function cpuidFakeLibrary(): string | undefined {
  const why = (reason: string) => {
    process.stdout.write(`supervisor: real-crash test skipped: ${reason}\n`);
    return undefined;
  };
  if (process.platform !== 'linux' || process.arch !== 'x64') return why('needs Linux x86-64');
  if (!/\bcpuid_fault\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'))) return why('this CPU has no cpuid_fault flag');
  if (!nativeTfInstalled('supervisor')) return why('tfjs-node not built');
  const lib = path.join(tmpDir(), 'cpuid-fake.so');
  try {
    execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-o', lib, path.join(ROOT, 'bench/tools/cpuid-fake.c'), '-ldl'], { stdio: 'pipe' });
  } catch (err) {
    return why(`gcc could not build bench/tools/cpuid-fake.c (${String(err).split('\n')[0]})`);
  }
  return lib;
}

/** DenseNet-121's 1024→512 transition conv, alone: oneDNN's brgemm 1×1 blocking divides by the 1-byte L2. */
function transitionConvModel(file: string): void {
  const { GraphBuilder } = require('../../src/onnx/builder') as typeof import('../../src/onnx/builder');
  const { seeded } = require('../helpers/seeded') as typeof import('../helpers/seeded');
  const b = new GraphBuilder('transition');
  b.addInput('x', [1, 1024, 14, 14]);
  b.addInitializer('w', [512, 1024, 1, 1], seeded(512 * 1024, 9));
  b.addNode('Conv', ['x', 'w'], ['y'], { kernel_shape: [1, 1] });
  b.addOutput('y', [1, 512, 14, 14]);
  fs.writeFileSync(file, encodeModel(b.toModel({ opset: 17 })));
}

/** AuthenticAMD, no leaf 0x8000001D data (what a VM without topoext returns). */
const AMD_NO_TOPOEXT = '0:ebx=0x68747541,edx=0x69746e65,ecx=0x444d4163;0x8000001d:eax=0,ebx=0,ecx=0,edx=0;0x80000000:eax=0x80000008';

describe('a real oneDNN crash (emulated AMD VM without topoext)', () => {
  const lib = cpuidFakeLibrary();
  const itReal = lib ? test : test.skip;

  itReal('native TF dies with SIGFPE unsupervised; supervised, the command recovers on native TF with oneDNN off', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'transition.onnx');
    transitionConvModel(file);
    // TF_ENABLE_ONEDNN_OPTS=1: on a real such VM the guard would otherwise (rightly) turn oneDNN off.
    const env = { LD_PRELOAD: lib as string, CPUID_FAKE: AMD_NO_TOPOEXT, ONNXTUNE_TF_BACKEND: 'tensorflow', TF_ENABLE_ONEDNN_OPTS: '1' };
    const bare = cli(['convert', file, path.join(dir, 'a', 'model.json')], { ...env, ONNXTUNE_SUPERVISE: '0' });
    expect(bare.signal).toBe('SIGFPE');
    const supervised = cli(['convert', file, path.join(dir, 'b', 'model.json')], env);
    expect(supervised.code).toBe(0);
    expect(crashLines(supervised.stderr)[0]).toContain(`died with SIGFPE on ${file}`);
    // Recovered on native TF with oneDNN off (the division by zero is oneDNN's), not on wasm.
    expect(crashLines(supervised.stderr)).toHaveLength(1);
    expect(supervised.stderr).toContain('TensorFlow.js backend: tensorflow');
  });

  itReal('the guard reads the same description from /proc/cpuinfo, turns oneDNN off, and native TF converts', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'transition.onnx');
    transitionConvModel(file);
    // What the kernel of such a VM shows: AuthenticAMD, no topoext flag.
    const root = path.join(dir, 'fake-root');
    fs.mkdirSync(path.join(root, 'proc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'proc/cpuinfo'), 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f\n\n');
    const r = cli(['--json', 'convert', file, path.join(dir, 'c', 'model.json')], {
      LD_PRELOAD: lib as string,
      CPUID_FAKE: AMD_NO_TOPOEXT,
      ONNXTUNE_TF_BACKEND: 'tensorflow',
      ONNXTUNE_SUPERVISE: '0',
      ONNXTUNE_TEST_CPUINFO_ROOT: root,
      TF_ENABLE_ONEDNN_OPTS: undefined,
    });
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
    expect(r.stderr).toMatch(/oneDNN custom ops off \(TF_ENABLE_ONEDNN_OPTS=0\): AMD CPU without the topoext/);
    expect(r.stderr).toContain('TensorFlow.js backend: tensorflow');
    const report = JSON.parse(r.stdout) as { check: { outputs: Array<{ maxAbs: number }> } };
    expect(report.check.outputs[0].maxAbs).toBeLessThanOrEqual(1e-4);
  });
});

/** This machine's own CPU, when the oneDNN guard finds it hazardous (e.g. an AMD EPYC VM listing no caches). */
function hazardousHere(): string | undefined {
  const skip = (reason: string) => {
    process.stdout.write(`supervisor: real-VM test skipped: ${reason}\n`);
    return undefined;
  };
  const cpu = readCpuDescription();
  const hazard = cpu && oneDnnHazard(cpu);
  if (!hazard) return skip("this CPU's description is safe for oneDNN (the guard does not fire here)");
  if (!nativeTfInstalled('supervisor')) return skip('tfjs-node not built');
  return hazard.reason;
}

describe('on this machine, where the oneDNN guard fires', () => {
  const reason = hazardousHere();
  const itHere = reason ? test : test.skip;

  itHere('the supervised convert of the DenseNet transition conv keeps native TF and ends with exit 0', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'transition.onnx');
    transitionConvModel(file);
    const r = cli(['--json', 'convert', file, path.join(dir, 'a', 'model.json')], { ONNXTUNE_TF_BACKEND: 'tensorflow', TF_ENABLE_ONEDNN_OPTS: undefined });
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
    expect(r.stderr).toContain(`oneDNN custom ops kept on although ${reason as string}`);
    // Where oneDNN divides by zero on this conv (it did on the AMD EPYC VM this was written on), one retry without it.
    const lines = crashLines(r.stderr);
    expect(lines.length).toBeLessThanOrEqual(1);
    for (const l of lines) expect(l).toMatch(/died with SIGFPE .*retrying on native TensorFlow with oneDNN off/);
    expect(r.stderr).toContain('TensorFlow.js backend: tensorflow');
    const report = JSON.parse(r.stdout) as { check: { outputs: Array<{ maxAbs: number }> } };
    expect(report.check.outputs[0].maxAbs).toBeLessThanOrEqual(1e-4);
  });
});
