/**
 * Test-only preload for the kill -9 tests: counts this process's file-system writes (open, write,
 * fsync, close, rename, mkdir, rm…) per pipeline stage and can SIGKILL the process right before
 * the Nth one, so a kill lands at an exact, seeded point: between a temp file's write and its
 * rename, between a stage folder's rename and its DONE marker, and so on.
 *
 *   ONNXTUNE_KILL_STAGE=train ONNXTUNE_KILL_AT_OP=17   kill before the 17th operation of stage train
 *                                                       (or before its DONE is renamed into place,
 *                                                       whichever comes first)
 *   ONNXTUNE_KILL_STAGE=startup                        count from process start to the first stage
 *   ONNXTUNE_COUNT_OPS=file.json                       write {counts, doneAt} per stage at exit
 *
 * A stage starts when the runner creates `<run>/.tmp-<stage>/`.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const KILL_STAGE = process.env.ONNXTUNE_KILL_STAGE || '';
const KILL_AT = Number(process.env.ONNXTUNE_KILL_AT_OP ?? -1);
const COUNT_FILE = process.env.ONNXTUNE_COUNT_OPS || '';
const OPS = [
  'openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync', 'mkdirSync', 'rmSync', 'rmdirSync', 'unlinkSync',
  'writeFileSync', 'appendFileSync', 'copyFileSync',
];

let stage = 'startup';
let n = 0;
const counts = {};
const doneAt = {};
const original = {};

for (const op of OPS) {
  original[op] = fs[op];
  fs[op] = function counted(...args) {
    if (op === 'mkdirSync' && typeof args[0] === 'string') {
      const m = /^\.tmp-([A-Za-z]+)$/.exec(path.basename(args[0]));
      if (m && m[1] !== stage) {
        stage = m[1];
        n = 0;
      }
    }
    const isDone = op === 'renameSync' && typeof args[1] === 'string' && args[1].endsWith(path.join(path.sep + stage, 'DONE'));
    if (stage === KILL_STAGE && KILL_AT >= 0 && (n === KILL_AT || isDone)) process.kill(process.pid, 'SIGKILL');
    if (isDone) doneAt[stage] = n;
    n += 1;
    counts[stage] = n;
    return original[op].apply(this, args);
  };
}

if (COUNT_FILE) {
  process.on('exit', () => original.writeFileSync(COUNT_FILE, JSON.stringify({ counts, doneAt })));
}
