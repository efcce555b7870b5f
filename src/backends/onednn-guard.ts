/**
 * Decides, before native TensorFlow loads, whether this CPU's description would make oneDNN
 * divide by zero, and if so turns TF's oneDNN custom ops off (TF_ENABLE_ONEDNN_OPTS=0).
 *
 * Why: oneDNN sizes its kernel blocking from per-core cache sizes it reads with CPUID (Xbyak).
 * On an AMD CPU it reads leaf 0x8000001D without checking TOPOEXT; VMs that do not pass TOPOEXT
 * through return zeros there, oneDNN takes every cache as 1 byte, and `brg_blocking_t::est_eff_1x1`
 * then divides by zero while creating a 1×1 convolution such as DenseNet-121's 1024→512 transition
 * (SIGFPE, exit 136). An Intel VM whose leaf 4 lists no L2 crashes the same way in batch norm.
 * Reproduced with bench/tools/cpuid-fake.c; TF's own (Eigen) kernels do not read these values.
 */
import * as fs from 'node:fs';

/** What the kernel says about the CPU (the kernel reads the same CPUID leaves oneDNN does). */
export interface CpuDescription {
  vendor: string;
  flags: ReadonlySet<string>;
  /** Per level, the largest data/unified cache the kernel lists for cpu0, in bytes. */
  cacheBytes: ReadonlyMap<number, number>;
  /** Whether sysfs shows cpu0 at all (without it an empty cache list says nothing). */
  sysfsCpu?: boolean;
}

export interface OneDnnHazard {
  /** One line for the log: what was found and what it breaks. */
  reason: string;
}

/** Smallest L2 any x86 CPU oneDNN supports has had; below this the CPUID data is not real. */
const MIN_L2_BYTES = 64 * 1024;

/**
 * The hazard this description poses to oneDNN, or undefined when it looks sane.
 * @param cpu from {@link readCpuDescription}
 */
export function oneDnnHazard(cpu: CpuDescription): OneDnnHazard | undefined {
  if (cpu.vendor === 'AuthenticAMD' && !cpu.flags.has('topoext')) {
    return { reason: 'AMD CPU without the topoext CPUID feature (usual in VMs): oneDNN reads its cache sizes as 0' };
  }
  // With topoext the kernel reads the same leaf 0x8000001D as oneDNN: cpu0 in sysfs without any cache
  // entry means that leaf came back empty (seen on an "AMD EPYC" VM, where native TF then crashed with SIGFPE).
  if (cpu.vendor === 'AuthenticAMD' && cpu.sysfsCpu && cpu.cacheBytes.size === 0) {
    return { reason: 'AMD CPU whose cache leaf the kernel found empty (no caches listed for cpu0; usual in VMs): oneDNN reads its cache sizes as 0' };
  }
  // The kernel fills its cache list from leaf 4 on Intel, so a missing or tiny L2 here is what oneDNN sees too.
  if (cpu.vendor === 'GenuineIntel' && cpu.cacheBytes.size > 0) {
    const l2 = cpu.cacheBytes.get(2) ?? 0;
    if (l2 < MIN_L2_BYTES) {
      return { reason: `Intel CPU reporting ${l2 ? `a ${l2}-byte` : 'no'} L2 cache (usual in VMs): oneDNN divides by it` };
    }
  }
  return undefined;
}

function parseSize(text: string): number {
  const m = /^(\d+)\s*([KMG]?)/i.exec(text.trim());
  if (!m) return 0;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

/**
 * Reads /proc/cpuinfo and cpu0's cache list from sysfs; undefined off Linux/x86 or when unreadable.
 * @param root prefix for both paths (tests point it at a fake tree)
 */
export function readCpuDescription(root = ''): CpuDescription | undefined {
  let info: string;
  try {
    info = fs.readFileSync(`${root}/proc/cpuinfo`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1].trim();
  const vendor = field('vendor_id');
  if (!vendor) return undefined;
  const flags = new Set((field('flags') ?? '').split(/\s+/).filter(Boolean));
  const cacheBytes = new Map<number, number>();
  const dir = `${root}/sys/devices/system/cpu/cpu0/cache`;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir).filter((e) => /^index\d+$/.test(e));
  } catch {
    // No sysfs cache list (containers may hide it): judge by vendor and flags only.
  }
  for (const e of entries) {
    try {
      const read = (f: string) => fs.readFileSync(`${dir}/${e}/${f}`, 'utf8').trim();
      if (read('type') === 'Instruction') continue;
      const level = Number(read('level'));
      cacheBytes.set(level, Math.max(cacheBytes.get(level) ?? 0, parseSize(read('size'))));
    } catch {
      // An unreadable entry tells nothing either way.
    }
  }
  return { vendor, flags, cacheBytes, sysfsCpu: fs.existsSync(`${root}/sys/devices/system/cpu/cpu0`) };
}

/**
 * Set by the CLI supervisor (src/cli/supervisor.ts) in its first worker: on a hazardous CPU, keep oneDNN on
 * (≈ 2× faster native training, bench/README.md) because a crash it causes is retried with oneDNN off.
 */
export const ONEDNN_SUPERVISED_ENV = 'ONNXTUNE_ONEDNN_SUPERVISED';

/** What the guard did on a hazardous CPU. */
export interface OneDnnGuardDecision {
  /** What was found and what it breaks. */
  reason: string;
  /** 'off': TF_ENABLE_ONEDNN_OPTS=0 was set; 'on-supervised': left on, since a supervisor retries a crash with it off. */
  oneDnn: 'off' | 'on-supervised';
}

/**
 * On a hazardous CPU where the user has not chosen TF_ENABLE_ONEDNN_OPTS, sets it to 0 in this process's
 * environment, unless the CLI supervisor runs this process ({@link ONEDNN_SUPERVISED_ENV}). Must run before the
 * tfjs-node binding loads (TF reads the variable once).
 * @returns what it decided, when the CPU is hazardous and the choice was the guard's
 */
export function guardOneDnn(
  env: NodeJS.ProcessEnv = process.env,
  // Test-only: ONNXTUNE_TEST_CPUINFO_ROOT points at a fake /proc + /sys tree (test/cli/supervisor.test.ts).
  cpu: CpuDescription | undefined = readCpuDescription(env.ONNXTUNE_TEST_CPUINFO_ROOT ?? ''),
): OneDnnGuardDecision | undefined {
  if (env.TF_ENABLE_ONEDNN_OPTS !== undefined || !cpu) return undefined;
  const hazard = oneDnnHazard(cpu);
  if (!hazard) return undefined;
  if (env[ONEDNN_SUPERVISED_ENV] === '1') return { reason: hazard.reason, oneDnn: 'on-supervised' };
  env.TF_ENABLE_ONEDNN_OPTS = '0';
  return { reason: hazard.reason, oneDnn: 'off' };
}

/** Whether native TF started with `env` would run oneDNN's ops: the user's TF_ENABLE_ONEDNN_OPTS, else the guard's decision. */
export function oneDnnWouldBeOn(env: NodeJS.ProcessEnv = process.env): boolean {
  const probe = { ...env };
  guardOneDnn(probe);
  return probe.TF_ENABLE_ONEDNN_OPTS !== '0';
}

/** Whether native TF started with `env` runs oneDNN on a CPU the guard finds hazardous only because a supervisor watches it. */
export function oneDnnOnUnderSupervision(env: NodeJS.ProcessEnv = process.env): boolean {
  return guardOneDnn({ ...env })?.oneDnn === 'on-supervised';
}
