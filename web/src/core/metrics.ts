/**
 * Image quality numbers the page shows: the project's PSNR (src/metrics/psnr.ts: output clipped
 * to [0,1], peak 1, MSE over all channels), re-exported so page and CLI report the same dB.
 */
export { psnr } from '../../../src/metrics/psnr';
