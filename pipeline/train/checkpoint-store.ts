/**
 * What a training checkpoint is and where it goes, runtime-free: the checkpoint (JSON state +
 * float arrays in named groups), its name (`ckpt-0003`, `ckpt-step-000120`) and the
 * `CheckpointStore` that `fit` saves to and resumes from. The files-in-a-folder store is Node's
 * (`checkpoint.ts`); `MemoryCheckpointStore` keeps the latest checkpoint in memory.
 */

export interface StoredArray {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointState {
  /** Last completed epoch (0-based; -1 before the first epoch ends). */
  epoch: number;
  /** Steps done in the epoch after `epoch` (0 at an epoch end). */
  stepInEpoch?: number;
  /** Steps done since the start of training. */
  globalStep?: number;
  [key: string]: unknown;
}

export interface Checkpoint<S extends CheckpointState = CheckpointState> {
  state: S;
  /** Tensors by position in named groups (tfjs variable names differ between processes). */
  groups: Record<string, StoredArray[]>;
}

/** Name of a checkpoint: `ckpt-0003` after epoch index 3, `ckpt-step-000120` mid-epoch. */
export function checkpointName(state: CheckpointState): string {
  return state.stepInEpoch ? `ckpt-step-${String(state.globalStep ?? 0).padStart(6, '0')}` : `ckpt-${String(state.epoch).padStart(4, '0')}`;
}

/**
 * Where `fit` keeps its checkpoints. Only the latest one matters: a save replaces it, and a
 * save that fails midway must leave the previous one loadable (the kill -9 + resume guarantee).
 */
export interface CheckpointStore {
  /** Where the checkpoints are, for messages (a folder, or 'memory'). */
  readonly location: string;
  /** The latest checkpoint, or null when there is none (a fresh start). */
  load(): Promise<Checkpoint | null>;
  /** Makes `ckpt` the latest checkpoint. */
  save(ckpt: Checkpoint): Promise<void>;
  /** The latest checkpoint's {@link checkpointName}, or undefined when there is none. */
  latest(): Promise<string | undefined>;
}

/**
 * The latest checkpoint in memory (runtime-free: a page, a worker, tests). Saved and loaded
 * checkpoints are copies, and the state goes through JSON as on disk, so resuming from it
 * behaves exactly like resuming from files.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly location = 'memory';
  private stored: { name: string; state: string; groups: Record<string, StoredArray[]> } | null = null;

  async load(): Promise<Checkpoint | null> {
    if (!this.stored) return null;
    return { state: JSON.parse(this.stored.state) as CheckpointState, groups: copyGroups(this.stored.groups) };
  }

  async save(ckpt: Checkpoint): Promise<void> {
    this.stored = { name: checkpointName(ckpt.state), state: JSON.stringify(ckpt.state), groups: copyGroups(ckpt.groups) };
  }

  async latest(): Promise<string | undefined> {
    return this.stored?.name;
  }
}

function copyGroups(groups: Record<string, StoredArray[]>): Record<string, StoredArray[]> {
  const out: Record<string, StoredArray[]> = {};
  for (const [g, arrays] of Object.entries(groups)) out[g] = arrays.map((a) => ({ shape: [...a.shape], data: a.data.slice() }));
  return out;
}
