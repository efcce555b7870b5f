/**
 * Training callbacks driven by hand-made logs (tfjs callbacks_test style), not by training:
 * History, EarlyStopping, LrScheduler (schedules, warm-up, plateau), JsonlLogger (resume
 * truncation), ProgressBar (plain lines), CallbackList order and close-on-error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Callback, CallbackList, EarlyStopping, History, LrScheduler, ProgressBar, type Logs, type TrainerHandle,
} from '../../pipeline/train/callbacks';
import { JsonlLogger, readJsonl } from '../../pipeline/train/jsonl-logger';
import { lrAt, warmupFactor } from '../../pipeline/train/schedules';
import { trainSchema } from '../../src/config/schema';
import { getLogLevel, setConsoleSink, setLogLevel } from '../../src/log';
import { tmpDir } from '../helpers/tmp';

/** A trainer handle without a model: enough for callbacks that only read the position. */
function handle(over: Partial<TrainerHandle> = {}): TrainerHandle {
  const opt = { lr: 0 };
  return {
    cfg: trainSchema.parse({ epochs: 5, batch_size: 4 }), stepsPerEpoch: 10, stopTraining: false, epoch: 0, step: 0, globalStep: 0,
    epochLossSum: 0, epochSeen: 0, resumedAtStep: null, callbacks: [], seed: 1, optimizer: opt, ...over,
  } as unknown as TrainerHandle;
}

const epochLogs = (loss: number, val: number | null = null): Logs => ({ loss, val_loss: val, val_psnr: null, lr: 0.1, seconds: 1, samples_per_second: 10 });

describe('History', () => {
  it('records one entry per epoch and survives a save/load round trip', async () => {
    const h = new History();
    const t = handle();
    h.setTrainer(t);
    t.globalStep = 10;
    await h.onEpochEnd(0, epochLogs(0.5, 0.6));
    t.globalStep = 20;
    await h.onEpochEnd(1, { ...epochLogs(0.4), val_psnr: 21.5 });
    expect(h.epochs).toEqual([
      { epoch: 1, step: 10, loss: 0.5, valLoss: 0.6, valPsnr: null, lr: 0.1, seconds: 1, samplesPerSecond: 10 },
      { epoch: 2, step: 20, loss: 0.4, valLoss: null, valPsnr: 21.5, lr: 0.1, seconds: 1, samplesPerSecond: 10 },
    ]);
    const copy = new History();
    copy.loadState(JSON.parse(JSON.stringify(h.saveState())));
    expect(copy.epochs).toEqual(h.epochs);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without an improvement of at least minDelta', async () => {
    const es = new EarlyStopping({ patience: 2, minDelta: 0.01, restoreBest: false });
    const t = handle();
    es.setTrainer(t);
    const vals = [1.0, 0.9, 0.895, 0.891];
    for (const [i, v] of vals.entries()) {
      await es.onEpochEnd(i, epochLogs(5, v));
      if (t.stopTraining) break;
    }
    expect(es.bestEpoch).toBe(1);
    expect(es.best).toBe(0.9);
    expect(es.wait).toBe(2);
    expect(t.stopTraining).toBe(true);
    expect(es.stopped).toBe(true);
  });

  it('monitors the training loss when there is no validation split', async () => {
    const es = new EarlyStopping({ patience: 1, restoreBest: false });
    const t = handle();
    es.setTrainer(t);
    await es.onEpochEnd(0, epochLogs(0.3));
    await es.onEpochEnd(1, epochLogs(0.2));
    expect(t.stopTraining).toBe(false);
    await es.onEpochEnd(2, epochLogs(0.25));
    expect(t.stopTraining).toBe(true);
    expect(es.bestEpoch).toBe(1);
  });

  it('a loaded state that had stopped keeps the trainer stopped', () => {
    const es = new EarlyStopping({ patience: 1 });
    const t = handle();
    es.setTrainer(t);
    es.loadState({ json: { best: 0.1, bestEpoch: 2, wait: 1, stopped: true, lastEpoch: 3 }, arrays: [] });
    expect(t.stopTraining).toBe(true);
  });
});

describe('LrScheduler', () => {
  const sched = (over: Record<string, unknown>) => trainSchema.parse({ lr_schedule: over }).lr_schedule;

  it('step, exponential and cosine follow their formulas per epoch', () => {
    expect([0, 1, 2, 3, 4].map((e) => lrAt(sched({ type: 'step', step_size: 2, gamma: 0.1 }), 1, e, 5))).toEqual([1, 1, 0.1, 0.1, 0.1 ** 2]);
    expect([0, 1, 2].map((e) => lrAt(sched({ type: 'exponential', gamma: 0.5 }), 2, e, 3))).toEqual([2, 1, 0.5]);
    const cos = [0, 1, 2].map((e) => lrAt(sched({ type: 'cosine', min_lr: 0.1 }), 1.1, e, 3));
    expect(cos).toBeCloseToArray([1.1, 0.6, 0.1], { atol: 1e-12 });
    expect(lrAt(sched({ type: 'none' }), 3, 7, 9)).toBe(3);
  });

  it('warms up linearly over the first N global steps, then applies the schedule', async () => {
    const s = new LrScheduler(sched({ type: 'step', step_size: 1, gamma: 0.5, warmup_steps: 4 }), 0.8, 3);
    const t = handle();
    s.setTrainer(t);
    const seen: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      await s.onEpochBegin(epoch);
      for (let k = 0; k < 3; k++) {
        await s.onBatchBegin();
        seen.push(t.optimizer.lr);
        t.globalStep += 1;
      }
    }
    expect(seen).toBeCloseToArray([0.2, 0.4, 0.6, 0.8 * 0.5, 0.4, 0.4], { atol: 1e-12 });
    expect(warmupFactor({ warmup_steps: 0 }, 0)).toBe(1);
  });

  it("'plateau' cuts the lr by gamma after `patience` epochs without improvement, not below min_lr", async () => {
    const s = new LrScheduler(sched({ type: 'plateau', patience: 2, gamma: 0.1, min_lr: 0.002 }), 1, 10);
    const t = handle();
    s.setTrainer(t);
    const lrs: number[] = [];
    const vals = [1, 0.9, 0.95, 0.93, 0.92, 0.91, 0.91, 0.91, 0.91];
    for (const [e, v] of vals.entries()) {
      await s.onEpochBegin(e);
      await s.onBatchBegin();
      lrs.push(t.optimizer.lr);
      await s.onEpochEnd(e, epochLogs(9, v));
    }
    expect(lrs).toBeCloseToArray([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01, 0.002], { atol: 1e-12 });
    const copy = new LrScheduler(s.schedule, 1, 10);
    copy.loadState(JSON.parse(JSON.stringify(s.saveState())));
    expect(copy.lrFor(9, 100)).toBe(s.lrFor(9, 100));
  });
});

describe('JsonlLogger', () => {
  it('writes batch records every N steps and epoch records, and a resume drops the records after its step', async () => {
    const file = path.join(tmpDir(), 'sub', 'metrics.jsonl');
    const drive = async (from: number, to: number, resumedAtStep: number | null) => {
      const t = handle({ globalStep: from, resumedAtStep });
      const cb = new JsonlLogger(file, 2);
      cb.setTrainer(t);
      await cb.onTrainBegin({});
      for (let s = from + 1; s <= to; s++) {
        t.globalStep = s;
        t.epoch = Math.floor((s - 1) / 3);
        await cb.onBatchEnd(s - 1, { loss: s, lr: 1 });
        if (s % 3 === 0) await cb.onEpochEnd(t.epoch, epochLogs(s));
      }
      await cb.onTrainEnd({});
      await cb.close();
    };
    await drive(0, 5, null);
    await drive(3, 6, 3);
    const recs = readJsonl(file);
    expect(recs.map((r) => `${r.event}@${r.step}`)).toEqual(['batch@2', 'epoch@3', 'batch@4', 'batch@6', 'epoch@6', 'end@6']);
    expect(recs[1]).toMatchObject({ event: 'epoch', epoch: 1, loss: 3, val_loss: null });
  });

  it('ignores a torn last line (a crash while writing)', () => {
    const file = path.join(tmpDir(), 'm.jsonl');
    fs.writeFileSync(file, '{"event":"batch","epoch":1,"step":1,"time":0}\n{"event":"ba');
    expect(readJsonl(file)).toHaveLength(1);
  });
});

describe('ProgressBar', () => {
  it('prints plain progress lines and an epoch summary when stderr is not a terminal', async () => {
    const lines: string[] = [];
    const restore = setConsoleSink((_l, line) => lines.push(line));
    const level = getLogLevel();
    setLogLevel('info');
    const ci = process.env.CI;
    process.env.CI = 'true';
    try {
      const t = handle({ stepsPerEpoch: 4 });
      const bar = new ProgressBar('ep');
      bar.setTrainer(t);
      await bar.onEpochBegin(0);
      for (let s = 1; s <= 4; s++) {
        t.step = s;
        t.epochLossSum += 0.5 * 4;
        t.epochSeen += 4;
        await bar.onBatchEnd(s - 1, { loss: 0.5, lr: 0.01 });
      }
      await bar.onEpochEnd(0, { ...epochLogs(0.5, 0.25), val_psnr: 20 });
      await bar.close();
    } finally {
      restore();
      setLogLevel(level);
      process.env.CI = ci;
      if (ci === undefined) delete process.env.CI;
    }
    expect(lines.filter((l) => /^ep 1\/5 \d\/4 steps, loss 0\.50000, [\d.]+ steps\/s \(\d+ samples\/s\), ETA \d+ s$/.test(l))).toHaveLength(3);
    expect(lines[lines.length - 1]).toMatch(/^ep 1\/5: loss 0\.50000, val_loss 0\.25000, val_psnr 20\.00 dB, lr 1\.00e-1, 1\.0 s \(10 samples\/s\)$/);
  });
});

describe('CallbackList', () => {
  it('calls hooks in order and closes every callback even when one close fails', async () => {
    const calls: string[] = [];
    class Rec extends Callback {
      constructor(readonly id: string, readonly failClose = false) {
        super();
      }
      override async onEpochEnd(epoch: number): Promise<void> {
        calls.push(`${this.id}:end${epoch}`);
      }
      override async close(): Promise<void> {
        calls.push(`${this.id}:close`);
        if (this.failClose) throw new Error(`close ${this.id}`);
      }
    }
    const list = new CallbackList([new Rec('a', true), new Rec('b')]);
    list.setTrainer(handle());
    await list.onTrainBegin();
    await list.onEpochEnd(0, {});
    await expect(list.close()).rejects.toThrow('close a');
    expect(calls).toEqual(['a:end0', 'b:end0', 'a:close', 'b:close']);
  });
});
