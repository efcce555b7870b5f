/** Whole-model ONNX → tfjs parity on native TF.js (tfjs-node); the wasm run is onnx-to-tfjs-models.wasm.test.ts. */
import { nativeTfInstalled } from '../helpers/native-tf';
import { onnxToTfjsModelSuite } from './onnx-to-tfjs-models-suite';

if (nativeTfInstalled('onnx-to-tfjs-models')) onnxToTfjsModelSuite('tensorflow');
else describe.skip('onnx-to-tfjs whole models on tensorflow [skipped: tfjs-node not built]', () => undefined);
