/** Whole-model tfjs → ONNX parity on the wasm backend; the native run is models.test.ts. */
import { tfjsToOnnxModelSuite } from './models-suite';

tfjsToOnnxModelSuite('wasm');
