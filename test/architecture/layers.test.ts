/**
 * The layer rule, checked on the import lines of every source file: `src/` (the core) imports
 * nothing above it except at the top (`src/cli/`, `src/index.ts`); `pretrained/` and
 * `converters/` import only the core; `pipeline/` imports those three; the page (`web/src/`)
 * imports itself and runtime-free modules below it. And the runtime-free core — everything the page and the
 * browser fine-tuning reach, followed transitively — has no `node:` import, no file IO and no
 * Node-only package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers/jobs';

type Layer = 'top' | 'core' | 'pretrained' | 'converters' | 'pipeline' | 'web';

/** Which layers each layer may import (itself included). */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = Object.freeze({
  core: ['core'],
  pretrained: ['core', 'pretrained'],
  converters: ['core', 'converters'],
  pipeline: ['core', 'pretrained', 'converters', 'pipeline'],
  // The page reaches pipeline/ and converters/ only through their runtime-free modules (fine-tuning);
  // the transitive check below keeps that closure free of Node.
  web: ['core', 'converters', 'pipeline', 'web'],
  top: ['top', 'core', 'pretrained', 'converters', 'pipeline', 'web'],
});

/** Entry points of the runtime-free core; everything they import (values, not types) must stay runtime-free. */
const RUNTIME_FREE_ENTRIES = [
  'web/src/main.ts',
  'web/src/finetune-worker.ts',
  'src/denoise/index.ts',
  'src/onnx/reader.ts',
  'src/onnx/compose.ts',
  'src/onnx/builder.ts',
  'src/noise/index.ts',
  'src/metrics/quality.ts',
  'src/random.ts',
  'src/tensor/layout.ts',
  'src/backends/wasm-kernels.ts',
  'converters/tfjs-to-onnx/index.ts',
  'pipeline/train/decoder.ts',
  'pipeline/train/init-head.ts',
  'pipeline/train/losses.ts',
  'pipeline/train/schedules.ts',
  'pipeline/train/optimizers.ts',
  'pipeline/train/step.ts',
  'pipeline/train/loop.ts',
  'pipeline/export-model.ts',
  'pipeline/finetune/split.ts',
  'pipeline/finetune/finetune.ts',
];

/** Imports that tie code to Node or to a native runtime (the page's runtime, onnxruntime-web, is fine). */
const NODE_ONLY = /^(node:|fs$|path$|os$|crypto$|child_process$|sharp$|onnxruntime-node$|@tensorflow\/tfjs-node)/;

function layerOf(rel: string): Layer | null {
  if (rel === 'src/index.ts' || rel.startsWith('src/cli/')) return 'top';
  if (rel.startsWith('src/')) return 'core';
  for (const l of ['pretrained', 'converters', 'pipeline'] as const) if (rel.startsWith(`${l}/`)) return l;
  if (rel.startsWith('web/src/')) return 'web';
  return null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

interface ImportLine {
  spec: string;
  typeOnly: boolean;
}

/** Static imports, re-exports, dynamic import() and require() of a file (comments stripped first). */
const stripComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

function importsOf(rel: string): ImportLine[] {
  const text = stripComments(fs.readFileSync(path.join(ROOT, rel), 'utf8'));
  const found: ImportLine[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4] ?? m[5];
    found.push({ spec, typeOnly: Boolean(m[2]) });
  }
  return found;
}

/** The repository-relative file a relative import names, or null for a package. */
function resolveRelative(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const cand of [`${base}.ts`, `${base}/index.ts`, base]) {
    if (fs.existsSync(path.join(ROOT, cand)) && fs.statSync(path.join(ROOT, cand)).isFile()) return cand;
  }
  throw new Error(`${from}: cannot resolve '${spec}'`);
}

const ALL = ['src', 'pretrained', 'converters', 'pipeline', 'web/src'].flatMap(sourceFiles);

describe('layer rule', () => {
  it('finds the source files and their imports', () => {
    expect(ALL.length).toBeGreaterThan(100);
    expect(importsOf('src/denoise/index.ts').length).toBeGreaterThan(3);
  });

  it('every import goes to the same layer or below', () => {
    const violations: string[] = [];
    for (const file of ALL) {
      const layer = layerOf(file);
      if (!layer) continue;
      for (const { spec } of importsOf(file)) {
        const target = resolveRelative(file, spec);
        if (!target) continue;
        const to = layerOf(target);
        if (to && !MAY_IMPORT[layer].includes(to)) violations.push(`${file} (${layer}) imports ${target} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the runtime-free core imports nothing Node-only, transitively', () => {
    const seen = new Set<string>();
    const violations: string[] = [];
    const queue = [...RUNTIME_FREE_ENTRIES];
    while (queue.length) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const { spec, typeOnly } of importsOf(file)) {
        if (typeOnly) continue;
        if (NODE_ONLY.test(spec)) violations.push(`${file} imports '${spec}'`);
        const target = resolveRelative(file, spec);
        if (target) queue.push(target);
      }
      // Node's globals are not imported, but a browser lacks them just the same.
      const code = stripComments(fs.readFileSync(path.join(ROOT, file), 'utf8'));
      for (const g of ['Buffer', 'process', '__dirname', 'require']) {
        if (new RegExp(`(?<![.\\w'"])${g}\\b(?!\\??:)`).test(code)) violations.push(`${file} uses Node's global '${g}'`);
      }
    }
    expect(seen.size).toBeGreaterThan(RUNTIME_FREE_ENTRIES.length);
    expect(violations).toEqual([]);
  });

  it('catches a violation (the checker is not vacuous)', () => {
    expect(importsOf('src/cli/web/default-model.ts').some((i) => resolveRelative('src/cli/web/default-model.ts', i.spec)?.startsWith('pipeline/'))).toBe(true);
    expect(importsOf('src/io/log-file.ts').some((i) => NODE_ONLY.test(i.spec))).toBe(true);
  });
});
