/**
 * The training log as JSON lines (Node: a file, appended and fsynced at epoch ends): the
 * `JsonlLogger` callback that the train stage adds (`train/metrics.jsonl`) and `readJsonl`,
 * which the report and the resume tests read it with. A resume truncates the log to the
 * checkpoint's step, so a killed and resumed run logs exactly what an uninterrupted one does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic';
import { Callback, type Logs } from './callbacks';

/** One line of `metrics.jsonl`. */
export interface MetricsRecord {
  event: 'batch' | 'epoch' | 'end';
  epoch: number;
  step: number;
  time: number;
  [key: string]: unknown;
}

/**
 * Appends one JSON object per line to `file`: a `batch` record every `every` global steps and an
 * `epoch` record at each epoch end. A fresh start empties the file; a resume drops the records
 * after the checkpoint's step (they will be written again), so the log has no duplicates.
 */
export class JsonlLogger extends Callback {
  private fd: number | undefined;

  constructor(readonly file: string, readonly every = 10) {
    super();
  }

  override async onTrainBegin(_logs: Logs = {}): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const at = this.trainer.resumedAtStep;
    let keep = '';
    if (at !== null && fs.existsSync(this.file)) {
      keep = readJsonl(this.file)
        .filter((r) => r.step <= at && r.event !== 'end')
        .map((r) => JSON.stringify(r) + '\n')
        .join('');
    }
    // Atomic: a kill here must leave the previous log whole, never an empty file.
    writeFileAtomic(this.file, keep);
    this.fd = fs.openSync(this.file, 'a');
  }

  private write(rec: MetricsRecord): void {
    if (this.fd !== undefined) fs.writeSync(this.fd, JSON.stringify(rec) + '\n');
  }

  override async onBatchEnd(_step: number, logs: Logs): Promise<void> {
    const t = this.trainer;
    if (t.globalStep % this.every !== 0) return;
    this.write({ event: 'batch', epoch: t.epoch + 1, step: t.globalStep, time: Date.now() / 1000, loss: logs.loss, lr: logs.lr });
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const t = this.trainer;
    this.write({ event: 'epoch', epoch: epoch + 1, step: t.globalStep, time: Date.now() / 1000, ...logs });
    if (this.fd !== undefined) fs.fsyncSync(this.fd);
  }

  override async onTrainEnd(_logs: Logs = {}): Promise<void> {
    const t = this.trainer;
    this.write({ event: 'end', epoch: t.epoch, step: t.globalStep, time: Date.now() / 1000, stopped_early: t.stopTraining ? 1 : 0 });
  }

  override async close(): Promise<void> {
    if (this.fd === undefined) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Reads a metrics.jsonl file (a torn last line from a crash is ignored). */
export function readJsonl(file: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch {
      break;
    }
  }
  return out;
}
