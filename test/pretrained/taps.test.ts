/** resolveTaps: stage names and raw tensor names map to tensors; unknown names are ConfigErrors with a suggestion. */
import { ConfigError } from '../../src/errors';
import { detectArchitecture } from '../../pretrained/detect';
import { resolveTaps } from '../../pretrained/taps';
import { convReluConvRelu } from '../onnx/fixtures';
import { basicResnet, vggNet } from './synthetic';

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('resolveTaps', () => {
  const resnet = basicResnet('tf');
  const stage = (name: string) => resnet.stages.find((s) => s.name === name)!;

  test('stage names resolve to the detected tensors, with channels and stride', async () => {
    const taps = await resolveTaps(resnet.model, ['stem', 'layer2']);
    expect(taps).toEqual([
      { requested: 'stem', tensor: stage('stem').tensor, stage: stage('stem') },
      { requested: 'layer2', tensor: stage('layer2').tensor, stage: stage('layer2') },
    ]);
  });

  test('raw tensor names pass through; graph inputs count, initializers do not', async () => {
    const raw = 'StatefulPartitionedCall/model/conv2_block1_1_relu/Relu:0';
    expect(await resolveTaps(resnet.model, [raw, 'input_1'])).toEqual([
      { requested: raw, tensor: raw },
      { requested: 'input_1', tensor: 'input_1' },
    ]);
    await expect(resolveTaps(resnet.model, ['const_fold_opt__0'])).rejects.toThrow(ConfigError);
  });

  test('VGG pool stages resolve', async () => {
    const vgg = vggNet('zoo', { bn: false, layout: [1, 2, 2], widths: [4, 8, 8], variant: '' });
    const [t] = await resolveTaps(vgg.model, ['block3_pool']);
    expect(t.tensor).toBe('vgg0_pool2_fwd');
    expect(t.stage).toMatchObject({ channels: 8, stride: 8 });
  });

  test('a typo is a ConfigError naming the YAML path, the detected stages and the closest stage', async () => {
    const err = await failure(resolveTaps(resnet.model, ['stem', 'layr2'], { label: 'enc.onnx', path: 'encoder.taps' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect(err.message).toBe(
      "enc.onnx encoder.taps[1]: 'layr2' is neither a stage nor a tensor of the model; did you mean 'layer2'? " +
        "(the detected resnet (basic blocks, 2 stages) has stages stem, layer1, layer2; list tensors with 'onnxtune inspect enc.onnx --tensors')",
    );
  });

  test('a near miss of a raw tensor name is suggested when no stage is close', async () => {
    const err = await failure(resolveTaps(convReluConvRelu(), ['relu_1']));
    expect(err.message).toMatch(/'relu_1' is neither a stage nor a tensor of the model; did you mean 'relu1'\? \(no named stages were detected/);
  });

  test("'auto' resolves to the last main-path tensor per stride, named by the detected stage on that tensor", async () => {
    const taps = await resolveTaps(resnet.model, 'auto');
    expect(taps.map((t) => t.requested)).toEqual(taps.map(() => 'auto'));
    expect(taps.map((t) => t.stage?.name)).toEqual(['auto/1', 'layer1', 'layer2']);
    expect(taps.slice(1).map((t) => t.tensor)).toEqual([stage('layer1').tensor, stage('layer2').tensor]);
  });

  test('a detection passed in is used as given (null = none)', async () => {
    await expect(resolveTaps(resnet.model, ['layer1'], { architecture: null })).rejects.toThrow(/no named stages were detected/);
    const arch = detectArchitecture(resnet.model)!;
    const renamed = { ...arch, stages: arch.stages.map((s) => ({ ...s, name: `x_${s.name}` })) };
    expect((await resolveTaps(resnet.model, ['x_layer1'], { architecture: renamed }))[0].tensor).toBe(stage('layer1').tensor);
  });
});
