#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled to dist/ by `npm run build`. Commands that run models through
// native runtimes go through a supervisor (dist/src/cli/supervisor.js) that turns a native crash into
// a message and one retry on wasm; it loads only node: modules, so the parent stays small.
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
supervisor
  .launch(process.argv.slice(2), __filename, () => require('../dist/src/cli/main.js').main)
  .then((code) => { process.exitCode = code; });
