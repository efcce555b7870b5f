/** Bench helpers: peak RSS from /proc/self/status (with the resourceUsage fallback) and the workers' marked result line. */
import { lastMeaningfulLine, parseMarkedLine, parseVmHwmKb, peakRss } from '../../../bench/child-process';

const STATUS = ['Name:\tnode', 'VmPeak:\t 1234568 kB', 'VmHWM:\t  409600 kB', 'VmRSS:\t  204800 kB', 'Threads:\t11', ''].join('\n');

describe('parseVmHwmKb', () => {
  it('reads the VmHWM line in kB', () => {
    expect(parseVmHwmKb(STATUS)).toBe(409600);
  });

  it('is undefined without a VmHWM line (not Linux, or a kernel thread)', () => {
    expect(parseVmHwmKb('Name:\tkthreadd\nVmRSS:\t 1 kB\n')).toBeUndefined();
    expect(parseVmHwmKb('')).toBeUndefined();
  });

  it('does not take VmPeak or a VmHWM in another unit', () => {
    expect(parseVmHwmKb('VmPeak:\t 99 kB\nVmHWM:\t 5 MB\n')).toBeUndefined();
  });
});

describe('peakRss', () => {
  it('uses VmHWM when the status text has it', () => {
    expect(peakRss(() => STATUS)).toEqual({ mb: 400, source: 'VmHWM' });
  });

  it('falls back to process.resourceUsage().maxRSS when the status cannot be read', () => {
    const r = peakRss(() => {
      throw new Error('ENOENT');
    });
    expect(r.source).toBe('maxRSS');
    expect(r.mb).toBeCloseTo(process.resourceUsage().maxRSS / 1024, 0);
  });

  it('reads this process on Linux', () => {
    if (process.platform !== 'linux') return;
    const r = peakRss();
    expect(r.source).toBe('VmHWM');
    expect(r.mb).toBeGreaterThan(10);
  });
});

describe('parseMarkedLine', () => {
  it('returns the JSON of the last marked line, ignoring other output', () => {
    const out = 'log line\nRESULT {"a":1}\nmore\nRESULT {"a":2}\n';
    expect(parseMarkedLine<{ a: number }>(out, 'RESULT ')).toEqual({ a: 2 });
  });

  it('is undefined when no line carries the marker', () => {
    expect(parseMarkedLine('nothing here\n', 'RESULT ')).toBeUndefined();
  });
});

describe('lastMeaningfulLine', () => {
  it('skips TensorFlow banners and stack frames', () => {
    const err = 'Error: backend failed\n    at foo (x.js:1)\nI tensorflow/core/util/port.cc oneDNN custom operations are on\n';
    expect(lastMeaningfulLine(err)).toBe('Error: backend failed');
  });
});
