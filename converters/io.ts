/**
 * Model files for the converters: which format a path names (`.onnx`, or a tfjs `model.json`
 * / the folder holding it), and loading/saving tfjs LayersModels with the custom ONNX layers
 * registered first (src/backends/tf-io.ts does the file work).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from '../src/backends/tf';
import { loadLayersModel, saveLayersModel } from '../src/backends/tf-io';
import { InputError } from '../src/errors';
import { registerOnnxLayers } from './onnx-to-tfjs/custom-layers';
import { registerQuantizeLayers } from './onnx-to-tfjs/ops/quantize';

/** A model file format. */
export type ModelFormat = 'onnx' | 'tfjs';

/**
 * The format of `file`: `.onnx` → onnx; `model.json`, or a folder (existing, or for an output a
 * path without extension) → tfjs.
 * @throws InputError for anything else.
 */
export function modelFormat(file: string, role: 'input' | 'output'): ModelFormat {
  if (file.toLowerCase().endsWith('.onnx')) return 'onnx';
  if (path.basename(file) === 'model.json') return 'tfjs';
  const isDir = fs.existsSync(file) && fs.statSync(file).isDirectory();
  if (role === 'input' && isDir && fs.existsSync(path.join(file, 'model.json'))) return 'tfjs';
  if (role === 'output' && (isDir || path.extname(file) === '' || file.endsWith('/'))) return 'tfjs';
  if (path.extname(file).toLowerCase() === '.json') {
    const dir = path.join(path.dirname(file), path.basename(file, path.extname(file)));
    throw new InputError(
      file,
      role === 'output'
        ? `a tfjs model is written as model.json + weights in a folder; give the folder (${dir}) or ${path.join(path.dirname(file), 'model.json')}`
        : `a tfjs model is read as model.json from its folder (its weight files are named inside it); rename it to model.json or give its folder`,
    );
  }
  throw new InputError(file, `cannot tell the model format: expected a .onnx file or a tfjs model.json${role === 'input' ? ' (or the folder holding it)' : ' (or a folder to write it to)'}`);
}

/** The folder of a tfjs model given as its model.json or its folder. */
export function tfjsDir(file: string): string {
  return path.basename(file) === 'model.json' ? path.dirname(file) : file;
}

/** Loads a tfjs LayersModel (custom ONNX layers registered first). */
export async function loadTfjsModel(tf: Tf, file: string): Promise<TfModule.LayersModel> {
  registerOnnxLayers(tf);
  registerQuantizeLayers(tf); // QDQ models' OnnxFakeQuant
  return loadLayersModel(tf, tfjsDir(file));
}

/** Saves a tfjs LayersModel as model.json + weights.bin (the `tf.loadLayersModel('file://…')` layout). */
export async function saveTfjsModel(tf: Tf, model: TfModule.LayersModel, file: string): Promise<string> {
  const dir = tfjsDir(file);
  await saveLayersModel(tf, model, dir);
  return path.join(dir, 'model.json');
}

/** Total size in bytes of a model on disk (a .onnx file, or model.json + its weight files). */
export function modelBytes(file: string): number {
  if (modelFormat(file, 'input') === 'onnx') return fs.statSync(file).size;
  const dir = tfjsDir(file);
  return fs.readdirSync(dir).filter((f) => f === 'model.json' || f.endsWith('.bin')).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
}
