#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled to dist/ by `npm run build`. Commands that run models through
// native runtimes go through a supervisor (dist/src/cli/supervisor.js) that turns a native crash into
// a message and one retry on wasm; it loads no more than node: modules, so the parent stays small.
const args = process.argv.slice(2);
let supervisor;
try {
  supervisor = require('../dist/src/cli/supervisor.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('onnxtune: not built yet. Run `npm run build` first.\n');
    process.exit(2);
  }
  throw err;
}
const run = supervisor.shouldSupervise(args, process.env)
  ? supervisor.supervise(args, __filename)
  : require('../dist/src/cli/main.js').main(args);
run.then((code) => { process.exitCode = code; });
