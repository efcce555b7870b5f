/** Running models with extra tensors exposed, for the detection and tap parity tests. */
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { makeValueInfo } from '../../src/onnx/graph-utils';
import { encodeModel } from '../../src/onnx/model-io';
import { onnx, type ModelProto } from '../../src/onnx/proto';
import { seeded } from '../onnx/fixtures';

/** A copy of `model` whose graph also outputs `tensors` (those not already outputs). */
export function withOutputs(model: ModelProto, tensors: readonly string[]): onnx.ModelProto {
  const graph = model.graph ?? {};
  const have = new Set((graph.output ?? []).map((o) => o.name));
  const extra = [...new Set(tensors)].filter((t) => !have.has(t)).map((t) => makeValueInfo(t));
  return onnx.ModelProto.create({ ...model, graph: onnx.GraphProto.create({ ...graph, output: [...(graph.output ?? []), ...extra] }) });
}

/** Runs `model` once on CPU and returns the fetched tensors. */
export async function runModel(model: ModelProto, feeds: Record<string, FloatTensor>, fetches?: readonly string[]): Promise<Record<string, FloatTensor>> {
  const session = await createSession(encodeModel(model), { device: 'cpu', threads: 2 });
  try {
    return await session.run(feeds, fetches);
  } finally {
    await session.release();
  }
}

/** A seeded input tensor in [-1, 1). */
export function randomInput(dims: number[], seed = 123): FloatTensor {
  return { data: seeded(dims.reduce((a, b) => a * b, 1), seed), dims };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
