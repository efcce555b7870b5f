/**
 * Training checkpoints as files in a work folder (Node): `ckpt-<epoch>/` at an epoch end or
 * `ckpt-step-<global step>/` mid-epoch, each `{state.json, tensors.bin}`, plus a `latest` pointer
 * written last (atomic rename), so a crash at any moment leaves the previous checkpoint intact.
 * Tensors are stored by position in named groups (model weights, optimizer slots, callback
 * arrays such as best weights), since tfjs variable names get suffixes that differ between processes.
 * `DirCheckpointStore` is the `CheckpointStore` (checkpoint-store.ts) that the CLI passes to `fit`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir, readJson, writeFileAtomic, writeJsonAtomic } from '../../src/io/atomic';
import { checkpointName, type Checkpoint, type CheckpointState, type CheckpointStore, type StoredArray } from './checkpoint-store';

/** The folder `latest` points to, or undefined. */
export function latestCheckpoint(dir: string): string | undefined {
  const pointer = path.join(dir, 'latest');
  return fs.existsSync(pointer) ? fs.readFileSync(pointer, 'utf8').trim() : undefined;
}

interface Layout {
  groups: Record<string, number[][]>;
}

/** Writes a checkpoint (named by {@link checkpointName}), points `latest` at it and prunes older ones. */
export function saveCheckpoint<S extends CheckpointState>(dir: string, ckpt: Checkpoint<S>): void {
  const name = checkpointName(ckpt.state);
  const target = path.join(dir, name);
  fs.rmSync(target, { recursive: true, force: true });
  const layout: Layout = { groups: {} };
  const parts: Uint8Array[] = [];
  for (const [g, arrays] of Object.entries(ckpt.groups)) {
    layout.groups[g] = arrays.map((a) => a.shape);
    for (const a of arrays) parts.push(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  }
  writeFileAtomic(path.join(target, 'tensors.bin'), Buffer.concat(parts));
  writeJsonAtomic(path.join(target, 'state.json'), { ...ckpt.state, layout });
  fsyncDir(target);
  writeFileAtomic(path.join(dir, 'latest'), name + '\n');
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('ckpt-') && entry !== name) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** Reads the checkpoint `latest` points to, or undefined when there is none. */
export function loadCheckpoint<S extends CheckpointState>(dir: string): Checkpoint<S> | undefined {
  const name = latestCheckpoint(dir);
  if (!name) return undefined;
  const target = path.join(dir, name);
  const raw = readJson<S & { layout: Layout }>(path.join(target, 'state.json'));
  const bin = fs.readFileSync(path.join(target, 'tensors.bin'));
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let off = 0;
  const groups: Record<string, StoredArray[]> = {};
  for (const [g, shapes] of Object.entries(raw.layout.groups)) {
    groups[g] = shapes.map((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = all.slice(off, off + n);
      off += n;
      return { shape, data };
    });
  }
  if (off !== all.length) throw new Error(`checkpoint ${target} is inconsistent: ${all.length} values, layout needs ${off}`);
  const { layout: _layout, ...state } = raw;
  return { state: state as unknown as S, groups };
}

/** Checkpoints as files in `dir` (created on the first save); a checkpoint already there is resumed. */
export class DirCheckpointStore implements CheckpointStore {
  constructor(readonly location: string) {}

  async load(): Promise<Checkpoint | null> {
    return loadCheckpoint(this.location) ?? null;
  }

  async save(ckpt: Checkpoint): Promise<void> {
    saveCheckpoint(this.location, ckpt);
  }

  async latest(): Promise<string | undefined> {
    return latestCheckpoint(this.location);
  }
}
