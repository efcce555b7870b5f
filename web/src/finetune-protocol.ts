/**
 * Messages between the page and the fine-tuning worker (web/src/finetune-worker.ts). Types
 * only; shared by both sides.
 */
import type { FinetuneRecord, HeadData } from '../../pipeline/finetune/finetune';

/** Which TF.js backend trains the head: `auto` tries WebGL, then wasm (the project's training kernels), then cpu. */
export type TfBackendPreference = 'auto' | 'webgl' | 'wasm' | 'cpu';

export type ToWorker =
  | {
      type: 'start';
      /** The base model's bytes (the worker splits it again for the export). */
      model: Uint8Array;
      /** The features: in memory, or stored in IndexedDB by the page (large photo sets). */
      data:
        | { kind: 'memory'; rows: HeadData }
        | { kind: 'indexeddb'; db: string; count: number; batch: number; inputShapes: Array<[number, number, number]>; targetShape: [number, number, number] };
      steps: number;
      batchSize: number;
      lr: number;
      seed: number;
      backend: TfBackendPreference;
      /** wasm threads (1 unless the page is cross-origin isolated). */
      threads: number;
      /** URL of the folder holding TF.js's wasm files. */
      wasmBase: string;
      record: Omit<FinetuneRecord, 'steps' | 'runtime' | 'seed' | 'lr' | 'batchSize'>;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'backend'; name: string; threads: number; note: string }
  | { type: 'step'; step: number; loss: number; ms: number }
  | { type: 'done'; bytes: Uint8Array; lossBefore: number; lossAfter: number; steps: number; msPerStep: number }
  | { type: 'error'; message: string };
