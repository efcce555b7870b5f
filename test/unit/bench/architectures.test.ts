/** bench/architectures.ts formatting: one cell per outcome, a markdown row per architecture × opset. */
import { ARCH_TOLERANCE, formatArchitecturesTable, formatOutcome, type ArchitectureRow } from '../../../bench/architectures';

describe('architectures bench table', () => {
  test('cells: pass/fail against the tolerance, unsupported ops, errors, missing', () => {
    expect(formatOutcome({ opset: 17, status: 'ok', maxAbsDiff: 3.1e-7, seconds: 1 })).toBe('3.1e-7 ✓');
    expect(formatOutcome({ opset: 17, status: 'ok', maxAbsDiff: ARCH_TOLERANCE * 2, seconds: 1 })).toBe('2.0e-4 ✗');
    expect(formatOutcome({ opset: 9, status: 'unsupported', detail: 'LRN, Sum', seconds: 1 })).toBe('unsupported: LRN, Sum');
    expect(formatOutcome({ opset: 9, status: 'error', detail: 'process failed: killed by SIGFPE | x', seconds: 1 })).toBe('error: process failed: killed by SIGFPE / x');
    expect(formatOutcome(undefined)).toBe('-');
  });

  test('one row per architecture × opset, one column per backend', () => {
    const rows: ArchitectureRow[] = [
      { arch: 'vgg19', opset: 9, backends: { tensorflow: { opset: 9, status: 'ok', maxAbsDiff: 2.6e-8, seconds: 1 } } },
      { arch: 'googlenet', opset: 9, backends: { wasm: { opset: 9, status: 'unsupported', detail: 'LRN', seconds: 1 } } },
    ];
    expect(formatArchitecturesTable(rows, ['tensorflow', 'wasm']).split('\n')).toEqual([
      '| architecture | opset | native max abs diff | wasm max abs diff |',
      '|---|---|---|---|',
      '| vgg19 | 9 | 2.6e-8 ✓ | - |',
      '| googlenet | 9 | - | unsupported: LRN |',
    ]);
  });
});
