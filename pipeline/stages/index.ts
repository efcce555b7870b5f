/** The ordered, explicit list of stages (no directory scanning) and lookup by name. */
import { STAGE_NAMES, type Stage, type StageName } from '../types';
import { dataStage } from './data';
import { encoderStage } from './encoder';
import { evaluateStage } from './evaluate';
import { exportStage } from './export';
import { featurizeStage } from './featurize';
import { trainStage } from './train';
import { verifyStage } from './verify';

export const STAGES: readonly Stage[] = Object.freeze([
  dataStage, encoderStage, featurizeStage, trainStage, evaluateStage, exportStage, verifyStage,
]);

const BY_NAME = new Map<string, Stage>();
for (const s of STAGES) {
  if (BY_NAME.has(s.name)) throw new Error(`stage '${s.name}' is registered twice`);
  BY_NAME.set(s.name, s);
}
if (STAGES.map((s) => s.name).join() !== STAGE_NAMES.join()) throw new Error('STAGES must follow STAGE_NAMES order');

/** @throws Error listing the valid names when `name` is unknown. */
export function getStage(name: string): Stage {
  const s = BY_NAME.get(name);
  if (!s) throw new Error(`unknown stage '${name}'; stages: ${STAGE_NAMES.join(', ')}`);
  return s;
}

export function isStageName(name: string): name is StageName {
  return BY_NAME.has(name);
}
