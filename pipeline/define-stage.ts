/** defineStage(): checks a stage definition once, at module load, so mistakes fail fast. */
import { STAGE_NAMES, type Stage } from './types';

export function defineStage(stage: Stage): Stage {
  if (!STAGE_NAMES.includes(stage.name)) throw new Error(`unknown stage name '${stage.name}'`);
  for (const input of stage.inputs) {
    if (!STAGE_NAMES.includes(input)) throw new Error(`stage ${stage.name}: unknown input stage '${input}'`);
    if (STAGE_NAMES.indexOf(input) >= STAGE_NAMES.indexOf(stage.name)) {
      throw new Error(`stage ${stage.name}: input '${input}' must come earlier in the pipeline`);
    }
  }
  if (!Number.isInteger(stage.version) || stage.version < 1) throw new Error(`stage ${stage.name}: version must be ≥ 1`);
  return Object.freeze(stage);
}
