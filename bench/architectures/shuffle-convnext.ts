/**
 * ShuffleNet v2 (channel split by Split or Slice, channel shuffle by Reshape-Transpose-Reshape) and a
 * ConvNeXt-style net (4×4 s4 patchify stem, 7×7 depthwise, channel LayerNorm, 1×1 MLP with erf
 * GELU, layer scale, 2×2 s2 downsampling) at small widths.
 */
import { ArchBuilder, autoRows, finish, stageRows, type ArchModel, type Layout } from './layout';

export function shufflenetV2(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'shufflenet_v2', 64);
  let x = a.conv(a.image(), ['conv1'], { out: 8, k: 3, s: 2, bn: true, act: 'relu' });
  x = a.maxPool(x, ['maxpool'], 3, 2, 1);
  [[2, 16], [3, 32], [2, 64]].forEach(([n, out], si) => {
    for (let i = 0; i < n; i++) {
      const p = [`stage${si + 2}`, String(i)];
      const half = out / 2;
      const branch2 = (t: string, s: number) => {
        let y = a.conv(t, [...p, 'branch2', '0'], { out: half, bn: true, act: 'relu' });
        y = a.conv(y, [...p, 'branch2', '3'], { out: half, k: 3, s, group: half, bn: true });
        return a.conv(y, [...p, 'branch2', '5'], { out: half, bn: true, act: 'relu' });
      };
      let cat: string;
      if (i === 0) {
        let b1 = a.conv(x, [...p, 'branch1', '0'], { out: a.c(x), k: 3, s: 2, group: a.c(x), bn: true });
        b1 = a.conv(b1, [...p, 'branch1', '2'], { out: half, bn: true, act: 'relu' });
        cat = a.concat([b1, branch2(x, 2)], [...p, 'cat']);
      } else {
        const [x1, x2] = a.channelSplit(x, [...p, 'chunk']);
        cat = a.concat([x1, branch2(x2, 1)], [...p, 'cat']);
      }
      x = a.channelShuffle(cat, [...p, 'shuffle'], 2);
    }
  });
  x = a.conv(x, ['conv5'], { out: 96, bn: true, act: 'relu' });
  a.head(x);
  const rows: Array<[string, number, number]> = [['stage1', 8, 2], ['stage2', 8, 4], ['stage3', 16, 8], ['stage4', 32, 16], ['stage5', 96, 32]];
  return finish(a, 'shufflenet', stageRows(rows), autoRows(rows.map(([, c, s]) => [c, s])));
}

export function convnext(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'convnext', 64);
  let x = a.conv(a.image(), ['stem', '0'], { out: 8, k: 4, s: 4 });
  x = a.layerNorm2d(x, ['stem', '1']);
  const dims = [8, 16, 24, 32];
  [1, 1, 2, 1].forEach((n, si) => {
    if (si > 0) {
      x = a.layerNorm2d(x, ['downsample_layers', String(si), '0']);
      x = a.conv(x, ['downsample_layers', String(si), '1'], { out: dims[si], k: 2, s: 2 });
    }
    for (let i = 0; i < n; i++) {
      const p = ['stages', String(si), String(i)];
      let y = a.conv(x, [...p, 'dwconv'], { out: dims[si], k: 7, group: dims[si] });
      y = a.layerNorm2d(y, [...p, 'norm']);
      y = a.conv(y, [...p, 'pwconv1'], { out: 4 * dims[si], act: 'gelu' });
      y = a.conv(y, [...p, 'pwconv2'], { out: dims[si], gain: 0.3 });
      y = a.layerScale(y, [...p, 'gamma']);
      x = a.add(x, y, [...p, 'add']);
    }
  });
  a.head(x);
  const rows: Array<[string, number, number]> = [['stage1', 8, 4], ['stage2', 16, 8], ['stage3', 24, 16], ['stage4', 32, 32]];
  return finish(a, 'convnext', stageRows(rows), autoRows(rows.map(([, c, s]) => [c, s])));
}
