/**
 * Saving and loading tfjs LayersModels as plain files (model.json + weights.bin) with atomic
 * writes, without `file://` handlers (which need tfjs-node): the same code works on every backend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { InputError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { confinedFile } from '../io/confined-path';

type Tf = typeof TfModule;

/** Writes `model` to `dir/model.json` and `dir/weights.bin` (the layout `tf.loadLayersModel('file://…')` reads). */
export async function saveLayersModel(tf: Tf, model: TfModule.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer;
      writeFileAtomic(path.join(dir, 'weights.bin'), new Uint8Array(weightData));
      writeJsonAtomic(path.join(dir, 'model.json'), {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'onnxtune',
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

type WeightGroup = { paths: string[]; weights: TfModule.io.WeightsManifestEntry[] };

/**
 * Loads a model saved by saveLayersModel (or by tfjs `file://`, weight files beside model.json).
 * @throws InputError naming model.json or the weight file when the JSON is not a LayersModel (a graph model
 *   included), a weight file is missing or lies outside the model's folder, or tfjs refuses the topology/weights
 */
export async function loadLayersModel(tf: Tf, dir: string): Promise<TfModule.LayersModel> {
  const jsonFile = path.join(dir, 'model.json');
  let json: { format?: unknown; modelTopology?: unknown; weightsManifest?: unknown };
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    throw new InputError(jsonFile, `cannot read tfjs model: ${(err as Error).message}`, { cause: err });
  }
  const topology = json?.modelTopology as { node?: unknown } | undefined;
  if (json?.format === 'graph-model' || Array.isArray(topology?.node)) {
    throw new InputError(
      jsonFile,
      "is a TF.js graph model (tfjs-converter output); onnxtune reads LayersModels (format 'layers-model', as " +
        'tf.LayersModel.save writes them): convert the source Keras model to a LayersModel, or export the SavedModel to ONNX',
    );
  }
  if (!topology || typeof topology !== 'object') throw new InputError(jsonFile, 'has no modelTopology; expected a TF.js LayersModel model.json');
  const groups = json.weightsManifest ?? [];
  const valid = (g: unknown): g is WeightGroup =>
    !!g && Array.isArray((g as WeightGroup).paths) && (g as WeightGroup).paths.every((p) => typeof p === 'string') && Array.isArray((g as WeightGroup).weights);
  if (!Array.isArray(groups) || !groups.every(valid)) {
    throw new InputError(jsonFile, 'weightsManifest: expected a list of { paths: [file, …], weights: [{ name, shape, dtype }, …] }');
  }
  const root = path.resolve(dir);
  const specs: TfModule.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of groups) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      // Weight files are data beside the model: never a path out of its folder (as for ONNX external data).
      const file = confinedFile(root, p, ({ reason, missing }) => {
        throw new InputError(missing ? path.join(root, p) : jsonFile, missing ? `weight file of ${path.basename(jsonFile)} not found` : `weightsManifest path '${p}' refused: ${reason}`);
      });
      buffers.push(fs.readFileSync(file));
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData }));
  } catch (err) {
    throw new InputError(jsonFile, `TF.js cannot load it as a LayersModel: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}
