/** MSE, PSNR and SSIM of one HWC image against its clean version, per the evaluation protocol. */
import { mse } from './mse';
import { psnr } from './psnr';
import { ssim } from './ssim';

export interface QualityMetrics {
  mse: number;
  psnr: number;
  ssim: number;
}

export function quality(image: Float32Array, clean: Float32Array, height: number, width: number, channels: number): QualityMetrics {
  return { mse: mse(image, clean), psnr: psnr(image, clean), ssim: ssim(image, clean, { width, height, channels }) };
}
