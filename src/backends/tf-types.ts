/**
 * The TensorFlow.js namespace as a type, runtime-free: modules that take `tf` as a parameter
 * (the training loop, losses, the converters, the page's worker) import `Tf` from here, not from
 * `tf.ts`, whose runtime choice is Node's, so their type closure stays free of Node too.
 */
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;
