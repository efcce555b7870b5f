/**
 * `fit` as the CLI runs it (Node): checkpoints as files in a work folder (`DirCheckpointStore`)
 * and the terminal's progress bars. The loop itself is runtime-free (loop.ts); this is the edge
 * that gives it files and a terminal, for callers that train from a folder (the pretrain script,
 * the library API's `trainDecoder`).
 */
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../../src/backends/tf-types';
import type { TrainConfigInput } from '../../src/config/schema';
import type { Callback } from './callbacks';
import { DirCheckpointStore } from './checkpoint';
import { fit, type FitOptions, type TrainResult, type TrainSplit } from './loop';
import { terminalProgress } from './terminal-progress';

/**
 * {@link FitOptions} with checkpoints in `workDir` (a checkpoint already there is resumed) and
 * terminal progress bars; `over` adds or replaces fields.
 */
export function nodeFitOptions(seed: number, workDir: string, over: Partial<FitOptions> = {}): FitOptions {
  return { seed, checkpoints: new DirCheckpointStore(workDir), progress: terminalProgress, ...over };
}

/**
 * Trains a decoder (or any model) with the default callbacks; `workDir` holds checkpoints.
 * Kept for callers of the earlier API; {@link fit} takes extra callbacks.
 */
export function trainDecoder(
  tf: Tf, model: TfModule.LayersModel, train: TrainSplit, val: TrainSplit | null, cfg: TrainConfigInput, seed: number, workDir: string,
  callbacks: Callback[] = [],
): Promise<TrainResult> {
  return fit(tf, model, train, val, cfg, nodeFitOptions(seed, workDir, { callbacks }));
}
