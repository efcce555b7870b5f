/**
 * Depthwise-separable families at small widths: MobileNet v1, MobileNet v2 (inverted residuals,
 * ReLU6), MobileNet v3 (SE with hard-sigmoid gates, HardSwish) and EfficientNet-B0 (MBConv, SE,
 * Swish). Their stages are `stage1`… by stride (pretrained/README.md).
 */
import { ArchBuilder, autoRows, finish, stageRows, type Activation, type ArchModel, type Layout } from './layout';

/** A squeeze-and-excitation gate on `x`: global pool, reduce, act, expand, gate, Mul. */
function squeezeExcite(a: ArchBuilder, x: string, p: string[], reduced: number, act: Activation, gate: Activation): string {
  let s = a.globalPool(x, [...p, 'avgpool']);
  s = a.conv(s, [...p, 'fc1'], { out: reduced, act });
  s = a.conv(s, [...p, 'fc2'], { out: a.c(x), act: gate });
  return a.mul(x, s, [...p, 'scale']);
}

interface InvertedResidual {
  k: number;
  expand: number;
  out: number;
  s: number;
  se?: boolean;
  act: Activation;
}

/** Expand 1×1 (when it widens), depthwise k×k, optional SE, linear 1×1 projection, residual when shapes agree. */
function invertedResidual(a: ArchBuilder, x: string, p: string[], o: InvertedResidual, seAct: Activation, seGate: Activation): string {
  const cin = a.c(x);
  let y = o.expand !== cin ? a.conv(x, [...p, 'expand'], { out: o.expand, bn: true, act: o.act }) : x;
  y = a.conv(y, [...p, 'dw'], { out: o.expand, k: o.k, s: o.s, group: o.expand, bn: true, act: o.act });
  if (o.se) y = squeezeExcite(a, y, [...p, 'se'], Math.max(2, Math.round(o.expand / 4)), seAct, seGate);
  y = a.conv(y, [...p, 'project'], { out: o.out, bn: true, gain: 0.5 });
  return o.s === 1 && cin === o.out ? a.add(x, y, [...p, 'add']) : y;
}

/** `stage1`… by stride from `[channels, stride]` rows (the stages are the auto taps for these families). */
const stridedStages = (rows: Array<[number, number]>) => stageRows(rows.map(([c, s], i): [string, number, number] => [`stage${i + 1}`, c, s]));
const STRIDE_STAGES = (c: number[]) => stridedStages(c.map((ch, i): [number, number] => [ch, 2 ** (i + 1)]));
/** MobileNet v2 and this EfficientNet-B0 share widths: expansions 48/72/96/192 before each stride change, then the 64-wide head conv. */
const EXPANDED_STAGES = stridedStages([[48, 2], [72, 4], [96, 8], [192, 16], [64, 32]]);

export function mobilenetV1(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'mobilenet_v1', 64);
  let x = a.conv(a.image(), ['model', '0'], { out: 8, k: 3, s: 2, bn: true, act: 'relu' });
  const blocks: Array<[number, number]> = [[16, 1], [24, 2], [24, 1], [32, 2], [32, 1], [48, 2], [48, 1], [64, 2]];
  blocks.forEach(([out, s], i) => {
    const p = ['model', String(i + 1)];
    x = a.conv(x, [...p, 'dw'], { out: a.c(x), k: 3, s, group: a.c(x), bn: true, act: 'relu' });
    x = a.conv(x, [...p, 'pw'], { out, bn: true, act: 'relu' });
  });
  a.head(x);
  const c = [16, 24, 32, 48, 64];
  return finish(a, 'mobilenet', STRIDE_STAGES(c), autoRows(c.map((ch, i) => [ch, 2 ** (i + 1)])));
}

export function mobilenetV2(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'mobilenet_v2', 64);
  let x = a.conv(a.image(), ['features', '0'], { out: 8, k: 3, s: 2, bn: true, act: 'relu6' });
  const cfg: Array<[number, number, number, number]> = [[1, 8, 1, 1], [6, 12, 2, 2], [6, 16, 2, 2], [6, 24, 2, 2], [6, 32, 1, 1], [6, 40, 2, 2]];
  let f = 1;
  for (const [t, c, n, s] of cfg) {
    for (let i = 0; i < n; i++) {
      x = invertedResidual(a, x, ['features', String(f++)], { k: 3, expand: a.c(x) * t, out: c, s: i ? 1 : s, act: 'relu6' }, 'relu', 'sigmoid');
    }
  }
  x = a.conv(x, ['features', String(f)], { out: 64, bn: true, act: 'relu6' });
  a.head(x);
  // Before each stride change the last main-path tensor is the next block's expansion (Keras U-Net's `block_N_expand_relu`).
  return finish(a, 'mobilenet', EXPANDED_STAGES, autoRows([[48, 2], [72, 4], [96, 8], [192, 16], [64, 32]]));
}

export function mobilenetV3(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'mobilenet_v3', 64);
  let x = a.conv(a.image(), ['features', '0'], { out: 8, k: 3, s: 2, bn: true, act: 'hswish' });
  const cfg: InvertedResidual[] = [
    { k: 3, expand: 16, out: 8, s: 1, act: 'relu' },
    { k: 3, expand: 32, out: 12, s: 2, act: 'relu' },
    { k: 3, expand: 36, out: 12, s: 1, act: 'relu' },
    { k: 5, expand: 36, out: 16, s: 2, se: true, act: 'relu' },
    { k: 5, expand: 48, out: 16, s: 1, se: true, act: 'hswish' },
    { k: 3, expand: 64, out: 24, s: 2, act: 'hswish' },
    { k: 5, expand: 96, out: 32, s: 2, se: true, act: 'hswish' },
    { k: 5, expand: 128, out: 32, s: 1, se: true, act: 'hswish' },
  ];
  cfg.forEach((o, i) => (x = invertedResidual(a, x, ['features', String(i + 1)], o, 'relu', 'hsigmoid')));
  x = a.conv(x, ['features', String(cfg.length + 1)], { out: 96, bn: true, act: 'hswish' });
  a.head(x);
  const rows: Array<[number, number]> = [[32, 2], [36, 4], [64, 8], [96, 16], [96, 32]];
  return finish(a, 'mobilenet', stridedStages(rows), autoRows(rows));
}

export function efficientnetB0(layout: Layout): ArchModel {
  const a = new ArchBuilder(layout, 'efficientnet_b0', 64);
  let x = a.conv(a.image(), ['conv_stem'], { out: 12, k: 3, s: 2, bn: true, act: 'swish' });
  const cfg: Array<[number, number, number, number, number]> = [[1, 3, 1, 8, 1], [6, 3, 2, 12, 2], [6, 5, 2, 16, 2], [6, 3, 2, 24, 2], [6, 5, 1, 32, 1], [6, 5, 2, 40, 2], [6, 3, 1, 48, 1]];
  cfg.forEach(([e, k, s, out, n], si) => {
    for (let i = 0; i < n; i++) {
      const cin = a.c(x);
      x = invertedResidual(a, x, ['blocks', String(si), String(i)], { k, expand: cin * e, out, s: i ? 1 : s, se: true, act: 'swish' }, 'swish', 'sigmoid');
    }
  });
  x = a.conv(x, ['conv_head'], { out: 64, bn: true, act: 'swish' });
  a.head(x);
  return finish(a, 'efficientnet', EXPANDED_STAGES, autoRows([[48, 2], [72, 4], [96, 8], [192, 16], [64, 32]]));
}
