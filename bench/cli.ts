/**
 * What the bench scripts' command lines share: an argv cursor that reads a flag's value (text or
 * a finite number) with one error wording, and where the shared data folder is.
 */
import * as path from 'node:path';
import { PROJECT_ROOT } from '../src/version';

/** Walks a bench script's argv: `next()` gives each flag (or positional), `value`/`number` the argument after it. */
export class ArgCursor {
  private i = 0;
  constructor(private readonly argv: readonly string[]) {}

  /** The next flag or positional; undefined at the end. */
  next(): string | undefined {
    return this.argv[this.i++];
  }

  /** The value after `flag`. @throws Error when there is none */
  value(flag: string): string {
    const v = this.argv[this.i++];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  }

  /** The value after `flag` as a finite number. @throws Error when missing or not a number */
  number(flag: string): number {
    const v = Number(this.value(flag));
    if (!Number.isFinite(v)) throw new Error(`${flag} needs a number`);
    return v;
  }
}

/** The shared data folder: $ONNXTUNE_SHARED_DIR, else `shared` beside the project. */
export function sharedDir(): string {
  return process.env.ONNXTUNE_SHARED_DIR ?? path.resolve(PROJECT_ROOT, '..', 'shared');
}
