/**
 * Jest environment for tests that run onnxruntime-node: its native binding creates output
 * typed arrays in Node's main realm, while jest's sandbox has its own Float32Array, so
 * onnxruntime-common's `instanceof` checks fail ("A float32 tensor's data must be type of
 * Float32Array"). Sharing the main realm's typed-array constructors with the sandbox (as jest
 * already does for Uint8Array/ArrayBuffer) fixes that. Opt in per file with the docblock
 * `@jest-environment ./test/helpers/ort-environment.js`.
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
