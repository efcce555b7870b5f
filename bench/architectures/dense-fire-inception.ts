/**
 * Concatenating families at small widths: DenseNet-121 (dense blocks 2-3-4-2, growth 4, BN-ReLU-Conv
 * pre-activation layers, transitions with AveragePool), SqueezeNet 1.1 (fire modules, ceil-mode pools,
 * a 1×1 conv classifier) and GoogLeNet (four-branch inception modules; LRN in the Caffe2 export).
 */
import { ArchBuilder, autoRows, finish, stageRows, type ArchModel, type Layout } from './layout';

/** BatchNormalization (kept by every exporter: it follows a Concat, so nothing can absorb it) and ReLU. */
function bnRelu(a: ArchBuilder, x: string, p: string[]): string {
  return a.act(a.batchNorm(x, p), [...p, 'relu'], 'relu');
}

export function densenet121(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'densenet121', 64);
  let x = a.conv(a.image(), ['features', 'conv0'], { out: 16, k: 7, s: 2, bn: true, act: 'relu' });
  x = a.maxPool(x, ['features', 'pool0'], 3, 2, 1);
  const rows: Array<[string, number, number]> = [['stem', 16, 4]];
  const growth = 4;
  [2, 3, 4, 2].forEach((n, bi) => {
    const stride = 4 << bi;
    for (let i = 0; i < n; i++) {
      const p = ['features', `denseblock${bi + 1}`, `denselayer${i + 1}`];
      let y = bnRelu(a, x, [...p, 'norm1']);
      y = a.conv(y, [...p, 'conv1'], { out: 2 * growth, bn: true, act: 'relu' });
      y = a.conv(y, [...p, 'conv2'], { out: growth, k: 3 });
      x = a.concat([x, y], [...p, 'cat']);
    }
    rows.push([`denseblock${bi + 1}`, a.c(x), stride]);
    if (bi === 3) return;
    const p = ['features', `transition${bi + 1}`];
    x = a.conv(bnRelu(a, x, [...p, 'norm']), [...p, 'conv'], { out: a.c(x) / 2 });
    x = a.avgPool(x, [...p, 'pool'], 2, 2);
    rows.push([`transition${bi + 1}`, a.c(x), stride * 2]);
  });
  x = bnRelu(a, x, ['features', 'norm5']);
  a.head(x);
  return finish(a, 'densenet', stageRows(rows), autoRows([[16, 2], [12, 4], [12, 8], [14, 16], [22, 32]]));
}

/** Fire module: squeeze 1×1, then expand 1×1 ‖ 3×3, concatenated. */
function fire(a: ArchBuilder, x: string, p: string[], squeeze: number, expand: number): string {
  const s = a.conv(x, [...p, 'squeeze'], { out: squeeze, act: 'relu' });
  const e1 = a.conv(s, [...p, 'expand1x1'], { out: expand, act: 'relu' });
  const e3 = a.conv(s, [...p, 'expand3x3'], { out: expand, k: 3, act: 'relu' });
  return a.concat([e1, e3], [...p, 'cat']);
}

export function squeezenet11(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'squeezenet1_1', 64);
  let x = a.conv(a.image(), ['features', '0'], { out: 8, k: 3, s: 2, act: 'relu' });
  x = a.maxPool(x, ['features', '2'], 3, 2, 0, true);
  x = fire(a, x, ['features', '3'], 4, 8);
  x = fire(a, x, ['features', '4'], 4, 8);
  x = a.maxPool(x, ['features', '5'], 3, 2, 0, true);
  x = fire(a, x, ['features', '6'], 8, 16);
  x = fire(a, x, ['features', '7'], 8, 16);
  x = a.maxPool(x, ['features', '8'], 3, 2, 0, true);
  for (const [i, e] of [[9, 24], [10, 24], [11, 32], [12, 32]]) x = fire(a, x, ['features', String(i)], e / 4, e);
  // The classifier is a 1×1 conv to the classes, then a global pool: spatial, but part of the tail.
  const logits = a.conv(x, ['classifier', '1'], { out: 10, act: 'relu' });
  // The model zoo's Caffe2 SqueezeNet pools with a fixed-size AveragePool as large as the map (13×13 at 224 px).
  const pooled = layout === 'caffe2' ? a.avgPool(logits, ['pool10'], a.hw(logits), 1) : a.globalPool(logits, ['classifier', '3']);
  let y = a.node('Flatten', [pooled], ['flatten'], { axis: 1 });
  if (layout === 'caffe2') y = a.node('Softmax', [y], ['softmax'], { axis: 1 });
  a.b.addOutput(y, ['N', 10]);
  const rows: Array<[string, number, number]> = [['stage1', 8, 2], ['stage2', 16, 4], ['stage3', 32, 8], ['stage4', 64, 16]];
  return finish(a, 'squeezenet', stageRows(rows), autoRows(rows.map(([, c, s]) => [c, s])));
}

/** Inception module: 1×1 ‖ 1×1→3×3 ‖ 1×1→3×3 ‖ maxpool 3×3 s1→1×1, concatenated. */
function inception(a: ArchBuilder, x: string, p: string[], c: [number, number, number, number, number, number]): string {
  const b1 = a.conv(x, [...p, 'branch1'], { out: c[0], bn: true, act: 'relu' });
  const b2 = a.conv(a.conv(x, [...p, 'branch2', '0'], { out: c[1], bn: true, act: 'relu' }), [...p, 'branch2', '1'], { out: c[2], k: 3, bn: true, act: 'relu' });
  const b3 = a.conv(a.conv(x, [...p, 'branch3', '0'], { out: c[3], bn: true, act: 'relu' }), [...p, 'branch3', '1'], { out: c[4], k: 3, bn: true, act: 'relu' });
  const b4 = a.conv(a.maxPool(x, [...p, 'branch4', '0'], 3, 1, 1, true), [...p, 'branch4', '1'], { out: c[5], bn: true, act: 'relu' });
  return a.concat([b1, b2, b3, b4], [...p, 'cat']);
}

export function googlenet(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'googlenet', 64);
  let x = a.conv(a.image(), ['conv1'], { out: 8, k: 7, s: 2, bn: true, act: 'relu' });
  x = a.maxPool(x, ['maxpool1'], 3, 2, 0, true);
  if (layout === 'caffe2') x = a.lrn(x, ['pool1', 'norm1']);
  x = a.conv(x, ['conv2'], { out: 8, bn: true, act: 'relu' });
  x = a.conv(x, ['conv3'], { out: 16, k: 3, bn: true, act: 'relu' });
  if (layout === 'caffe2') x = a.lrn(x, ['conv2', 'norm2']);
  x = a.maxPool(x, ['maxpool2'], 3, 2, 0, true);
  x = inception(a, x, ['inception3a'], [4, 4, 8, 2, 4, 4]);
  x = inception(a, x, ['inception3b'], [8, 4, 8, 2, 4, 4]);
  x = a.maxPool(x, ['maxpool3'], 3, 2, 0, true);
  x = inception(a, x, ['inception4a'], [8, 6, 12, 2, 4, 4]);
  x = inception(a, x, ['inception4b'], [8, 6, 12, 2, 4, 4]);
  x = a.maxPool(x, ['maxpool4'], 2, 2, 0, true);
  x = inception(a, x, ['inception5a'], [12, 8, 16, 4, 8, 8]);
  a.head(x);
  const rows: Array<[string, number, number]> = [['stage1', 8, 2], ['stage2', 16, 4], ['stage3', 24, 8], ['stage4', 28, 16], ['stage5', 44, 32]];
  return finish(a, 'inception', stageRows(rows), autoRows(rows.map(([, c, s]) => [c, s])));
}
