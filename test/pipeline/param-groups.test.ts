/**
 * Optimizer param groups (fine-tuned encoder weights): no update before the group's start epoch,
 * updates scaled by its lr multiplier after (checked with plain SGD, where the step is lr × gradient,
 * against the same model trained as one group), the lr schedule reaching the group, and exact
 * save/restore of both optimizer states.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { initTf, type Tf } from '../../src/backends/tf';
import { trainSchema } from '../../src/config/schema';
import { TrainOptimizer } from '../../pipeline/train/optimizers';
import { seeded } from '../helpers/seeded';

describe('TrainOptimizer param groups', () => {
  let tf: Tf;
  beforeAll(async () => {
    tf = (await initTf({ device: 'cpu' })).tf;
  });

  /** Two dense layers with seeded weights; the second is the "encoder" group. */
  function model(): TfModule.LayersModel {
    const x = tf.input({ shape: [3] });
    const a = tf.layers.dense({ units: 4, name: 'head' }).apply(x) as TfModule.SymbolicTensor;
    const y = tf.layers.dense({ units: 2, name: 'enc' }).apply(a) as TfModule.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: y });
    m.setWeights(m.getWeights().map((w, i) => tf.tensor(seeded(w.size, i + 1), w.shape)));
    return m;
  }
  const x = () => tf.tensor2d(seeded(15, 9), [5, 3]);
  const lossOf = (m: TfModule.LayersModel) => () => tf.mean(tf.square(m.apply(x()) as TfModule.Tensor)) as TfModule.Scalar;
  const values = (m: TfModule.LayersModel, layer: string) => m.getLayer(layer).getWeights().map((w) => Array.from(w.dataSync())).flat();
  const cfg = trainSchema.parse({ optimizer: 'sgd', momentum: 0, lr: 0.1 });

  it('trains the group from its start epoch at lr × multiplier', () => {
    const ref = model();
    const refOpt = new TrainOptimizer(tf, ref, cfg);
    const m = model();
    const opt = new TrainOptimizer(tf, m, cfg, [{ name: 'encoder', weights: m.getLayer('enc').trainableWeights, lrMultiplier: 0.5, startEpoch: 1 }]);
    const enc0 = values(m, 'enc');
    const head0 = values(m, 'head');
    tf.tidy(() => opt.step(lossOf(m)));
    expect(values(m, 'enc')).toEqual(enc0);
    expect(values(m, 'head')).not.toEqual(head0);

    // Epoch 1 from identical weights: the group moves half as far as with one group at lr.
    m.setWeights(ref.getWeights());
    opt.epoch = 1;
    tf.tidy(() => opt.step(lossOf(m)));
    tf.tidy(() => refOpt.step(lossOf(ref)));
    const before = enc0;
    const half = values(ref, 'enc').map((v, i) => before[i] + 0.5 * (v - before[i]));
    expect(values(m, 'enc')).toBeCloseToArray(half, { atol: 1e-6, rtol: 1e-5 });
    expect(values(m, 'head')).toBeCloseToArray(values(ref, 'head'), { atol: 1e-6, rtol: 1e-5 });

    // The schedule sets the group's lr too.
    opt.lr = 0.01;
    expect((opt as unknown as { groups: Array<{ optimizer: { learningRate: number } }> }).groups[0].optimizer.learningRate).toBeCloseTo(0.005, 12);
  });

  it('saves and restores both optimizer states exactly', async () => {
    const adam = trainSchema.parse({ optimizer: 'adam', lr: 0.01 });
    const m = model();
    const group = () => [{ name: 'encoder', weights: m.getLayer('enc').trainableWeights, lrMultiplier: 0.1, startEpoch: 0 }];
    const opt = new TrainOptimizer(tf, m, adam, group());
    for (let i = 0; i < 3; i++) tf.tidy(() => opt.step(lossOf(m)));
    const saved = await opt.save();
    expect(saved.meta.groups).toHaveLength(1);
    const weights = m.getWeights().map((w) => w.clone());
    tf.tidy(() => opt.step(lossOf(m)));
    const next = m.getWeights().map((w) => Array.from(w.dataSync()));

    m.setWeights(weights);
    const restored = new TrainOptimizer(tf, m, adam, group());
    await restored.load(saved.meta, saved.arrays);
    tf.tidy(() => restored.step(lossOf(m)));
    expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(next);
    await expect(new TrainOptimizer(tf, m, adam).load(saved.meta, saved.arrays)).rejects.toThrow(/1 parameter groups, this run 0/);
  });
});
