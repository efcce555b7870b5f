/**
 * src/backends/onednn-guard.ts: which CPU descriptions turn oneDNN off, read from fake
 * /proc/cpuinfo + sysfs trees (the descriptions that crashed native TF under bench/tools/cpuid-fake.c).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { guardOneDnn, ONEDNN_SUPERVISED_ENV, oneDnnHazard, readCpuDescription } from '../../src/backends/onednn-guard';
import { tmpDir } from '../helpers/tmp';

interface FakeCache {
  level: number;
  type: 'Data' | 'Instruction' | 'Unified';
  size: string;
}

function fakeRoot(vendor: string, flags: string, caches: FakeCache[] | undefined, sysfsCpu = false): string {
  const root = tmpDir();
  if (sysfsCpu) fs.mkdirSync(path.join(root, 'sys/devices/system/cpu/cpu0/topology'), { recursive: true });
  fs.mkdirSync(path.join(root, 'proc'));
  const cpu = `processor\t: 0\nvendor_id\t: ${vendor}\ncpuid level\t: 16\nflags\t\t: ${flags}\n\n`;
  fs.writeFileSync(path.join(root, 'proc/cpuinfo'), cpu + cpu.replace('processor\t: 0', 'processor\t: 1'));
  caches?.forEach((c, i) => {
    const d = path.join(root, `sys/devices/system/cpu/cpu0/cache/index${i}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'level'), `${c.level}\n`);
    fs.writeFileSync(path.join(d, 'type'), `${c.type}\n`);
    fs.writeFileSync(path.join(d, 'size'), `${c.size}\n`);
  });
  return root;
}

const SANE: FakeCache[] = [
  { level: 1, type: 'Data', size: '48K' },
  { level: 1, type: 'Instruction', size: '32K' },
  { level: 2, type: 'Unified', size: '2048K' },
  { level: 3, type: 'Unified', size: '491520K' },
];

test.each([
  ['AMD with topoext (bare metal, or a VM passing it through)', 'AuthenticAMD', 'fpu sse2 avx2 topoext', SANE, false],
  ['AMD without topoext (a VM hiding leaf 0x8000001D)', 'AuthenticAMD', 'fpu sse2 avx2', SANE, true],
  ['Intel with sane caches', 'GenuineIntel', 'fpu sse2 avx512f', SANE, false],
  ['Intel listing only L1', 'GenuineIntel', 'fpu sse2', SANE.slice(0, 2), true],
  ['Intel with a 4 KiB L2', 'GenuineIntel', 'fpu sse2', [SANE[0], { level: 2, type: 'Unified', size: '4K' }], true],
  ['Intel with no cache list at all (sysfs hidden)', 'GenuineIntel', 'fpu sse2', undefined, false],
  ['AMD with no cache list at all (sysfs hidden)', 'AuthenticAMD', 'fpu sse2 topoext', undefined, false],
] as const)('%s', (_name, vendor, flags, caches, hazard) => {
  const cpu = readCpuDescription(fakeRoot(vendor, flags, caches ? [...caches] : undefined));
  expect(cpu?.vendor).toBe(vendor);
  expect(oneDnnHazard(cpu!) !== undefined).toBe(hazard);
});

test('AMD with topoext whose cpu0 is in sysfs but lists no cache (an EPYC VM that crashed oneDNN) is hazardous', () => {
  const cpu = readCpuDescription(fakeRoot('AuthenticAMD', 'fpu sse2 avx2 topoext', undefined, true));
  expect(oneDnnHazard(cpu!)?.reason).toMatch(/cache leaf the kernel found empty/);
  expect(oneDnnHazard(readCpuDescription(fakeRoot('AuthenticAMD', 'fpu topoext', [...SANE], true))!)).toBeUndefined();
});

test('sizes are parsed with their unit and instruction caches are ignored', () => {
  const cpu = readCpuDescription(fakeRoot('GenuineIntel', 'fpu', SANE));
  expect([...cpu!.cacheBytes]).toEqual([[1, 48 * 1024], [2, 2048 * 1024], [3, 491520 * 1024]]);
});

test('guardOneDnn sets TF_ENABLE_ONEDNN_OPTS=0 only when hazardous and the user chose nothing', () => {
  const bad = readCpuDescription(fakeRoot('AuthenticAMD', 'fpu', SANE));
  const good = readCpuDescription(fakeRoot('AuthenticAMD', 'fpu topoext', SANE));
  const env: NodeJS.ProcessEnv = {};
  expect(guardOneDnn(env, bad)).toEqual({ oneDnn: 'off', reason: expect.stringMatching(/topoext/) as unknown });
  expect(env.TF_ENABLE_ONEDNN_OPTS).toBe('0');
  const chosen: NodeJS.ProcessEnv = { TF_ENABLE_ONEDNN_OPTS: '1' };
  expect(guardOneDnn(chosen, bad)).toBeUndefined();
  expect(chosen.TF_ENABLE_ONEDNN_OPTS).toBe('1');
  const fine: NodeJS.ProcessEnv = {};
  expect(guardOneDnn(fine, good)).toBeUndefined();
  expect(fine.TF_ENABLE_ONEDNN_OPTS).toBeUndefined();
  // No readable CPU description (here: a fake root with nothing in it): nothing is changed.
  expect(guardOneDnn({ ONNXTUNE_TEST_CPUINFO_ROOT: path.join(tmpDir(), 'nothing') })).toBeUndefined();
  expect(readCpuDescription(path.join(tmpDir(), 'nothing'))).toBeUndefined();
});

test('under the CLI supervisor the guard leaves oneDNN on where it is hazardous (a crash is retried with it off)', () => {
  const bad = readCpuDescription(fakeRoot('AuthenticAMD', 'fpu', SANE));
  const good = readCpuDescription(fakeRoot('AuthenticAMD', 'fpu topoext', SANE));
  const env: NodeJS.ProcessEnv = { [ONEDNN_SUPERVISED_ENV]: '1' };
  expect(guardOneDnn(env, bad)).toEqual({ oneDnn: 'on-supervised', reason: expect.stringMatching(/topoext/) as unknown });
  expect(env.TF_ENABLE_ONEDNN_OPTS).toBeUndefined();
  expect(guardOneDnn({ [ONEDNN_SUPERVISED_ENV]: '1' }, good)).toBeUndefined();
  // The user's choice still wins, supervised or not.
  const chosen: NodeJS.ProcessEnv = { [ONEDNN_SUPERVISED_ENV]: '1', TF_ENABLE_ONEDNN_OPTS: '0' };
  expect(guardOneDnn(chosen, bad)).toBeUndefined();
  expect(chosen.TF_ENABLE_ONEDNN_OPTS).toBe('0');
});
