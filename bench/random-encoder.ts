/**
 * Writes a copy of an ONNX encoder with every Conv re-initialized: weights seeded He-normal
 * N(0, 2/fan_in), biases 0, everything else (BatchNormalization, graph) untouched. The
 * random-init ResNet-20 of issue 12 item 5 is this script run on ../shared/models/resnet20_cifar10.onnx:
 * its taps' activation scales (std 2–20) are far from the trained net's (≈ 1), which is what
 * decoder.normalize_taps guards against.
 *
 *   node dist/bench/random-encoder.js [--in FILE] [--out FILE] [--seed N]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, saveModel } from '../src/onnx/model-io';
import type { ModelProto } from '../src/onnx/proto';
import { floatTensor, tensorDims } from '../src/onnx/tensor';
import { forkRng } from '../src/random';
import { ArgCursor, sharedDir } from './cli';

/**
 * Re-initializes, in place, every Conv whose weight (and bias) are initializers.
 * @returns how many Conv weights were replaced
 */
export function randomizeConvs(model: ModelProto, seed: number): number {
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t, i) => [t.name as string, i]));
  let replaced = 0;
  (graph.node ?? []).forEach((node, k) => {
    if (node.opType !== 'Conv') return;
    const [, wName, bName] = node.input ?? [];
    const wAt = inits.get(wName);
    if (wAt === undefined) return;
    const dims = tensorDims(graph.initializer![wAt]);
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
    const rng = forkRng(seed, 'he-normal', k);
    const std = Math.sqrt(2 / fanIn);
    const w = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < w.length; i++) w[i] = rng.normal(0, std);
    graph.initializer![wAt] = floatTensor(wName, dims, w);
    const bAt = bName ? inits.get(bName) : undefined;
    if (bAt !== undefined) graph.initializer![bAt] = floatTensor(bName, tensorDims(graph.initializer![bAt]), new Float32Array(dims[0]));
    replaced += 1;
  });
  return replaced;
}

function main(): void {
  const args = new ArgCursor(process.argv.slice(2));
  let input = path.join(sharedDir(), 'models', 'resnet20_cifar10.onnx');
  let output = path.resolve('runs', 'random-encoders', 'resnet20_random_he.onnx');
  let seed = 0;
  for (let flag = args.next(); flag !== undefined; flag = args.next()) {
    if (flag === '--in') input = args.value(flag);
    else if (flag === '--out') output = args.value(flag);
    else if (flag === '--seed') seed = args.number(flag);
    else throw new Error(`unknown flag ${flag}; expected --in, --out, --seed`);
  }
  if (path.resolve(output).startsWith(path.resolve(sharedDir()) + path.sep)) throw new Error(`refusing to write into ${sharedDir()} (read-only data)`);
  const model = loadModel(input);
  const n = randomizeConvs(model, seed);
  fs.mkdirSync(path.dirname(output), { recursive: true });
  saveModel(model, output);
  console.log(`${output}: ${n} Conv weights re-drawn He-normal N(0, 2/fan_in) (seed ${seed}), biases 0, from ${input}`);
}

if (process.argv[1] && /random-encoder\.(js|ts)$/.test(process.argv[1])) main();
