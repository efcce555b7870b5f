/**
 * Checks a quantized model against its float source in onnxruntime-node: the output difference
 * on given inputs, and how many Convs onnxruntime actually runs on int8 (QLinearConv in the
 * graph it optimizes), which is what makes the model faster, not the Q/DQ nodes themselves.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, type FloatTensor } from '../../src/backends/ort';
import { encodeModel, loadModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';

/** Op types onnxruntime's optimized graph holds, counted. */
export async function optimizedOpCounts(model: ModelProto, threads = 1): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxtune-opt-'));
  try {
    const file = path.join(dir, 'optimized.onnx');
    const s = await createSession(encodeModel(model), { device: 'cpu', threads, optimizedModelPath: file, label: 'quantized model' });
    await s.release();
    const counts: Record<string, number> = {};
    for (const n of loadModel(file).graph?.node ?? []) counts[n.opType ?? ''] = (counts[n.opType ?? ''] ?? 0) + 1;
    return counts;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Output difference of two models on the same inputs. */
export interface OutputDiff {
  maxAbs: number;
  meanAbs: number;
  /** Values compared (all outputs of all feeds). */
  count: number;
}

/** max / mean |a − b| over every output of both models on every feed. */
export async function compareOutputs(a: ModelProto, b: ModelProto, feeds: readonly Record<string, FloatTensor>[]): Promise<OutputDiff> {
  const [sa, sb] = [await createSession(encodeModel(a), { device: 'cpu', label: 'float model' }), await createSession(encodeModel(b), { device: 'cpu', label: 'quantized model' })];
  try {
    let maxAbs = 0;
    let sum = 0;
    let count = 0;
    for (const feed of feeds) {
      const [oa, ob] = [await sa.run(feed), await sb.run(feed)];
      for (const [name, t] of Object.entries(oa)) {
        const u = ob[name].data;
        for (let i = 0; i < t.data.length; i++) {
          const d = Math.abs(t.data[i] - u[i]);
          if (d > maxAbs) maxAbs = d;
          sum += d;
        }
        count += t.data.length;
      }
    }
    return { maxAbs, meanAbs: count ? sum / count : 0, count };
  } finally {
    await sa.release();
    await sb.release();
  }
}
