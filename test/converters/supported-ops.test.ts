/**
 * The supported-ops tables are generated from the mapping tables and embedded in
 * converters/README.md; this keeps the README current and the tables consistent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CONVERTIBLE_OPS, FOLDABLE_OPS, OP_MAPPERS, OPSET_ADAPTED_OPS, SUPPORTED_ONNX_OPS, SUPPORTED_TFJS_LAYERS, supportedOpsMarkdown,
} from '../../converters';
import { ONNX_LAYER_CLASSES } from '../../converters/onnx-to-tfjs/custom-layers';

describe('supported ops', () => {
  test('converters/README.md embeds the generated tables (regenerate: onnxtune convert --list-ops --update-readme converters/README.md)', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'converters', 'README.md'), 'utf8');
    const block = /<!-- supported-ops:begin -->\n([\s\S]*?)\n<!-- supported-ops:end -->/.exec(readme)?.[1];
    expect(block).toBe(supportedOpsMarkdown());
  });

  test('the issue #5 op set converts ONNX → tfjs, and every custom layer maps back to ONNX', () => {
    const issueOps = ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Add', 'Concat', 'Gemm', 'MatMul', 'Flatten', 'Resize', 'ConvTranspose', 'Sigmoid', 'Clip', 'Pad', 'Mul', 'Sub', 'Div'];
    expect(issueOps.filter((op) => !CONVERTIBLE_OPS.includes(op))).toEqual([]);
    expect(ONNX_LAYER_CLASSES.filter((c) => !SUPPORTED_TFJS_LAYERS.includes(c))).toEqual([]);
    for (const layer of ['Conv2D', 'Conv2DTranspose', 'DepthwiseConv2D', 'UpSampling2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'BatchNormalization', 'Dense', 'Flatten', 'Reshape', 'Concatenate', 'Add', 'Multiply', 'Subtract', 'Dropout', 'Activation', 'ZeroPadding2D', 'Cropping2D', 'Permute']) {
      expect(SUPPORTED_TFJS_LAYERS).toContain(layer);
    }
    expect(['Clip', 'Pad', 'Resize', 'Squeeze', 'Unsqueeze', 'ReduceMean'].filter((op) => !OPSET_ADAPTED_OPS.includes(op))).toEqual([]);
  });

  test('the generated list matches the table and every op has notes', () => {
    expect(SUPPORTED_ONNX_OPS.map((o) => o.op).sort()).toEqual([...OP_MAPPERS.keys()].sort());
    expect(SUPPORTED_ONNX_OPS.every((o) => o.notes.length > 0)).toBe(true);
    expect(new Set([...CONVERTIBLE_OPS, ...FOLDABLE_OPS]).size).toBe(OP_MAPPERS.size);
  });
});
