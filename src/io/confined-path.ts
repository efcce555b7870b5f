/**
 * Data files a model names beside itself (ONNX external tensors, TF.js weight files): a file is read only when it is
 * a relative path that stays inside the model's folder after resolving `..` and symlinks, and a plain file (a folder,
 * FIFO or device would fail or block on read). SECURITY.md: a model file is data, never a way to read elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Why a location was refused, or that it names nothing (`missing`). */
export type ConfinedFailure = { reason: string; missing: boolean };

/**
 * The real path of `location` inside `dir`.
 * @param fail builds the caller's error (its label and wording) from the reason; it must throw
 */
export function confinedFile(dir: string, location: string, fail: (f: ConfinedFailure) => never): string {
  const refuse = (reason: string): never => fail({ reason, missing: false });
  if (!location) refuse('empty location');
  if (location.includes('\0')) refuse('contains a NUL byte');
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
    refuse("absolute paths are not allowed; data files must sit in the model's folder");
  }
  const inside = (root: string, p: string) => {
    const rel = path.relative(root, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  const resolved = path.resolve(dir, location);
  if (!inside(dir, resolved)) refuse("it resolves outside the model's folder");
  let real: string;
  try {
    real = fs.realpathSync(resolved);
  } catch {
    return fail({ reason: 'not found next to the model', missing: true });
  }
  if (!inside(fs.realpathSync(dir), real)) refuse("it links to a file outside the model's folder");
  if (!fs.statSync(real).isFile()) refuse('it is not a regular file');
  return real;
}
