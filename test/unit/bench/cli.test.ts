/** The bench scripts' argv cursor and shared-folder rule. */
import * as path from 'node:path';
import { ArgCursor, sharedDir } from '../../../bench/cli';
import { PROJECT_ROOT } from '../../../src/version';

describe('ArgCursor', () => {
  it('walks flags and their values, numbers checked', () => {
    const args = new ArgCursor(['--seconds', '8', 'model.onnx', '--taps', 'a,b', '--keep']);
    const seen: Array<[string, unknown]> = [];
    for (let a = args.next(); a !== undefined; a = args.next()) {
      if (a === '--seconds') seen.push([a, args.number(a)]);
      else if (a === '--taps') seen.push([a, args.value(a)]);
      else seen.push([a, true]);
    }
    expect(seen).toEqual([['--seconds', 8], ['model.onnx', true], ['--taps', 'a,b'], ['--keep', true]]);
  });

  it('names the flag when its value is missing or not a number', () => {
    expect(() => new ArgCursor(['--batch', 'x']).number('--batch')).toThrow('--batch needs a number');
    const args = new ArgCursor(['--batch']);
    args.next();
    expect(() => args.number('--batch')).toThrow('--batch needs a value');
  });
});

describe('sharedDir', () => {
  const saved = process.env.ONNXTUNE_SHARED_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.ONNXTUNE_SHARED_DIR;
    else process.env.ONNXTUNE_SHARED_DIR = saved;
  });

  it('is $ONNXTUNE_SHARED_DIR when set, else ../shared beside the project', () => {
    process.env.ONNXTUNE_SHARED_DIR = '/data/shared';
    expect(sharedDir()).toBe('/data/shared');
    delete process.env.ONNXTUNE_SHARED_DIR;
    expect(sharedDir()).toBe(path.resolve(PROJECT_ROOT, '..', 'shared'));
  });
});
