/**
 * Checks that nothing in a run directory is truncated or half-committed: every JSON/YAML file
 * parses, every .npy reads, every .onnx decodes and passes the structural check, every PNG
 * decodes, every line of a .jsonl log parses, tfjs weights and training checkpoints match their manifests, a `DONE` marker only
 * sits in a stage folder whose run.json has the same key and whose artifacts are all there.
 * Temp files of interrupted atomic writes (`.tmp-*` files) and the append-only log are skipped; in a
 * stage's uncommitted `.tmp-<stage>/` folder every file must be complete, but sets of files may be partial.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { STAGE_NAMES } from '../../pipeline/types';
import { readNpy } from '../../src/io/npy';
import { checkModel } from '../../src/onnx/check';
import { decodeModel } from '../../src/onnx/model-io';

/** Files a finished stage folder must hold (besides run.json and DONE). */
const STAGE_FILES: Record<string, string[]> = {
  data: ['dataset.json'],
  encoder: ['encoder.onnx', 'io.json'],
  featurize: [],
  train: ['decoder/model.json', 'decoder/weights.bin', 'history.json'],
  evaluate: ['metrics.json', 'grid.png'],
  export: ['denoiser.onnx'],
  verify: ['parity.json'],
};

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** What a check found: problems (empty when the directory is sound) and how many files were verified. */
export interface IntegrityReport {
  problems: string[];
  filesChecked: number;
  finishedStages: string[];
}

/** Verifies every artifact under `runDir` (see the module comment). */
export async function checkRunDir(runDir: string): Promise<IntegrityReport> {
  const problems: string[] = [];
  const report: IntegrityReport = { problems, filesChecked: 0, finishedStages: [] };
  if (!fs.existsSync(runDir)) return report;
  const rel = (p: string) => path.relative(runDir, p);
  for (const file of walk(runDir)) {
    const base = path.basename(file);
    if (base.startsWith('.tmp-') || rel(file) === 'log.txt') continue;
    report.filesChecked += 1;
    try {
      if (base.endsWith('.json')) JSON.parse(fs.readFileSync(file, 'utf8'));
      // Append-only logs: one write per line, so a kill never tears a line.
      else if (base.endsWith('.jsonl')) {
        for (const l of fs.readFileSync(file, 'utf8').split('\n')) if (l.trim()) JSON.parse(l);
      }
      else if (base.endsWith('.yaml')) YAML.parse(fs.readFileSync(file, 'utf8'));
      else if (base.endsWith('.npy')) readNpy(file);
      else if (base.endsWith('.onnx')) {
        const problemsHere = checkModel(decodeModel(fs.readFileSync(file), file));
        if (problemsHere.length) problems.push(`${rel(file)}: ${problemsHere[0]}`);
      } else if (base.endsWith('.png')) await sharp(file).raw().toBuffer();
      else if (base === 'weights.bin') {
        const manifestFile = path.join(path.dirname(file), 'model.json');
        // In a stage's uncommitted temp folder, a kill may fall between the two files of a tfjs save.
        if (!fs.existsSync(manifestFile) && rel(file).split(path.sep).some((d) => d.startsWith('.tmp-'))) continue;
        const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
        const specs: Array<{ shape: number[]; dtype: string }> = manifest.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
        const bytes = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : 1), 0);
        if (fs.statSync(file).size !== bytes) problems.push(`${rel(file)}: ${fs.statSync(file).size} bytes, its model.json says ${bytes}`);
      } else if (base === 'tensors.bin') {
        const statePath = path.join(path.dirname(file), 'state.json');
        if (fs.existsSync(statePath)) {
          const groups: Record<string, number[][]> = JSON.parse(fs.readFileSync(statePath, 'utf8')).layout?.groups ?? {};
          const values = Object.values(groups).flat().reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
          if (values && fs.statSync(file).size !== values * 4) problems.push(`${rel(file)}: ${fs.statSync(file).size} bytes, state.json says ${values * 4}`);
        }
      } else if (base === 'latest') {
        const target = path.join(path.dirname(file), fs.readFileSync(file, 'utf8').trim());
        if (!fs.existsSync(path.join(target, 'state.json'))) problems.push(`${rel(file)} points to ${rel(target)}, which has no state.json`);
      } else if (base === 'DONE') {
        const dir = path.dirname(file);
        const stage = path.basename(dir).replace(/\.replaced-.*$/, '');
        const runJson = path.join(dir, 'run.json');
        if (!fs.existsSync(runJson)) {
          problems.push(`${rel(file)} without run.json`);
          continue;
        }
        const key = fs.readFileSync(file, 'utf8').trim();
        if (JSON.parse(fs.readFileSync(runJson, 'utf8')).key !== key) problems.push(`${rel(file)}: key ${key} differs from run.json`);
        for (const f of STAGE_FILES[stage] ?? []) if (!fs.existsSync(path.join(dir, f))) problems.push(`${rel(dir)} is DONE but has no ${f}`);
        if (path.dirname(dir) === runDir && path.basename(dir) === stage && (STAGE_NAMES as readonly string[]).includes(stage)) report.finishedStages.push(stage);
      }
    } catch (err) {
      problems.push(`${rel(file)}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return report;
}
