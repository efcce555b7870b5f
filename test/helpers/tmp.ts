/** Temporary folders for tests, removed after the test file. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'onnxtune-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes a small file at `root/rel` (folders made) with the given mtime in seconds; returns its path. */
export function putFileWithMtime(root: string, rel: string, mtime: number): string {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, 'x');
  fs.utimesSync(f, mtime, mtime);
  return f;
}
