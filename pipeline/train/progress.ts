/**
 * Per-epoch progress: a live bar (steps, loss, lr, steps/s and samples/s, ETA) on an interactive terminal, and
 * plain lines every ~25% when stderr is not a TTY or under CI, so logs stay readable. The
 * epoch's last step is reported by the epoch summary line (ProgressBar callback) instead.
 */
import { SingleBar } from 'cli-progress';
import { log } from '../../src/log';

export interface Progress {
  update(step: number, values: { loss: number; lr?: number }): void;
  stop(): void;
}

export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && log.enabled('info');
}

/**
 * Progress of one epoch of `totalSteps` steps.
 * @param startStep steps already done (a run resumed mid-epoch); rates count only the steps done here
 */
export function epochProgress(label: string, totalSteps: number, samplesPerStep: number, startStep = 0): Progress {
  const t0 = performance.now();
  const rate = (step: number) => ((step - startStep) * samplesPerStep) / Math.max(1e-9, (performance.now() - t0) / 1000);
  const eta = (step: number) => ((totalSteps - step) * samplesPerStep) / Math.max(rate(step), 1e-9);
  if (isInteractive()) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {steps_s} steps/s, {rate} samples/s | ETA {eta_s} s`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
    });
    bar.start(totalSteps, startStep, { loss: '-', lr: '-', rate: '-', steps_s: '-', eta_s: '-' });
    return {
      update: (step, v) =>
        bar.update(step, {
          loss: v.loss.toFixed(5),
          lr: v.lr !== undefined ? v.lr.toExponential(2) : '-',
          rate: rate(step).toFixed(0),
          steps_s: (rate(step) / samplesPerStep).toFixed(1),
          eta_s: eta(step).toFixed(0),
        }),
      stop: () => bar.stop(),
    };
  }
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
}
