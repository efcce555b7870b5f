/** Learning-rate schedules, evaluated per epoch (0-based). */
import type { JobConfig } from '../../src/config/schema';

export type ScheduleConfig = JobConfig['train']['lr_schedule'];

/** Learning rate for `epoch` of `epochs`, starting at `lr`. */
export function lrAt(s: ScheduleConfig, lr: number, epoch: number, epochs: number): number {
  switch (s.type) {
    case 'none':
      return lr;
    case 'step':
      return lr * s.gamma ** Math.floor(epoch / s.step_size);
    case 'exponential':
      return lr * s.gamma ** epoch;
    case 'cosine': {
      const t = epochs <= 1 ? 0 : epoch / (epochs - 1);
      return s.min_lr + 0.5 * (lr - s.min_lr) * (1 + Math.cos(Math.PI * t));
    }
  }
}
