/**
 * When a denoiser has "learned nothing": its output is (nearly) its noisy input. Shared by the
 * evaluate stage, report.html, the trainer's first-epoch check and `onnxtune eval`.
 */

/** A denoiser within this many dB of its noisy input has not learned anything useful. */
export const LEARNED_MARGIN_DB = 0.1;
/** Output-vs-input MSE below this fraction of the noisy input's MSE: the output is the input. */
export const UNCHANGED_MSE_FRACTION = 0.01;

/**
 * Whether a denoiser's output is (nearly) its input.
 * @param noisyPsnr mean PSNR of the noisy inputs
 * @param denoisedPsnr mean PSNR of the outputs
 * @param outputVsInputMse mean MSE between output and input (omit when not measured)
 * @param noisyMse mean MSE of the noisy inputs (needed with outputVsInputMse)
 * @returns true when the PSNRs are within {@link LEARNED_MARGIN_DB} or the output-vs-input MSE
 *   is below {@link UNCHANGED_MSE_FRACTION} of the noisy MSE
 */
export function learnedNothing(noisyPsnr: number, denoisedPsnr: number, outputVsInputMse?: number, noisyMse?: number): boolean {
  if (Math.abs(denoisedPsnr - noisyPsnr) <= LEARNED_MARGIN_DB) return true;
  return outputVsInputMse !== undefined && noisyMse !== undefined && outputVsInputMse < UNCHANGED_MSE_FRACTION * noisyMse;
}
