/**
 * Per-epoch progress: a live bar (steps/s, loss, ETA) on an interactive terminal, and plain
 * lines every ~25% when stderr is not a TTY or under CI, so logs stay readable.
 */
import { SingleBar } from 'cli-progress';
import { log } from '../../src/log';

export interface Progress {
  update(step: number, values: { loss: number }): void;
  stop(): void;
}

export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI && log.enabled('info');
}

export function epochProgress(label: string, totalSteps: number, samplesPerStep: number): Progress {
  const t0 = performance.now();
  const rate = (step: number) => (step * samplesPerStep) / Math.max(1e-9, (performance.now() - t0) / 1000);
  if (isInteractive()) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} steps | loss {loss} | {rate} samples/s | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    });
    bar.start(totalSteps, 0, { loss: '-', rate: '-' });
    return {
      update: (step, v) => bar.update(step, { loss: v.loss.toFixed(5), rate: rate(step).toFixed(0) }),
      stop: () => bar.stop(),
    };
  }
  let nextMark = 0.25;
  return {
    update(step, v) {
      if (step / totalSteps >= nextMark || step === totalSteps) {
        const eta = ((totalSteps - step) * samplesPerStep) / Math.max(rate(step), 1e-9);
        log.info(`${label} ${step}/${totalSteps} steps, loss ${v.loss.toFixed(5)}, ${rate(step).toFixed(0)} samples/s, ETA ${eta.toFixed(0)} s`);
        while (step / totalSteps >= nextMark) nextMark += 0.25;
      }
    },
    stop: () => undefined,
  };
}
