/**
 * The CLI's epoch progress (Node): a live cli-progress bar (steps, loss, lr, steps/s and
 * samples/s, ETA) on an interactive terminal, and `lineProgress`'s plain lines when stderr is
 * not a TTY or under CI, so logs stay readable. `fit` gets it as its `progress` factory.
 */
import { SingleBar } from 'cli-progress';
import { log } from '../../src/log';
import { epochRates, lineProgress, type ProgressFactory } from './progress';

export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && log.enabled('info');
}

/** A {@link ProgressFactory}: the bar on a terminal, plain lines otherwise (decided per epoch). */
export const terminalProgress: ProgressFactory = (label, totalSteps, samplesPerStep, startStep = 0) => {
  if (!isInteractive()) return lineProgress(label, totalSteps, samplesPerStep, startStep);
  const { rate, eta } = epochRates(totalSteps, samplesPerStep, startStep);
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
};
