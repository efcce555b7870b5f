/** Placeholder replaced by the wasm training kernels module. */
import type * as TfModule from '@tensorflow/tfjs';
export function registerWasmTrainingKernels(_tf: typeof TfModule): void {
  /* filled in by the wasm-kernels work */
}
