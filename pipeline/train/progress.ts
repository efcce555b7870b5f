/**
 * Per-epoch progress, runtime-free: the `Progress` a `ProgressBar` callback drives, the
 * `ProgressFactory` that `fit` takes, and `lineProgress`, plain log lines every ~25% of an epoch
 * (what CI logs and a page's console get). The live terminal bar is Node's (`terminal-progress.ts`).
 * The epoch's last step is reported by the epoch summary line (ProgressBar callback) instead.
 */
import { log } from '../../src/log';

export interface Progress {
  update(step: number, values: { loss: number; lr?: number }): void;
  stop(): void;
}

/**
 * Starts the progress display of one epoch.
 * @param label e.g. `epoch 3/20`
 * @param totalSteps steps in the epoch
 * @param samplesPerStep the batch size, for samples/s
 * @param startStep steps already done (a run resumed mid-epoch); rates count only the steps done here
 */
export type ProgressFactory = (label: string, totalSteps: number, samplesPerStep: number, startStep: number) => Progress;

/** Steps/s, samples/s and the ETA of an epoch started at `startStep`, measured from now. */
export function epochRates(totalSteps: number, samplesPerStep: number, startStep: number) {
  const t0 = performance.now();
  const rate = (step: number) => ((step - startStep) * samplesPerStep) / Math.max(1e-9, (performance.now() - t0) / 1000);
  const eta = (step: number) => ((totalSteps - step) * samplesPerStep) / Math.max(rate(step), 1e-9);
  return { rate, eta };
}

/** Plain `log.info` lines at 25%, 50% and 75% of the epoch (marks already passed on a resume are skipped). */
export const lineProgress: ProgressFactory = (label, totalSteps, samplesPerStep, startStep = 0) => {
  const { rate, eta } = epochRates(totalSteps, samplesPerStep, startStep);
  let nextMark = 0.25;
  while (startStep / totalSteps >= nextMark) nextMark += 0.25;
  return {
    update(step, v) {
      if (step >= totalSteps || step / totalSteps < nextMark) return;
      log.info(
        `${label} ${step}/${totalSteps} steps, loss ${v.loss.toFixed(5)}, ${(rate(step) / samplesPerStep).toFixed(1)} steps/s ` +
          `(${rate(step).toFixed(0)} samples/s), ETA ${eta(step).toFixed(0)} s`,
      );
      while (step / totalSteps >= nextMark) nextMark += 0.25;
    },
    stop: () => undefined,
  };
};
