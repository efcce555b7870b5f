/**
 * The ONNX fuzz loop, run in a worker thread by onnx-fuzz.test.ts so that a hang (a sync infinite
 * loop) can be detected and the worker terminated: before each case the worker stores the
 * property and case index in shared memory, and the test's watchdog stops it when that stops
 * moving. Every reader must end each case with an OnnxtuneError or a valid result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { OnnxtuneError } from '../../src/errors';
import { assertModelValid, checkModel } from '../../src/onnx/check';
import { extractSubModel } from '../../src/onnx/extract';
import { modelInfo } from '../../src/onnx/info';
import { decodeModel, encodeModel, resolveExternalData } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { initTf, type Tf } from '../../src/backends/tf';
import { readWebModel } from '../../src/inference/model-file';
import { onnxToTfjs } from '../../converters/onnx-to-tfjs';
import { detectArchitecture } from '../../pretrained/detect';
import { resolveTaps } from '../../pretrained/taps';
import {
  buildModelBytes, deeplyNestedModel, fixtureBytes, graphMutationArb, modelSpecArb, mutate, mutateGraph, mutationArb,
} from './onnx-fuzz-cases';

/** What the test passes to the worker. */
export interface FuzzOptions {
  seed: number;
  /** 1 = the default 10,000+ cases. */
  scale: number;
  /** A folder with w.bin, sub/, fifo, symlinks: where external-data locations resolve. */
  modelDir: string;
  /** The MNIST encoder file, the largest fixture. */
  mnistEncoder: string;
  /** SharedArrayBuffer of 2 Int32: [property, case index] of the case being run. */
  progress: SharedArrayBuffer;
  /** Replay one case: fast-check `path` (with `property`). */
  replay?: { property: number; path: string };
  /** Fail on known gaps too (ONNXTUNE_FUZZ_STRICT=1). */
  strict?: boolean;
}

/** Property names, in run order (index = the first progress slot). */
export const PROPERTIES = ['byte mutations', 'graph mutations', 'structured models', 'deep nesting'] as const;

export interface FuzzStats {
  cases: Record<string, number>;
  /** Known-gap reader → distinct untyped error messages (digits masked) → [count, one example case]. */
  gaps: Record<string, Record<string, [number, string]>>;
  total: number;
  valid: number;
  /** Reader → [calls, typed errors]. */
  readers: Record<string, [number, number]>;
  firstRefusal: Record<string, number>;
  slowestMs: number;
  peakArrayBufferMiB: number;
  seconds: number;
}

class Refused {
  constructor(readonly target: string) {}
}

/**
 * Readers with known gaps: their untyped errors are counted and reported (with examples) instead of
 * failing the run. Remove an entry once its owner fixes it; ONNXTUNE_FUZZ_STRICT=1 ignores this list.
 */
export const KNOWN_GAPS: Readonly<Record<string, string>> = Object.freeze({});

export function runFuzz(opts: FuzzOptions): Promise<FuzzStats> {
  const progress = new Int32Array(opts.progress);
  let currentCase = '';
  const stats: FuzzStats = { cases: {}, gaps: {}, total: 0, valid: 0, readers: {}, firstRefusal: {}, slowestMs: 0, peakArrayBufferMiB: 0, seconds: 0 };
  const baseline = process.memoryUsage().arrayBuffers;

  const guard = <T>(target: string, fn: () => T): T | Refused => {
    const r = (stats.readers[target] ??= [0, 0]);
    r[0] += 1;
    try {
      return fn();
    } catch (err) {
      if (err instanceof OnnxtuneError) {
        r[1] += 1;
        return new Refused(target);
      }
      const e = err as Error;
      if (target in KNOWN_GAPS && !opts.strict) {
        const kind = `${e?.name}: ${String(e?.message).split('\n')[0].replace(/\d+/g, 'N')}`;
        const seen = ((stats.gaps[target] ??= {})[kind] ??= [0, currentCase]);
        seen[0] += 1;
        return new Refused(`${target} (known gap)`);
      }
      throw new Error(`${target} threw ${e?.name ?? typeof err} (not an OnnxtuneError): ${e?.message ?? String(err)}\n${e?.stack ?? ''}`);
    }
  };

  const tensorNames = (model: ModelProto): string[] => {
    const g = model.graph ?? {};
    const names = new Set<string>();
    for (const i of g.input ?? []) if (i.name) names.add(i.name);
    for (const n of g.node ?? []) for (const o of n.output ?? []) if (o) names.add(o);
    return [...names];
  };

  /** Every reader in the order the product uses them; returns the first refusal or 'valid'. */
  const exercise = async (property: number, bytes: Uint8Array, taps: string[], extractInputs: string[] = []): Promise<string> => {
    const t0 = performance.now();
    let first: string | undefined;
    const note = <T>(r: T | Refused): T | Refused => {
      if (r instanceof Refused && !first) first = r.target;
      return r;
    };
    const model = note(guard('decodeModel', () => decodeModel(bytes, 'fuzz.onnx')));
    if (!(model instanceof Refused)) {
      note(guard('checkModel', () => checkModel(model)));
      note(guard('assertModelValid', () => assertModelValid(model, 'fuzz.onnx')));
      note(guard('modelInfo', () => modelInfo(model)));
      const names = tensorNames(model);
      const outputs = names.length ? [names[names.length - 1], names[Math.floor(names.length / 2)]] : ['y'];
      note(guard('extractSubModel', () => extractSubModel(model, outputs, extractInputs, 'fuzz.onnx')));
      note(guard('onnxToTfjs', () => onnxToTfjs(tf, model, { label: 'fuzz.onnx' }).model.dispose()));
      const arch = note(guard('detectArchitecture', () => detectArchitecture(model)));
      // resolveTaps is async only by signature; its work (and any throw) happens synchronously.
      const taps$ = guard('resolveTaps', () => resolveTaps(model, taps, { label: 'fuzz.onnx', architecture: arch instanceof Refused ? undefined : arch ?? null }));
      if (!(taps$ instanceof Refused)) {
        try {
          await taps$;
        } catch (err) {
          if (!(err instanceof OnnxtuneError)) throw new Error(`resolveTaps rejected with ${(err as Error)?.name}: ${(err as Error)?.message}`);
          stats.readers.resolveTaps[1] += 1;
          note(new Refused('resolveTaps'));
        }
      }
      for (const t of (model.graph?.initializer ?? []).slice(0, 16)) note(guard('tensorToFloat32', () => tensorToFloat32(t)));
      const resolved = note(guard('resolveExternalData', () => resolveExternalData(model, opts.modelDir, 'fuzz.onnx')));
      if (!(resolved instanceof Refused)) {
        for (const t of (model.graph?.initializer ?? []).slice(0, 16)) note(guard('tensorToFloat32', () => tensorToFloat32(t)));
        note(guard('encodeModel', () => encodeModel(model)));
      }
    }
    // The web page's own reader, which `onnxtune eval` and `onnxtune web` use to describe a model file.
    fs.writeFileSync(caseFile, bytes);
    note(guard('readWebModel', () => readWebModel(caseFile)));
    const outcome = first ?? 'valid';
    const ms = performance.now() - t0;
    const name = PROPERTIES[property];
    stats.cases[name] = (stats.cases[name] ?? 0) + 1;
    stats.total += 1;
    if (outcome === 'valid') stats.valid += 1;
    else stats.firstRefusal[outcome] = (stats.firstRefusal[outcome] ?? 0) + 1;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    if (ms > 2000) throw new Error(`one case took ${ms.toFixed(0)} ms (limit 2000 ms): a near-hang`);
    // Checked after every case, so a failure (and fast-check's shrinking) names the case that kept the memory.
    const live = (process.memoryUsage().arrayBuffers - baseline) / 2 ** 20;
    stats.peakArrayBufferMiB = Math.max(stats.peakArrayBufferMiB, live);
    if (live > 256) throw new Error(`${live.toFixed(0)} MiB of ArrayBuffers alive after a case (limit 256 MiB)`);
    return outcome;
  };

  const caseFile = path.join(opts.modelDir, '..', 'case.onnx');
  const fixtures = [...fixtureBytes(), new Uint8Array(fs.readFileSync(opts.mnistEncoder))];
  for (const f of fixtures) {
    const problems = checkModel(decodeModel(f, 'fixture.onnx'));
    if (problems.length) throw new Error(`a fuzz fixture is not valid: ${problems.join('; ')}`);
  }

  let tf: Tf;
  const counter = [0, 0, 0, 0];
  /** Marks the case about to run (for the watchdog) and returns its index. */
  const begin = (property: number) => {
    Atomics.store(progress, 0, property);
    Atomics.store(progress, 1, counter[property]);
    currentCase = `${PROPERTIES[property]} case ${counter[property]} (property seed ${opts.seed + property})`;
    return counter[property]++;
  };
  const tapsArb = fc.constantFrom<string[]>(['relu1'], ['stage1'], ['layer1'], ['block2_pool'], ['x', 'nope']);
  const properties: Array<{ prop: fc.IAsyncProperty<never>; runs: number }> = [
    {
      prop: fc.asyncProperty(
        fc.record({ fixture: fc.nat({ max: fixtures.length - 1 }), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }), taps: tapsArb }),
        async ({ fixture, mutations, taps }) => {
          begin(0);
          await exercise(0, mutations.reduce((b, m) => mutate(b, m), fixtures[fixture]), taps);
        },
      ) as unknown as fc.IAsyncProperty<never>,
      runs: 3500,
    },
    {
      prop: fc.asyncProperty(
        fc.record({ fixture: fc.nat({ max: fixtures.length - 2 }), mutations: fc.array(graphMutationArb, { minLength: 1, maxLength: 5 }), taps: tapsArb }),
        async ({ fixture, mutations, taps }) => {
          begin(1);
          await exercise(1, mutateGraph(fixtures[fixture], mutations), taps);
        },
      ) as unknown as fc.IAsyncProperty<never>,
      runs: 3500,
    },
    {
      prop: fc.asyncProperty(modelSpecArb, async (spec) => {
        begin(2);
        await exercise(2, buildModelBytes(spec), spec.taps, spec.extractInputs);
      }) as unknown as fc.IAsyncProperty<never>,
      runs: 3000,
    },
    {
      prop: fc.asyncProperty(fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 80, max: 20000 })), fc.boolean(), async (depth, viaList) => {
        begin(3);
        const outcome = await exercise(3, deeplyNestedModel(depth, viaList), ['x']);
        if (depth > 64 && outcome !== 'decodeModel') throw new Error(`depth ${depth} was not refused by decodeModel (${outcome})`);
      }) as unknown as fc.IAsyncProperty<never>,
      runs: 150,
    },
  ];

  return (async () => {
    // The ONNX → tfjs converter builds tfjs layers: the pure-JS backend, quiet and the same everywhere.
    tf = (await initTf({ backend: 'cpu' })).tf;
    const t0 = performance.now();
    for (const [i, { prop, runs }] of properties.entries()) {
      if (opts.replay && opts.replay.property !== i) continue;
      const params: fc.Parameters<never> = opts.replay
        ? { seed: opts.seed + i, path: opts.replay.path, numRuns: 1 }
        : { seed: opts.seed + i, numRuns: Math.max(1, Math.round(runs * opts.scale)) };
      await fc.assert(prop, params);
    }
    stats.seconds = (performance.now() - t0) / 1000;
    return stats;
  })();
}

/** Worker entry: runs the fuzz with `workerData` and posts `{ ok, stats }` or `{ ok: false, message }`. */
export function workerMain(): void {
  if (isMainThread || !parentPort) throw new Error('onnx-fuzz-run: workerMain runs in a worker thread');
  const port = parentPort;
  runFuzz(workerData as FuzzOptions).then(
    (stats) => port.postMessage({ ok: true, stats }),
    (err: unknown) => {
      // fast-check keeps the property's own error as `cause`.
      const cause = (err as { cause?: unknown })?.cause;
      const message = err instanceof Error ? err.message : String(err);
      port.postMessage({ ok: false, message: cause instanceof Error ? `${message}\nCaused by: ${cause.message}` : message });
    },
  );
}
