/**
 * The model `onnxtune web` serves when none is given: the demo job (configs/mnist-dae.yaml)
 * shortened to one epoch on 2,000 digits (about 20 s on 2 CPU cores), trained once into
 * runs/web-default-model/ and reused afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJob } from '../../../pipeline/runner';
import { RUN_JOB_FILE } from '../../io/run-dir-report';
import { log } from '../../log';
import { PROJECT_ROOT } from '../../version';

export const DEFAULT_MODEL_JOB = path.join(PROJECT_ROOT, 'configs', 'mnist-dae.yaml');
export const DEFAULT_MODEL_OVERRIDES = Object.freeze(['train.epochs=1', 'data.limit=2000']);
export const DEFAULT_MODEL_DIR = path.join(PROJECT_ROOT, 'runs', 'web-default-model');

function exportedModel(runDir: string): string | undefined {
  const dir = path.join(runDir, 'export');
  if (!fs.existsSync(path.join(dir, 'DONE'))) return undefined;
  const onnx = fs.readdirSync(dir).find((f) => f.endsWith('.onnx'));
  return onnx ? path.join(dir, onnx) : undefined;
}

/**
 * The default model's path, training it first when it is not there yet.
 * @param runDir where the short demo run lives (default runs/web-default-model)
 */
export async function ensureDefaultModel(runDir = DEFAULT_MODEL_DIR): Promise<string> {
  const ready = exportedModel(runDir);
  if (ready) return ready;
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
