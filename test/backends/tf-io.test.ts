/**
 * Reading a TF.js model.json (convert's tfjs input, the train stage's saved head): a LayersModel round-trips; what is
 * not one — a graph model, a broken manifest, a missing weight file, a weight path out of the model's folder, a
 * topology tfjs refuses — is an InputError naming the file and what was expected, never a raw TypeError.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModel, saveLayersModel } from '../../src/backends/tf-io';
import { InputError } from '../../src/errors';
import { quietCpu } from '../helpers/tf-cpu';
import { tmpDir } from '../helpers/tmp';

function writeModelJson(dir: string, json: unknown, files: Record<string, Uint8Array> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes);
  return dir;
}

describe('loadLayersModel', () => {
  const root = tmpDir('onnxtune-tfio-');
  beforeAll(quietCpu);

  it('round-trips a LayersModel saved by saveLayersModel (same weights)', async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], kernelInitializer: 'glorotUniform' })] });
    const dir = path.join(root, 'ok');
    await saveLayersModel(tf, m, dir);
    const back = await loadLayersModel(tf, dir);
    const [a, b] = [m.getWeights()[0].dataSync(), back.getWeights()[0].dataSync()];
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  const cases: Array<[string, unknown, Record<string, Uint8Array>, RegExp]> = [
    ['a graph model', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }, {}, /is a TF\.js graph model \(tfjs-converter output\); onnxtune reads LayersModels/],
    ['no topology', { weightsManifest: [] }, {}, /has no modelTopology; expected a TF\.js LayersModel model\.json/],
    ['a manifest that is not a list of groups', { modelTopology: {}, weightsManifest: { paths: 'w.bin' } }, {}, /weightsManifest: expected a list of \{ paths/],
    ['a weight path out of the folder', { modelTopology: {}, weightsManifest: [{ paths: ['../secret.bin'], weights: [] }] }, {}, /weightsManifest path '\.\.\/secret\.bin' refused: it resolves outside the model's folder/],
    ['an absolute weight path', { modelTopology: {}, weightsManifest: [{ paths: ['/etc/passwd'], weights: [] }] }, {}, /weightsManifest path '\/etc\/passwd' refused: absolute paths are not allowed/],
    ['a missing weight file', { modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: [] }] }, {}, /w\.bin: weight file of model\.json not found/],
    ['a topology tfjs refuses', { modelTopology: { class_name: 'Nonsense', config: {} }, weightsManifest: [] }, {}, /model\.json: TF\.js cannot load it as a LayersModel: /],
  ];
  it('a weight file that links out of the folder is refused', async () => {
    const dir = writeModelJson(path.join(root, 'link'), { modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: [] }] });
    fs.writeFileSync(path.join(root, 'outside.bin'), new Uint8Array(8));
    fs.symlinkSync(path.join(root, 'outside.bin'), path.join(dir, 'w.bin'));
    await expect(loadLayersModel(tf, dir)).rejects.toThrow(/weightsManifest path 'w\.bin' refused: it links to a file outside the model's folder/);
  });

  it.each(cases)('%s: InputError naming the file', async (name, json, files, pattern) => {
    const dir = writeModelJson(path.join(root, name.replace(/\W+/g, '-')), json, files);
    const err = await loadLayersModel(tf, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(pattern);
  });
});
