/**
 * The page's TypeScript (web/src, DOM types) is outside the root tsconfig, and esbuild strips
 * types without checking them: this runs the compiler on web/tsconfig.json so `npm test` catches
 * type errors in the page too.
 */
import * as path from 'node:path';
import ts from 'typescript';
import { ROOT } from '../helpers/jobs';

it('web/tsconfig.json type-checks (strict, DOM)', () => {
  const configFile = path.join(ROOT, 'web', 'tsconfig.json');
  const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
  expect(read.error).toBeUndefined();
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configFile));
  expect(parsed.errors).toEqual([]);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const file = d.file ? `${path.relative(ROOT, d.file.fileName)}:${(where?.line ?? 0) + 1}:${(where?.character ?? 0) + 1} ` : '';
    return `${file}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  expect(problems).toEqual([]);
});
