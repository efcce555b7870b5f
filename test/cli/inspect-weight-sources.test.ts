/**
 * `onnxtune inspect` on ResNet-50 and VGG-19 layouts (full widths) whose weights come from
 * ConstantOfShape, Constant and DequantizeLinear nodes prints the same architecture lines and
 * stage table as with initializer weights (issue 12, "must show"), and the weights line says
 * where they live. Set ONNXTUNE_TEST_REPORT=1 to print the architecture lines.
 */
import * as path from 'node:path';
import { saveModel } from '../../src/onnx/model-io';
import { resnet50Net, vgg19Net } from '../pretrained/synthetic';
import { rewriteWeights, type WeightSource } from '../pretrained/weight-rewrites';
import { runCli } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';

const SOURCES: readonly WeightSource[] = ['initializer', 'constant-of-shape', 'constant', 'int8'];
const EXPECTED = {
  resnet50: '  resnet: stem /4 64ch → layer1 /4 256ch → layer2 /8 512ch → layer3 /16 1024ch → layer4 /32 2048ch',
  vgg19:
    '  vgg: block1 /1 64ch → block1_pool /2 64ch → block2 /2 128ch → block2_pool /4 128ch → block3 /4 256ch → block3_pool /8 256ch' +
    ' → block4 /8 512ch → block4_pool /16 512ch → block5 /16 512ch → block5_pool /32 512ch',
};
/** The source each rewrite should report in the weights line (zoo style: plain initializer names). */
const WEIGHT_KIND: Record<string, RegExp> = {
  initializer: /\(initializer \d+\)$/,
  'constant-of-shape': /\(Mul \d+/,
  constant: /\(Constant \d+\)$/,
  int8: /\(DequantizeLinear \d+\)$/,
};

const report: string[] = [];
afterAll(() => {
  if (process.env.ONNXTUNE_TEST_REPORT && report.length) process.stdout.write(report.join('\n') + '\n');
});

/** The architecture section: from the `architecture:` line to the end of the stage table. */
function architectureLines(stdout: string): string[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('architecture:'));
  return at < 0 ? [] : lines.slice(at, lines.indexOf('', at + 3) < 0 ? undefined : lines.indexOf('', at + 3));
}

describe('onnxtune inspect: weights from ConstantOfShape, Constant and DequantizeLinear nodes', () => {
  const dir = tmpDir();
  for (const [name, make] of [['resnet50', () => resnet50Net('zoo')], ['vgg19', () => vgg19Net('zoo')]] as const) {
    test(`${name}: the same stages (${name === 'resnet50' ? '256/512/1024/2048 ch at /4 /8 /16 /32' : '64…512 ch at /1…/32'}) for every weight source`, async () => {
      const syn = make();
      const outputs = new Map<WeightSource, string[]>();
      for (const way of SOURCES) {
        const file = path.join(dir, `${name}-${way}.onnx`);
        saveModel(rewriteWeights(syn.model, way, syn.input).model, file);
        const r = await runCli(['inspect', file]);
        expect([way, r.code]).toEqual([way, 0]);
        const arch = architectureLines(r.stdout);
        outputs.set(way, arch);
        const weights = r.stdout.split('\n').find((l) => l.startsWith('  weights:')) ?? '';
        expect([way, weights]).toEqual([way, expect.stringMatching(WEIGHT_KIND[way])]);
        report.push(`${name} (${way}): ${weights.trim()}`, ...arch.slice(0, 2).map((l) => `  ${l}`));
      }
      const base = outputs.get('initializer') as string[];
      expect(base[0]).toMatch(new RegExp(`^architecture: .*matches registry entry ${name}$`));
      expect(base[1]).toBe(EXPECTED[name]);
      for (const way of SOURCES) expect([way, outputs.get(way)]).toEqual([way, base]);
    });
  }
});
