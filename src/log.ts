/**
 * The one leveled logger. Library code never writes to the console directly; the CLI sets
 * the level (--log-level / --verbose / ONNXTUNE_LOG_LEVEL) and may add line sinks (the run
 * directory's log file: src/io/log-file.ts). Runtime-free: in a browser or worker, where
 * there is no `process`, lines go nowhere until the page sets a console sink.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
export const LOG_LEVELS = Object.freeze(Object.keys(ORDER) as LogLevel[]);

type Sink = (level: LogLevel, line: string) => void;

/** Node's `process`, absent in browsers and workers. */
interface NodeProcessLike {
  env?: Record<string, string | undefined>;
  stderr?: { write(s: string): unknown };
}
const nodeProcess = (globalThis as { process?: NodeProcessLike }).process;
const envLevel = nodeProcess?.env?.ONNXTUNE_LOG_LEVEL as LogLevel | undefined;
let threshold: LogLevel = envLevel !== undefined && envLevel in ORDER ? envLevel : 'info';
const stderrSink: Sink = nodeProcess?.stderr ? (_level, line) => void nodeProcess.stderr?.write(line + '\n') : () => undefined;
let consoleSink: Sink = stderrSink;
/** A sink for every line at debug level and above, stamped (the run's log file). */
export type LineSink = (stampedLine: string) => void;
const lineSinks = new Set<LineSink>();
/** Line sinks whose last write failed (a full disk): skipped until removed, so logging never throws. */
const failedSinks = new Set<LineSink>();

/** Sets the console threshold. */
export function setLogLevel(level: LogLevel): void {
  if (!(level in ORDER)) throw new Error(`unknown log level '${level}', expected one of ${LOG_LEVELS.join(', ')}`);
  threshold = level;
}
export function getLogLevel(): LogLevel {
  return threshold;
}
/** Replaces the console sink (tests capture lines with it); returns a function that restores it. */
export function setConsoleSink(sink: Sink): () => void {
  const prev = consoleSink;
  consoleSink = sink;
  return () => {
    consoleSink = prev;
  };
}

/**
 * Sends every line at debug level and above, time-stamped, to `sink`; a sink that throws is
 * skipped from then on (with one warning). Returns a function that removes it.
 */
export function addLineSink(sink: LineSink): () => void {
  lineSinks.add(sink);
  return () => {
    failedSinks.delete(sink);
    lineSinks.delete(sink);
  };
}

function emit(level: LogLevel, msg: string): void {
  const line = level === 'info' ? msg : `${level}: ${msg}`;
  if (ORDER[level] >= ORDER[threshold]) consoleSink(level, line);
  if (lineSinks.size) {
    const stamped = `${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`;
    for (const sink of lineSinks) {
      if (failedSinks.has(sink)) continue;
      try {
        sink(stamped);
      } catch (err) {
        // A log line that cannot be written (disk full) must not turn into the run's failure: say so once.
        failedSinks.add(sink);
        consoleSink('warn', `warn: cannot write the log file (${(err as { code?: string }).code ?? String(err)}); logging to the console only`);
      }
    }
  }
}

export const log = Object.freeze({
  debug: (msg: string) => emit('debug', msg),
  info: (msg: string) => emit('info', msg),
  warn: (msg: string) => emit('warn', msg),
  error: (msg: string) => emit('error', msg),
  /** True when `level` would reach the console (for skipping costly message building). */
  enabled: (level: LogLevel) => ORDER[level] >= ORDER[threshold],
});

/** Maps our level to onnxruntime's logSeverityLevel (0 verbose … 4 fatal); ORT stays quiet unless debugging. */
export function ortSeverityLevel(): 0 | 1 | 2 | 3 | 4 {
  return threshold === 'debug' ? 2 : 3;
}
