/**
 * The one leveled logger. Library code never writes to the console directly; the CLI sets
 * the level (--log-level / --verbose / ONNXTUNE_LOG_LEVEL) and may add a file sink for the
 * run directory's log.
 */
import * as fs from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
export const LOG_LEVELS = Object.freeze(Object.keys(ORDER) as LogLevel[]);

type Sink = (level: LogLevel, line: string) => void;

let threshold: LogLevel = (process.env.ONNXTUNE_LOG_LEVEL as LogLevel) in ORDER
  ? (process.env.ONNXTUNE_LOG_LEVEL as LogLevel)
  : 'info';
const stderrSink: Sink = (_level, line) => process.stderr.write(line + '\n');
let consoleSink: Sink = stderrSink;
const fileSinks = new Set<number>();
/** File sinks whose last write failed (a full disk): skipped until closed, so logging never throws. */
const failedSinks = new Set<number>();

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

/** Appends every line at debug level and above to `file`; returns a function that closes it. */
export function addFileSink(file: string): () => void {
  const fd = fs.openSync(file, 'a');
  fileSinks.add(fd);
  return () => {
    failedSinks.delete(fd);
    if (fileSinks.delete(fd)) fs.closeSync(fd);
  };
}

function emit(level: LogLevel, msg: string): void {
  const line = level === 'info' ? msg : `${level}: ${msg}`;
  if (ORDER[level] >= ORDER[threshold]) consoleSink(level, line);
  if (fileSinks.size) {
    const stamped = `${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`;
    for (const fd of fileSinks) {
      if (failedSinks.has(fd)) continue;
      try {
        fs.writeSync(fd, stamped);
      } catch (err) {
        // A log line that cannot be written (disk full) must not turn into the run's failure: say so once.
        failedSinks.add(fd);
        consoleSink('warn', `warn: cannot write the log file (${(err as NodeJS.ErrnoException).code ?? String(err)}); logging to the console only`);
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
