/**
 * The tool's version as a constant, so the runtime-free core (the ONNX builder's
 * producer_version, exported metadata) knows it in a browser too, where package.json cannot be
 * read (tfjs keeps its version.ts the same way). test/architecture/version.test.ts keeps it
 * equal to package.json's "version".
 */
export const ONNXTUNE_VERSION = '0.1.0';
