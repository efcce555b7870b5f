/**
 * Layers that emit no computation or only a little: inference-time no-ops (Dropout, the
 * noise layers) alias their input, Rescaling is x·scale + offset, and nested models
 * (a LayersModel used as a layer) are emitted recursively under their own name.
 */
import type { LayerMapper, LayersModel } from '../types';

const alias: LayerMapper = (ctx) => [ctx.inputs[0].name];

const rescaling: LayerMapper = (ctx) => {
  const scale = Number(ctx.config.scale ?? 1);
  const offset = Number(ctx.config.offset ?? 0);
  const x = ctx.inputs[0].name;
  const scaled = offset === 0 ? ctx.outputName(0) : ctx.tmp('scaled');
  ctx.b.addNode('Mul', [x, ctx.initializer('scale', [], new Float32Array([scale]))], [scaled], {}, `${ctx.scope}/Mul`);
  if (offset !== 0) {
    ctx.b.addNode('Add', [scaled, ctx.initializer('offset', [], new Float32Array([offset]))], [ctx.outputName(0)], {}, `${ctx.scope}/Add`);
  }
  return [ctx.outputName(0)];
};

const nestedModel: LayerMapper = (ctx) =>
  ctx.emitNested(ctx.layer as unknown as LayersModel, ctx.inputs.map((t) => t.name));

export const CORE_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['Dropout', alias],
  ['SpatialDropout1D', alias],
  ['SpatialDropout2D', alias],
  ['GaussianNoise', alias],
  ['GaussianDropout', alias],
  ['AlphaDropout', alias],
  ['Rescaling', rescaling],
  ['Functional', nestedModel],
  ['Model', nestedModel],
  ['Sequential', nestedModel],
];
