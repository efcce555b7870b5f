/**
 * The model `onnxtune web` serves when none is given: the demo job (configs/mnist-dae.yaml)
 * shortened to one epoch on 2,000 digits (about 20 s on 2 CPU cores), trained once into
 * runs/web-default-model/ (or the user cache where the package folder is read-only) and reused afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../../pipeline/runner';
import { RUN_JOB_FILE } from '../../io/run-dir-report';
import { log } from '../../log';
import { PROJECT_ROOT } from '../../version';
import { packageOrCacheDirs } from './assets';

export const DEFAULT_MODEL_JOB = path.join(PROJECT_ROOT, 'configs', 'mnist-dae.yaml');
export const DEFAULT_MODEL_OVERRIDES = Object.freeze(['train.epochs=1', 'data.limit=2000']);
export const DEFAULT_MODEL_DIR = path.join(PROJECT_ROOT, 'runs', 'web-default-model');
/** Where the default model is looked for and trained: runs/web-default-model, or the user cache where the package is read-only. */
export const defaultModelDirs = (): string[] => packageOrCacheDirs(DEFAULT_MODEL_DIR, 'web-default-model');

function exportedModel(runDir: string): string | undefined {
  const dir = path.join(runDir, 'export');
  if (!fs.existsSync(path.join(dir, 'DONE'))) return undefined;
  const onnx = fs.readdirSync(dir).find((f) => f.endsWith('.onnx'));
  return onnx ? path.join(dir, onnx) : undefined;
}

/**
 * The default model's path, training it first when it is not there yet.
 * @param runDir where the short demo run lives (default: runs/web-default-model, or the user cache where the
 *   package folder is read-only; a model already in either is used)
 */
export async function ensureDefaultModel(runDir?: string): Promise<string> {
  const dirs = runDir ? [runDir] : defaultModelDirs();
  for (const dir of dirs) {
    const ready = exportedModel(dir);
    if (ready) return ready;
  }
  return trainDefaultModel(dirs[0]);
}

async function trainDefaultModel(runDir: string): Promise<string> {
  log.info(`No model given: training the default demo model (${path.basename(DEFAULT_MODEL_JOB)}, ${DEFAULT_MODEL_OVERRIDES.join(', ')}) into ${runDir}`);
  const resume = fs.existsSync(path.join(runDir, RUN_JOB_FILE));
  await runJob(
    resume
      ? { resume: runDir, until: 'export' }
      : { jobFile: DEFAULT_MODEL_JOB, overrides: [...DEFAULT_MODEL_OVERRIDES], outDir: runDir, until: 'export' },
  );
  const file = exportedModel(runDir);
  if (!file) throw new Error(`the default model run in ${runDir} finished without an exported model`);
  return file;
}
