/**
 * Typed errors for onnxtune. Every user-facing failure is one of these classes, so the
 * CLI can print a one-line message (no stack unless --verbose) and choose the exit code:
 * 2 for usage/config/input problems found before any work, 1 for failures while working.
 */

/** Base class: `code` is a stable machine-readable identifier. */
export class OnnxtuneError extends Error {
  readonly code: string;
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A job file (or --set override) does not match the schema. */
export class ConfigError extends OnnxtuneError {
  override readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly path: string,
    readonly problem: string,
    readonly location?: { line: number; col: number },
  ) {
    const where = location ? `${file}:${location.line}:${location.col}` : file;
    super('E_CONFIG', `${where} ${path ? path + ': ' : ''}${problem}`);
  }
}

/** The command line itself is wrong (unknown option, missing argument). */
export class UsageError extends OnnxtuneError {
  override readonly exitCode = 2;
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/** A file the user gave (model, image, data) is missing, unreadable or malformed. */
export class InputError extends OnnxtuneError {
  override readonly exitCode = 2;
  constructor(readonly file: string, readonly reason: string, options?: { cause?: unknown }) {
    super('E_INPUT', `${file}: ${reason}`, options);
  }
}

/** An ONNX op (or tfjs layer) that a converter cannot map. */
export class UnsupportedOpError extends OnnxtuneError {
  constructor(
    readonly opType: string,
    readonly where: string,
    readonly supported: readonly string[],
    readonly hint = '',
  ) {
    super(
      'E_UNSUPPORTED_OP',
      `Unsupported ${opType} at '${where}'. Supported: ${supported.join(', ')}.${hint ? ' ' + hint : ''}`,
    );
  }
}

/** No runtime could be loaded for the requested device; `attempts` lists each `[name] reason`. */
export class BackendUnavailableError extends OnnxtuneError {
  constructor(readonly runtime: string, readonly attempts: ReadonlyArray<{ name: string; reason: string }>) {
    super(
      'E_BACKEND',
      `No ${runtime} backend could be loaded: ` + attempts.map((a) => `[${a.name}] ${a.reason}`).join('; '),
    );
  }
}

/** A stage failed while running; the cause is kept. */
export class StageError extends OnnxtuneError {
  constructor(readonly stage: string, message: string, options?: { cause?: unknown }) {
    super('E_STAGE', `stage ${stage} failed: ${message}`, options);
  }
}

/** Two runtimes disagree by more than the tolerance. */
export class ParityError extends OnnxtuneError {
  constructor(readonly metric: string, readonly value: number, readonly threshold: number) {
    super('E_PARITY', `${metric} = ${value.toExponential(3)} exceeds the tolerance ${threshold.toExponential(1)}`);
  }
}

/** Training diverged or collapsed. */
export class TrainingError extends OnnxtuneError {
  constructor(message: string) {
    super('E_TRAINING', message);
  }
}

/** Exit code for any thrown value: typed errors carry theirs, anything else is an internal failure (1). */
export function exitCodeOf(err: unknown): number {
  return err instanceof OnnxtuneError ? err.exitCode : 1;
}
