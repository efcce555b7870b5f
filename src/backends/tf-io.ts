/**
 * Saving and loading tfjs LayersModels as plain files (model.json + weights.bin) with atomic
 * writes, without `file://` handlers (which need tfjs-node): the same code works on every backend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { InputError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';

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

/** Loads a model saved by saveLayersModel (or by tfjs `file://`, single weights file). */
export async function loadLayersModel(tf: Tf, dir: string): Promise<TfModule.LayersModel> {
  const jsonFile = path.join(dir, 'model.json');
  let json: {
    modelTopology: object;
    weightsManifest: Array<{ paths: string[]; weights: TfModule.io.WeightsManifestEntry[] }>;
  };
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    throw new InputError(jsonFile, `cannot read tfjs model: ${(err as Error).message}`, { cause: err });
  }
  const specs: TfModule.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}
