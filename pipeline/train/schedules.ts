/**
 * Learning-rate schedules: a per-epoch base rate (none / step / exponential / cosine, or the
 * plateau state kept by the LrScheduler callback) times a linear warm-up factor per step.
 * Everything is a pure function of (epoch, global step, plateau factor), so a resumed run
 * recomputes exactly the rates the uninterrupted run used.
 */
import { SCHEDULE_NAMES, type TrainConfig } from '../../src/config/schema';

export type ScheduleConfig = TrainConfig['lr_schedule'];
export type ScheduleName = ScheduleConfig['type'];

/** What each schedule does, for docs and lookup errors. */
export const SCHEDULES: Readonly<Record<ScheduleName, string>> = Object.freeze({
  none: 'constant lr',
  step: 'lr · gamma^floor(epoch / step_size)',
  exponential: 'lr · gamma^epoch',
  cosine: 'min_lr + (lr − min_lr)·(1 + cos(π·epoch/(epochs − 1)))/2',
  plateau: 'lr · gamma^k after k stalls of `patience` epochs, never below min_lr',
});
if (SCHEDULE_NAMES.some((n) => !(n in SCHEDULES))) throw new Error('SCHEDULES and SCHEDULE_NAMES differ');

/**
 * Base learning rate for `epoch` (0-based) of `epochs`, starting at `lr`.
 * @param plateauFactor the product of the plateau cuts so far ('plateau' only)
 */
export function lrAt(s: ScheduleConfig, lr: number, epoch: number, epochs: number, plateauFactor = 1): number {
  switch (s.type) {
    case 'step':
      return lr * s.gamma ** Math.floor(epoch / s.step_size);
    case 'exponential':
      return lr * s.gamma ** epoch;
    case 'cosine': {
      const t = epochs <= 1 ? 0 : epoch / (epochs - 1);
      return s.min_lr + 0.5 * (lr - s.min_lr) * (1 + Math.cos(Math.PI * t));
    }
    case 'plateau':
      return Math.max(s.min_lr, lr * plateauFactor);
    default:
      return lr;
  }
}

/** Linear warm-up factor for global step `step` (0-based): (step + 1)/N for the first N steps, then 1. */
export function warmupFactor(s: Pick<ScheduleConfig, 'warmup_steps'>, step: number): number {
  return s.warmup_steps > 0 && step < s.warmup_steps ? (step + 1) / s.warmup_steps : 1;
}
