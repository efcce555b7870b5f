/**
 * A tiny require hook so tests can run the CLI's TypeScript sources in a child process (or a
 * worker thread) without `npm run build`:
 *   node -r ./test/helpers/ts-register.js test/helpers/cli-entry.ts run job.yaml
 * Each .ts file is transpiled (no type check) to CommonJS with the project's options; the output
 * is cached in the OS temp folder by content hash, since the kill tests start the CLI many times.
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ts = require('typescript');

const compilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  esModuleInterop: true,
  resolveJsonModule: true,
  inlineSourceMap: true,
};
const cacheDir = path.join(os.tmpdir(), `onnxtune-ts-cache-${ts.version}`);

function transpile(source, filename) {
  const hash = crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex').slice(0, 32);
  const cached = path.join(cacheDir, `${hash}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(tmp, outputText);
    fs.renameSync(tmp, cached); // atomic: concurrent processes never read a half-written entry
  } catch {
    // a read-only temp folder only costs speed
  }
  return outputText;
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
