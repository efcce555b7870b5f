/** The CLI's only stdout writer: human-readable text by default, JSON with --json. */

let jsonMode = false;

export function setJsonOutput(on: boolean): void {
  jsonMode = on;
}

/** Prints a result: `text` for people, `data` for --json. */
export function printResult(text: string, data: unknown): void {
  process.stdout.write(jsonMode ? JSON.stringify(data, null, 2) + '\n' : text.endsWith('\n') ? text : text + '\n');
}

/** Prints a one-line error on stderr (with the stack when verbose). */
export function printError(err: unknown, verbose: boolean): void {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`onnxtune: error: ${msg}\n`);
  if (verbose && err instanceof Error && err.stack) {
    process.stderr.write(err.stack + '\n');
    let cause = (err as { cause?: unknown }).cause;
    while (cause instanceof Error) {
      process.stderr.write(`caused by: ${cause.stack ?? cause.message}\n`);
      cause = (cause as { cause?: unknown }).cause;
    }
  }
}

/** Formats rows as an aligned plain-text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
