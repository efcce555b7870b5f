/** The runtime-free version constant (src/version-number.ts) stays equal to package.json's. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers/jobs';
import { ONNXTUNE_VERSION } from '../../src/version-number';

it('src/version-number.ts matches package.json "version"', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(ONNXTUNE_VERSION).toBe(pkg.version);
});
