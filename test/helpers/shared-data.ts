/**
 * Tests on shared data (`../shared/…` next to the project, or $ONNXTUNE_SHARED_DIR): large ONNX
 * fixtures and datasets that are not committed. `describeIfShared` runs its block when every
 * file it needs exists and otherwise skips it, saying which path is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where shared data lives: $ONNXTUNE_SHARED_DIR, else the `shared` folder beside the project. */
export const SHARED_DIR = process.env.ONNXTUNE_SHARED_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared');

/** Absolute path of a file under {@link SHARED_DIR}, e.g. `sharedPath('models/resnet20_cifar10.onnx')`. */
export function sharedPath(relative: string): string {
  return path.join(SHARED_DIR, relative);
}

/**
 * `describe(name, fn)` when every `needs` path (relative to {@link SHARED_DIR}) exists; otherwise the
 * block is skipped, its title and a stderr note naming the missing paths. `fn` must do its work in
 * hooks and tests, not while the block is being defined.
 */
export function describeIfShared(name: string, needs: readonly string[], fn: () => void): void {
  const missing = needs.map(sharedPath).filter((p) => !fs.existsSync(p));
  if (!missing.length) {
    describe(name, fn);
    return;
  }
  const why = `missing ${missing.join(', ')} (set ONNXTUNE_SHARED_DIR to the shared data folder)`;
  process.stderr.write(`skipping '${name}': ${why}\n`);
  describe.skip(`${name} [skipped: ${why}]`, fn);
}
