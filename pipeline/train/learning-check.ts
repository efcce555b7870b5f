/**
 * "Has the head learned anything?" checks. After the first epoch the validation PSNR must beat
 * the noisy input's (by {@link LEARNED_MARGIN_DB}); when it does not, the warning names the
 * likely causes with the run's own numbers (tap scale, dead channels, learning rate). The
 * evaluate stage marks a run whose output is its input with src/metrics/learned-nothing.ts.
 */
import { log } from '../../src/log';
import { LEARNED_MARGIN_DB } from '../../src/metrics/learned-nothing';
import { cropNhwc } from '../../src/tensor/pad';
import { Callback, type Logs } from './callbacks';
import type { TrainSplit } from './loop';

/**
 * Mean per-image PSNR of the noisy input clipped to [0,1] against the clean target (realization
 * 0), computed like the loop's val PSNR so that a head returning its input scores exactly this.
 * @param imageIndex which of `split.inputs` is the noisy image (padded to the decoder size)
 */
export function noisyInputPsnr(split: TrainSplit, imageIndex = split.inputs.length - 1): number {
  const img = split.inputs[imageIndex];
  const [h, w, c] = split.target.shape;
  const pix = h * w * c;
  const noisy = cropNhwc(img.data.subarray(0, split.count * img.shape[0] * img.shape[1] * c), split.count, img.shape[0], img.shape[1], c, h, w);
  let sumPsnr = 0;
  for (let r = 0; r < split.count; r++) {
    let sum = 0;
    for (let i = 0; i < pix; i++) {
      const v = noisy[r * pix + i];
      const d = (v < 0 ? 0 : v > 1 ? 1 : v) - split.target.data[r * pix + i];
      sum += d * d;
    }
    sumPsnr += sum === 0 ? 100 : Math.min(100, 10 * Math.log10(pix / sum));
  }
  return sumPsnr / Math.max(split.count, 1);
}

/** What the warning reports about the run besides the PSNRs. */
export interface LearningDiagnosis {
  /** Per-tap std ranges and dead channels (see describeTapStats). */
  taps: string;
  /** Fraction of all tap channels with zero std. */
  deadFraction: number;
  normalized: boolean;
  lr: number;
}

/**
 * The warning text when `valPsnr` has not beaten `noisyPsnr` by {@link LEARNED_MARGIN_DB}, else null.
 * @param epoch 1-based
 */
export function learningWarning(valPsnr: number | null, noisyPsnr: number, epoch: number, d: LearningDiagnosis): string | null {
  if (valPsnr === null || valPsnr > noisyPsnr + LEARNED_MARGIN_DB) return null;
  const causes = [
    d.normalized
      ? `tap scale (taps are standardized; raw ${d.taps})`
      : `tap scale (${d.taps}; set decoder.normalize_taps: true to standardize them)`,
    `dead ReLUs (${(100 * d.deadFraction).toFixed(1)}% of tap channels are constant)`,
    `learning rate (train.lr ${d.lr}; ${d.lr < 1e-4 ? 'raise it toward 1e-3' : d.lr > 3e-3 ? 'lower it toward 1e-3' : 'a usual value; lower it if the loss jumps'})`,
  ];
  return (
    `validation PSNR after epoch ${epoch} is ${valPsnr.toFixed(2)} dB, not above the noisy input's ${noisyPsnr.toFixed(2)} dB: ` +
    `the head has learned nothing yet. Likely causes: ${causes.join('; ')}`
  );
}

/** Logs {@link learningWarning} at the end of the first epoch (it is recorded in history.json by the train stage). */
export class LearningCheck extends Callback {
  warning: string | null = null;

  constructor(private readonly noisyPsnr: number, private readonly diagnosis: LearningDiagnosis) {
    super();
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (epoch !== 0) return;
    this.warning = learningWarning(typeof logs.val_psnr === 'number' ? logs.val_psnr : null, this.noisyPsnr, epoch + 1, this.diagnosis);
    if (this.warning) log.warn(this.warning);
  }
}
