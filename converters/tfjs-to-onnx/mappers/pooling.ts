/**
 * Pooling layers: MaxPooling2D / AveragePooling2D with TF padding (average 'same' excludes
 * the padding from the count, like TF) and the global poolings, which reduce H and W and
 * then flatten to [N, C] as tfjs does.
 */
import { pair, paddingAttrs, requireChannelsLast, requireRank } from '../layout';
import type { LayerMapper } from '../types';

function pool2d(op: 'MaxPool' | 'AveragePool'): LayerMapper {
  return (ctx) => {
    requireChannelsLast(ctx);
    requireRank(ctx, [4]);
    const kernel = pair(ctx.config.poolSize ?? 2, `${ctx.layer.name}.poolSize`);
    const strides = pair(ctx.config.strides ?? kernel, `${ctx.layer.name}.strides`);
    const attrs = {
      kernel_shape: kernel,
      strides,
      ...paddingAttrs(ctx.config.padding ?? 'valid', kernel, strides, [1, 1], ctx.layer.name),
      ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}),
    };
    ctx.b.addNode(op, [ctx.inputs[0].name], [ctx.outputName(0)], attrs, `${ctx.scope}/${op}`);
    return [ctx.outputName(0)];
  };
}

function globalPool2d(op: 'GlobalMaxPool' | 'GlobalAveragePool'): LayerMapper {
  return (ctx) => {
    requireChannelsLast(ctx);
    requireRank(ctx, [4]);
    if (ctx.config.keepDims === true) {
      ctx.b.addNode(op, [ctx.inputs[0].name], [ctx.outputName(0)], {}, `${ctx.scope}/${op}`);
      return [ctx.outputName(0)];
    }
    const pooled = ctx.tmp('pooled');
    ctx.b.addNode(op, [ctx.inputs[0].name], [pooled], {}, `${ctx.scope}/${op}`);
    ctx.b.addNode('Flatten', [pooled], [ctx.outputName(0)], { axis: 1 }, `${ctx.scope}/Flatten`);
    return [ctx.outputName(0)];
  };
}

export const POOLING_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['MaxPooling2D', pool2d('MaxPool')],
  ['AveragePooling2D', pool2d('AveragePool')],
  ['GlobalMaxPooling2D', globalPool2d('GlobalMaxPool')],
  ['GlobalAveragePooling2D', globalPool2d('GlobalAveragePool')],
];
