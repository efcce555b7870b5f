/** ResNet-50 (bottleneck blocks, 3-4-6-3) and VGG-19 (2-2-4-4-4) at small widths, in any exporter layout. */
import { ArchBuilder, autoRows, finish, stageRows, type ArchModel, type Layout } from './layout';

/** ResNet-50's topology with bottleneck widths 4/8/16/32 (outputs ×4). */
export function resnet50(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'resnet50', 64);
  let x = a.conv(a.image(), ['conv1'], { out: 8, k: 7, s: 2, bn: true, act: 'relu' });
  x = a.maxPool(x, ['maxpool'], 3, 2, 1);
  const stem = a.c(x);
  [3, 4, 6, 3].forEach((n, si) => {
    const mid = 4 << si;
    for (let i = 0; i < n; i++) {
      const p = [`layer${si + 1}`, String(i)];
      const s = i === 0 && si > 0 ? 2 : 1;
      let y = a.conv(x, [...p, 'conv1'], { out: mid, bn: true, act: 'relu' });
      y = a.conv(y, [...p, 'conv2'], { out: mid, k: 3, s, bn: true, act: 'relu' });
      y = a.conv(y, [...p, 'conv3'], { out: mid * 4, bn: true, gain: 0.2 });
      const skip = i === 0 ? a.conv(x, [...p, 'downsample'], { out: mid * 4, s, bn: true }) : x;
      x = a.act(a.add(y, skip, [...p, 'add']), [...p, 'relu'], 'relu');
    }
  });
  a.head(x);
  return finish(
    a, 'resnet',
    stageRows([['stem', stem, 4], ['layer1', 16, 4], ['layer2', 32, 8], ['layer3', 64, 16], ['layer4', 128, 32]]),
    autoRows([[8, 2], [16, 4], [32, 8], [64, 16], [128, 32]]),
  );
}

/** VGG-19's topology with widths 4/8/16/16/16 (BatchNormalization only where the exporter keeps it: Caffe2). */
export function vgg19(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'vgg19', 64);
  const widths = [4, 8, 16, 16, 16];
  let x = a.image();
  let f = 0;
  const rows: Array<[string, number, number]> = [];
  [2, 2, 4, 4, 4].forEach((n, bi) => {
    for (let i = 0; i < n; i++) x = a.conv(x, ['features', String(f++)], { out: widths[bi], k: 3, bn: true, act: 'relu' });
    rows.push([`block${bi + 1}`, widths[bi], 2 ** bi]);
    x = a.maxPool(x, ['features', String(f++)], 2, 2);
    rows.push([`block${bi + 1}_pool`, widths[bi], 2 ** (bi + 1)]);
  });
  a.head(x);
  return finish(a, 'vgg', stageRows(rows), autoRows([[4, 1], [8, 2], [16, 4], [16, 8], [16, 16], [16, 32]]));
}
