/**
 * TensorBoard event files written by the project itself (no libtensorflow): TFRecord framing
 * (uint64 length, masked CRC32C of the length, data, masked CRC32C of the data) around
 * `tensorflow.Event` protobufs encoded with protobufjs from the few message definitions below
 * (scalar `simple_value` and PNG `image` summaries, the legacy forms TensorBoard still reads).
 * `TensorBoardWriter` is a training callback; a resumed run rewrites the log without the
 * records after its checkpoint, so the curves have no duplicated steps.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { Callback, type Logs } from './callbacks';

/** The subset of tensorflow/core/util/event.proto and framework/summary.proto the writer needs. */
const EVENT_PROTO = `
syntax = "proto3";
package tensorflow;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string tag = 1;
    oneof value {
      float simple_value = 2;
      Image image = 4;
    }
  }
  repeated Value value = 1;
}
`;

const root = protobuf.parse(EVENT_PROTO, { keepCase: true }).root;
const EventType = root.lookupType('tensorflow.Event');

// ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven ----
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C of `data` (check value: crc32c("123456789") = 0xE3069283). */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits and add a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length (uint64 LE), masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Splits a TFRecord file into record payloads, stopping at the first torn or corrupt record. */
export function readTfRecords(buf: Uint8Array): Uint8Array[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off + 12 <= b.length) {
    const len = Number(b.readBigUInt64LE(off));
    if (b.readUInt32LE(off + 8) !== maskedCrc32c(b.subarray(off, off + 8))) break;
    if (off + 12 + len + 4 > b.length) break;
    const data = b.subarray(off + 12, off + 12 + len);
    if (b.readUInt32LE(off + 12 + len) !== maskedCrc32c(data)) break;
    out.push(data);
    off += 12 + len + 4;
  }
  return out;
}

/** A summary value to write. */
export type SummaryValue =
  | { tag: string; simple_value: number }
  | { tag: string; image: { height: number; width: number; colorspace: number; encoded_image_string: Uint8Array } };

/** Encodes one Event protobuf. */
export function encodeEvent(e: { wall_time: number; step: number; file_version?: string; summary?: { value: SummaryValue[] } }): Uint8Array {
  return EventType.encode(EventType.fromObject(e)).finish();
}

/** Decodes one Event (steps as numbers). */
export function decodeEvent(data: Uint8Array): { wall_time: number; step: number; file_version?: string; summary?: { value: SummaryValue[] } } {
  const obj = EventType.toObject(EventType.decode(data), { longs: Number, defaults: true }) as {
    wall_time: number; step: number; file_version?: string; summary?: { value: SummaryValue[] };
  };
  return obj;
}

let fileCounter = 0;

/** An `events.out.tfevents.<time>.<host>.<pid>.<n>` file: appends records, fsyncs on flush. */
export class EventFileWriter {
  readonly file: string;
  private fd: number;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const now = Date.now() / 1000;
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${os.hostname()}.${process.pid}.${fileCounter++}`);
    this.fd = fs.openSync(this.file, 'a');
    this.append(encodeEvent({ wall_time: now, step: 0, file_version: 'brain.Event:2' }));
  }

  /** Appends an already encoded Event. */
  append(event: Uint8Array): void {
    fs.writeSync(this.fd, tfRecord(event));
  }

  scalar(tag: string, value: number, step: number, wallTime = Date.now() / 1000): void {
    this.append(encodeEvent({ wall_time: wallTime, step, summary: { value: [{ tag, simple_value: value }] } }));
  }

  /** A PNG image summary (colorspace 1 gray, 3 RGB). */
  image(tag: string, png: Uint8Array, width: number, height: number, channels: number, step: number, wallTime = Date.now() / 1000): void {
    const image = { height, width, colorspace: channels, encoded_image_string: png };
    this.append(encodeEvent({ wall_time: wallTime, step, summary: { value: [{ tag, image }] } }));
  }

  flush(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

/**
 * Rewrites the event files in `dir` into one new file keeping only summaries with step ≤ `step`
 * (a resumed run repeats the steps after its checkpoint), then removes the old files.
 * @returns the writer of the new file, positioned to append
 */
export function truncatedWriter(dir: string, step: number): EventFileWriter {
  const old = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.includes('tfevents')).sort() : [];
  const kept: Uint8Array[] = [];
  for (const f of old) {
    for (const rec of readTfRecords(fs.readFileSync(path.join(dir, f)))) {
      const e = decodeEvent(rec);
      if (e.summary && e.step <= step) kept.push(rec);
    }
  }
  const w = new EventFileWriter(dir);
  for (const rec of kept) w.append(rec);
  w.flush();
  for (const f of old) fs.rmSync(path.join(dir, f), { force: true });
  return w;
}

/**
 * Callback writing scalars at the global step: `train/batch_loss` every `every` steps, and at
 * each epoch end `train/loss`, `val/loss`, `val/psnr`, `train/lr`, `train/samples_per_second`.
 * Other callbacks (ImageGrid) add images through {@link TensorBoardWriter.image}.
 */
export class TensorBoardWriter extends Callback {
  private writer: EventFileWriter | undefined;

  constructor(readonly dir: string, readonly every = 10) {
    super();
  }

  override async onTrainBegin(_logs: Logs = {}): Promise<void> {
    const at = this.trainer.resumedAtStep;
    if (at === null) {
      // A fresh start: earlier files in this folder belong to a run that is being redone.
      if (fs.existsSync(this.dir)) for (const f of fs.readdirSync(this.dir)) if (f.includes('tfevents')) fs.rmSync(path.join(this.dir, f));
      this.writer = new EventFileWriter(this.dir);
    } else {
      this.writer = truncatedWriter(this.dir, at);
    }
  }

  override async onBatchEnd(_step: number, logs: Logs): Promise<void> {
    const t = this.trainer;
    if (this.writer && t.globalStep % this.every === 0 && typeof logs.loss === 'number') this.writer.scalar('train/batch_loss', logs.loss, t.globalStep);
  }

  override async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    const w = this.writer;
    if (!w) return;
    const step = this.trainer.globalStep;
    const tags: Array<[string, number | null | undefined]> = [
      ['train/loss', logs.loss], ['val/loss', logs.val_loss], ['val/psnr', logs.val_psnr], ['train/lr', logs.lr],
      ['train/samples_per_second', logs.samples_per_second],
    ];
    for (const [tag, v] of tags) if (typeof v === 'number' && Number.isFinite(v)) w.scalar(tag, v, step);
    w.flush();
  }

  /** Adds a PNG image summary at the current global step. */
  image(tag: string, png: Uint8Array, width: number, height: number, channels: number): void {
    this.writer?.image(tag, png, width, height, channels, this.trainer.globalStep);
  }

  override async close(): Promise<void> {
    this.writer?.close();
    this.writer = undefined;
  }
}
