/**
 * Constant tensors for the op mappers. They live in the core (src/onnx/const-tensor.ts) since
 * stage detection, tap cutting and inspect evaluate the same constants; this module keeps the
 * mappers' import path.
 */
export * from '../../src/onnx/const-tensor';
