/** Whole-model tfjs → ONNX parity on native TF.js (tfjs-node); the wasm run is models.wasm.test.ts. */
import { nativeTfInstalled } from '../helpers/native-tf';
import { tfjsToOnnxModelSuite } from './models-suite';

if (nativeTfInstalled('tfjs-to-onnx models')) tfjsToOnnxModelSuite('tensorflow');
else describe.skip('tfjs-to-onnx whole models on tensorflow [skipped: tfjs-node not built]', () => undefined);
