/**
 * TensorBoard event files: the writer's CRC32C against the standard check value, then scalars
 * and an image written and read back by an independent reader defined here (TFRecord framing,
 * masked CRC32C computed bit by bit, Event/Summary decoded with protobufjs from
 * test/fixtures/tensorboard/event.proto). When Python's tensorboard is importable, real
 * TensorBoard's `--inspect` must list the same tags and step counts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import sharp from 'sharp';
import type { TrainerHandle } from '../../pipeline/train/callbacks';
import { crc32c, EventFileWriter, maskedCrc32c, TensorBoardWriter } from '../../pipeline/train/tensorboard';
import { encodePng } from '../../src/images/png';
import { tmpDir } from '../helpers/tmp';

// ---- the independent reader ----
function crc32cBitwise(data: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? ((crc >>> 1) ^ 0x82f63b78) >>> 0 : crc >>> 1;
  }
  return ~crc >>> 0;
}
const mask = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: Array<{ tag: string; simpleValue?: number; image?: { height: number; width: number; colorspace: number; png: Buffer } }>;
}

const protoRoot = protobuf.loadSync(path.join(__dirname, '..', 'fixtures', 'tensorboard', 'event.proto'));
const EventMsg = protoRoot.lookupType('tbtest.Event');

/** Reads every record, checking both masked CRCs; throws on a bad CRC or a torn record. */
function readEventFile(file: string): ReadEvent[] {
  const buf = fs.readFileSync(file);
  const out: ReadEvent[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 12 > buf.length) throw new Error(`torn header at ${off}`);
    const lenBytes = buf.subarray(off, off + 8);
    const len = Number(buf.readBigUInt64LE(off));
    if (buf.readUInt32LE(off + 8) !== mask(crc32cBitwise(lenBytes))) throw new Error(`bad length CRC at ${off}`);
    const data = buf.subarray(off + 12, off + 12 + len);
    if (data.length !== len || off + 16 + len > buf.length) throw new Error(`torn record at ${off}`);
    if (buf.readUInt32LE(off + 12 + len) !== mask(crc32cBitwise(data))) throw new Error(`bad data CRC at ${off}`);
    const e = EventMsg.toObject(EventMsg.decode(data), { longs: Number, bytes: Buffer }) as {
      wallTime?: number; step?: number; fileVersion?: string;
      summary?: { value?: Array<{ tag: string; simpleValue?: number; image?: { height: number; width: number; colorspace: number; encodedImageString: Buffer } }> };
    };
    out.push({
      wallTime: e.wallTime ?? 0,
      step: e.step ?? 0,
      fileVersion: e.fileVersion,
      values: (e.summary?.value ?? []).map((v) => ({
        tag: v.tag,
        simpleValue: v.simpleValue,
        image: v.image && { height: v.image.height, width: v.image.width, colorspace: v.image.colorspace, png: v.image.encodedImageString },
      })),
    });
    off += 16 + len;
  }
  return out;
}

const eventFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.')).map((f) => path.join(dir, f));

/** A trainer handle with just what TensorBoardWriter reads. */
function fakeTrainer(globalStep: number, resumedAtStep: number | null): TrainerHandle {
  return { globalStep, resumedAtStep } as unknown as TrainerHandle;
}

describe('CRC32C', () => {
  it('matches the standard check value and a bitwise implementation', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
    expect(crc32c(data)).toBe(crc32cBitwise(data));
    expect(maskedCrc32c(data)).toBe(mask(crc32cBitwise(data)));
  });
});

describe('EventFileWriter', () => {
  it('writes scalars and a PNG image that an independent reader parses back', async () => {
    const dir = tmpDir();
    const w = new EventFileWriter(dir);
    const values = [0.5, 0.25, 0.125, 1 / 3, 1e-7];
    values.forEach((v, i) => w.scalar('train/loss', v, i + 1, 1000 + i));
    const img = Float32Array.from({ length: 12 * 10 * 3 }, (_, i) => (i % 7) / 7);
    const png = await encodePng(img, 10, 12, 3);
    w.image('val/grid', png, 10, 12, 3, 5, 2000);
    w.close();

    const [file] = eventFiles(dir);
    expect(path.basename(file)).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = readEventFile(file);
    expect(events[0].fileVersion).toBe('brain.Event:2');
    const scalars = events.filter((e) => e.values[0]?.simpleValue !== undefined);
    expect(scalars.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    expect(scalars.map((e) => e.values[0].tag)).toEqual(Array(5).fill('train/loss'));
    expect(scalars.map((e) => e.values[0].simpleValue)).toEqual(values.map((v) => Math.fround(v)));
    expect(scalars.map((e) => e.wallTime)).toEqual([1000, 1001, 1002, 1003, 1004]);
    const image = events.find((e) => e.values[0]?.image)!;
    expect(image.step).toBe(5);
    expect(image.values[0]).toMatchObject({ tag: 'val/grid', image: { height: 12, width: 10, colorspace: 3 } });
    const meta = await sharp(image.values[0].image!.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 10, 12]);

    // The reader really checks CRCs: one flipped payload byte is reported.
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => readEventFile(file)).toThrow(/bad data CRC/);
  });
});

describe('TensorBoardWriter callback', () => {
  it('logs batch and epoch scalars at the global step, and a resume drops the steps after the checkpoint', async () => {
    const dir = tmpDir();
    const run = async (from: number, to: number, resumedAt: number | null) => {
      const t = fakeTrainer(from, resumedAt);
      const cb = new TensorBoardWriter(dir, 2);
      cb.setTrainer(t);
      await cb.onTrainBegin({});
      for (let s = from + 1; s <= to; s++) {
        t.globalStep = s;
        await cb.onBatchEnd(s - 1, { loss: 1 / s, lr: 0.1 });
        if (s % 4 === 0) await cb.onEpochEnd(s / 4 - 1, { loss: 1 / s, val_loss: 2 / s, val_psnr: 10 + s, lr: 0.1, samples_per_second: 100 });
      }
      await cb.close();
    };
    await run(0, 6, null); // "crashes" after step 6
    await run(4, 8, 4); // resumed from the checkpoint at step 4
    const files = eventFiles(dir);
    expect(files).toHaveLength(1);
    const events = readEventFile(files[0]);
    const steps = (tag: string) => events.filter((e) => e.values[0]?.tag === tag).map((e) => e.step);
    expect(steps('train/batch_loss')).toEqual([2, 4, 6, 8]);
    expect(steps('train/loss')).toEqual([4, 8]);
    expect(steps('val/psnr')).toEqual([4, 8]);
    expect(steps('val/loss')).toEqual([4, 8]);
  });
});

const hasTensorBoard = spawnSync('python3', ['-c', 'import tensorboard'], { encoding: 'utf8' }).status === 0;
if (!hasTensorBoard) process.stderr.write("skipping real TensorBoard check: python3 -c 'import tensorboard' failed (pip install tensorboard)\n");

(hasTensorBoard ? describe : describe.skip)('real TensorBoard --inspect', () => {
  it('lists the tags and step counts that were written', async () => {
    const logdir = tmpDir();
    const w = new EventFileWriter(path.join(logdir, 'train'));
    for (let s = 1; s <= 7; s++) w.scalar('train/loss', 1 / s, s);
    for (let s = 1; s <= 7; s++) w.scalar('val/psnr', 20 + s, s);
    const png = await encodePng(new Float32Array(16 * 16), 16, 16, 1);
    w.image('val/grid', png, 16, 16, 1, 3);
    w.image('val/grid', png, 16, 16, 1, 7);
    w.close();
    const r = spawnSync('python3', ['-m', 'tensorboard.main', '--inspect', '--logdir', logdir], { encoding: 'utf8', timeout: 120000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status).toBe(0);
    // A record with a bad CRC is skipped silently (exit code 0): check tags and step counts.
    for (const tag of ['train/loss', 'val/psnr', 'val/grid']) expect(out).toContain(tag);
    const section = (kind: string) => {
      const m = new RegExp(`\\n${kind}\\n\\s+first_step\\s+(\\d+)\\n\\s+last_step\\s+(\\d+)\\n\\s+max_step\\s+(\\d+)\\n\\s+min_step\\s+(\\d+)\\n\\s+num_steps\\s+(\\d+)`).exec(out);
      return m ? { first: Number(m[1]), last: Number(m[2]), steps: Number(m[5]) } : undefined;
    };
    expect(section('scalars')).toEqual({ first: 1, last: 7, steps: 7 });
    expect(section('images')).toEqual({ first: 3, last: 7, steps: 2 });
  }, 120000);
});
