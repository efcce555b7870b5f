/**
 * The stage contract (types only; no runtime imports). A stage is a typed module with a name,
 * a version, the stages it reads from, the slice of the job config that changes its output
 * (for the cache key) and a `run` that writes artifacts into `ctx.outDir`.
 */
import type { JobConfig } from '../src/config/schema';

export const STAGE_NAMES = Object.freeze(['data', 'encoder', 'featurize', 'train', 'evaluate', 'export', 'verify'] as const);
export type StageName = (typeof STAGE_NAMES)[number];

/** What a stage gets from the runner. */
export interface StageContext {
  job: JobConfig;
  /** The run directory (`runs/<job>-<timestamp>/`). */
  runDir: string;
  /** Where this stage writes its artifacts: a temp folder renamed into place when the stage succeeds. */
  outDir: string;
  /** Persistent scratch space that survives a crash (checkpoints of resumable stages). */
  workDir: string;
  /** Final artifact folders of the stages this one declared as inputs. */
  inputs: Readonly<Partial<Record<StageName, string>>>;
}

/** Key facts a stage reports; stored in its run.json and shown in the run summary. */
export type StageSummary = Record<string, unknown>;

export interface Stage {
  readonly name: StageName;
  /** Bump when the stage's output format or semantics change: it invalidates old results. */
  readonly version: number;
  readonly description: string;
  readonly inputs: readonly StageName[];
  /** The config values that change this stage's output (hashed into its key). */
  configSlice(job: JobConfig): unknown;
  /** Extra key material outside the config, e.g. the hash of an input file. */
  externalKey?(job: JobConfig): unknown;
  /** A resumable stage keeps `workDir` across crashes (e.g. training checkpoints). */
  readonly resumable?: boolean;
  run(ctx: StageContext): Promise<StageSummary>;
}

/** Provenance written to `<stage>/run.json`. */
export interface StageRecord {
  stage: StageName;
  version: number;
  key: string;
  parents: Record<string, string>;
  config: unknown;
  status: 'done' | 'failed';
  startedAt: string;
  wallSeconds: number;
  versions: Record<string, string>;
  summary: StageSummary;
  error?: string;
}
