/**
 * Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum (elementwise, same-rank
 * inputs, ONNX broadcasting) and Concatenate (tfjs axis renumbered for NCHW).
 */
import { UnsupportedOpError } from '../../../src/errors';
import { onnxAxis } from '../layout';
import type { EmitContext, LayerMapper } from '../types';

function sameRank(ctx: EmitContext): number {
  const rank = ctx.inputs[0].shape.length;
  if (ctx.inputs.some((t) => t.shape.length !== rank)) {
    throw new UnsupportedOpError(
      `${ctx.className} of inputs with different ranks (${ctx.inputs.map((t) => t.shape.length).join(', ')})`,
      ctx.layer.name,
      ['inputs of equal rank'],
    );
  }
  return rank;
}

/** A variadic elementwise op: `binary` chained pairwise for two inputs, `variadic` (Sum/Mean/Max/Min) for more. */
function elementwise(binary: string, variadic?: string): LayerMapper {
  return (ctx) => {
    sameRank(ctx);
    const names = ctx.inputs.map((t) => t.name);
    if (names.length < 2) throw new UnsupportedOpError(`${ctx.className} with ${names.length} input`, ctx.layer.name, ['2 or more inputs']);
    if (names.length === 2 || !variadic) {
      let acc = names[0];
      for (let i = 1; i < names.length; i++) {
        const out = i === names.length - 1 ? ctx.outputName(0) : ctx.tmp(binary.toLowerCase());
        ctx.b.addNode(binary, [acc, names[i]], [out], {}, `${ctx.scope}/${binary}${names.length > 2 ? i : ''}`);
        acc = out;
      }
      return [acc];
    }
    ctx.b.addNode(variadic, names, [ctx.outputName(0)], {}, `${ctx.scope}/${variadic}`);
    return [ctx.outputName(0)];
  };
}

const subtract: LayerMapper = (ctx) => {
  if (ctx.inputs.length !== 2) throw new UnsupportedOpError(`Subtract with ${ctx.inputs.length} inputs`, ctx.layer.name, ['exactly 2 inputs']);
  sameRank(ctx);
  ctx.b.addNode('Sub', [ctx.inputs[0].name, ctx.inputs[1].name], [ctx.outputName(0)], {}, `${ctx.scope}/Sub`);
  return [ctx.outputName(0)];
};

const average: LayerMapper = (ctx) => {
  sameRank(ctx);
  ctx.b.addNode('Mean', ctx.inputs.map((t) => t.name), [ctx.outputName(0)], {}, `${ctx.scope}/Mean`);
  return [ctx.outputName(0)];
};

const concatenate: LayerMapper = (ctx) => {
  const rank = sameRank(ctx);
  const axis = onnxAxis(Number(ctx.config.axis ?? -1), rank);
  ctx.b.addNode('Concat', ctx.inputs.map((t) => t.name), [ctx.outputName(0)], { axis }, `${ctx.scope}/Concat`);
  return [ctx.outputName(0)];
};

export const MERGE_MAPPERS: ReadonlyArray<readonly [string, LayerMapper]> = [
  ['Add', elementwise('Add', 'Sum')],
  ['Subtract', subtract],
  ['Multiply', elementwise('Mul')],
  ['Average', average],
  ['Maximum', elementwise('Max', 'Max')],
  ['Minimum', elementwise('Min', 'Min')],
  ['Concatenate', concatenate],
];
