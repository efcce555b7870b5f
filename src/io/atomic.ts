/**
 * Crash-safe writes: every artifact goes to a temp file in the same folder, is fsynced,
 * then renamed over its final name, so a reader never sees a truncated file and an
 * interrupted write never destroys the previous version.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let counter = 0;
function tmpName(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.tmp-${path.basename(target)}-${process.pid}-${counter}`);
}

/** Writes `data` to `file` atomically (temp file + fsync + rename), creating parent folders. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  writeChunksAtomic(file, [typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);
}

/**
 * A file written piece by piece into a temp file beside it: `commit()` fsyncs and renames it into place,
 * `abort()` removes it (the previous version, if any, stays untouched).
 */
export class AtomicWriter {
  private readonly tmp: string;
  private readonly fd: number;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = tmpName(file);
    this.fd = fs.openSync(this.tmp, 'w');
  }

  write(bytes: Uint8Array): void {
    // One write() moves at most ~2 GiB on Linux and may return short: loop until every byte is written.
    for (let off = 0; off < bytes.byteLength; ) off += fs.writeSync(this.fd, bytes, off, bytes.byteLength - off);
  }

  commit(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.file);
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed (commit got as far as closing)
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/**
 * Writes the concatenation of `chunks` to `file` atomically. Chunks are produced lazily, so a file
 * larger than one Buffer (4 GiB in Node 20) never exists in memory as a whole.
 */
export function writeChunksAtomic(file: string, chunks: Iterable<Uint8Array>): void {
  const out = new AtomicWriter(file);
  try {
    for (const bytes of chunks) out.write(bytes);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Reads and parses a JSON file. */
export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** fsyncs a directory so a rename inside it survives a power loss (best effort: not all filesystems allow it). */
export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  }
}
