/**
 * The Node edge of the logger: appends the log's lines to a file (the run directory's
 * `log.txt`) through src/log.ts's runtime-free line sinks.
 */
import * as fs from 'node:fs';
import { addLineSink } from '../log';

/**
 * Appends every line at debug level and above to `file`.
 * @returns a function that stops logging to the file and closes it
 */
export function addFileSink(file: string): () => void {
  const fd = fs.openSync(file, 'a');
  const remove = addLineSink((line) => fs.writeSync(fd, line));
  let open = true;
  return () => {
    remove();
    if (open) fs.closeSync(fd);
    open = false;
  };
}
