/** Whole-model ONNX → tfjs parity on the wasm backend; the native run is onnx-to-tfjs-models.test.ts. */
import { onnxToTfjsModelSuite } from './onnx-to-tfjs-models-suite';

onnxToTfjsModelSuite('wasm');
