/**
 * The fine-tuning features in IndexedDB, for photo sets whose encoder features would not fit in
 * memory comfortably: the main thread writes each encoded batch as it comes (one record per
 * batch), and the worker reads the rows of each training step back. Works in pages and workers.
 */
import type { RowBatch, RowSink, RowSource } from '../../pipeline/finetune/finetune';

const STORE = 'batches';

interface StoredBatch {
  start: number;
  n: number;
  inputs: Float32Array[];
  target: Float32Array;
}

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });

/** Opens (creating) the feature database `name`. */
export function openFeatureDb(name: string): Promise<IDBDatabase> {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'start' });
  return request(r);
}

/** A sink that stores each encoded batch as one record (keyed by its first row), and clears old ones first. */
export async function featureDbSink(name: string): Promise<{ sink: RowSink; close(): void }> {
  const db = await openFeatureDb(name);
  await request(db.transaction(STORE, 'readwrite').objectStore(STORE).clear());
  return {
    sink: async (start, n, batch) => {
      const record: StoredBatch = { start, n, inputs: batch.inputs, target: batch.target };
      await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(record));
    },
    close: () => db.close(),
  };
}

/** Deletes the feature database `name`. */
export function deleteFeatureDb(name: string): Promise<void> {
  return request(indexedDB.deleteDatabase(name)).then(() => undefined);
}

/**
 * Rows stored by {@link featureDbSink} as a {@link RowSource}: a step reads the batches its rows
 * fall in (one transaction) and gathers the rows.
 * @param batch the batch size the sink was fed with (rows `k·batch …` live in record `k·batch`)
 */
export async function featureDbRows(
  name: string, count: number, batch: number, inputShapes: Array<[number, number, number]>, targetShape: [number, number, number],
): Promise<RowSource & { close(): void }> {
  const db = await openFeatureDb(name);
  const size = (s: [number, number, number]) => s[0] * s[1] * s[2];
  return {
    count,
    inputShapes,
    targetShape,
    close: () => db.close(),
    async read(rows): Promise<RowBatch> {
      const store = db.transaction(STORE, 'readonly').objectStore(STORE);
      const keys = [...new Set(rows.map((r) => Math.floor(r / batch) * batch))];
      const records = new Map<number, StoredBatch>();
      await Promise.all(keys.map(async (k) => records.set(k, (await request(store.get(k))) as StoredBatch)));
      const gather = (pick: (b: StoredBatch) => Float32Array, rowSize: number) => {
        const out = new Float32Array(rows.length * rowSize);
        rows.forEach((r, i) => {
          const rec = records.get(Math.floor(r / batch) * batch)!;
          const off = (r - rec.start) * rowSize;
          out.set(pick(rec).subarray(off, off + rowSize), i * rowSize);
        });
        return out;
      };
      return {
        inputs: inputShapes.map((s, i) => gather((b) => b.inputs[i], size(s))),
        target: gather((b) => b.target, size(targetShape)),
      };
    },
  };
}
