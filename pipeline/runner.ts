/**
 * Runs a job's stages in order inside one run directory. Each finished stage has
 * `<run>/<stage>/{run.json, DONE, artifacts…}`; its key hashes the stage version, its config
 * slice and its parents' keys. A rerun with --resume loads finished stages whose key still
 * matches, redoes crash leftovers, and refuses (rather than silently redoing or reusing) a
 * finished stage whose key changed unless --from asks for it; replaced folders are kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { loadYamlWithSchema, parseYamlWithSchema } from '../src/config/load-yaml';
import type { ConfigPath } from '../src/config/format-issues';
import { NODE_PATHS } from '../src/config/node-paths';
import { jobSchema, type JobConfig } from '../src/config/schema';
import { ConfigError, InputError, OnnxtuneError, StageError } from '../src/errors';
import { fsyncDir, readJson, writeFileAtomic, writeJsonAtomic } from '../src/io/atomic';
import { canonicalJson, sha256 } from '../src/io/hash';
import { addFileSink } from '../src/io/log-file';
import { RUN_JOB_FILE, reportRunDir } from '../src/io/run-dir-report';
import { log } from '../src/log';
import { toolVersions } from '../src/version';
import { preflight } from './preflight';
import { writeRunReport } from './report';
import { STAGES, getStage } from './stages';
import { STAGE_NAMES, type StageName, type StageRecord, type StageSummary } from './types';

export interface RunJobOptions {
  /** The YAML job file (required unless `resume` is given). */
  jobFile?: string;
  /** `dotted.path=value` overrides (CLI --set). */
  overrides?: string[];
  /** Run directory to create; default `<runsRoot>/<job name>-<timestamp>`. */
  outDir?: string;
  /** Parent folder of new run directories (default `runs`). */
  runsRoot?: string;
  /** An existing run directory to continue. */
  resume?: string;
  /** Redo this stage and every stage after it (the old folders are kept as `<stage>.replaced-<key>`). */
  from?: StageName;
  /** Stop after this stage. */
  until?: StageName;
}

export interface RunJobResult {
  runDir: string;
  job: JobConfig;
  executed: StageName[];
  loaded: StageName[];
  summaries: Partial<Record<StageName, StageSummary>>;
}


function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

type ErrorAt = (p: ConfigPath, problem: string) => ConfigError;

/** Reads and validates a job file (what loadJobConfig does), keeping `errorAt` to point later problems at its lines. */
function loadJob(file: string, overrides: string[] | undefined): { job: JobConfig; errorAt: ErrorAt } {
  const abs = path.resolve(file);
  const r = loadYamlWithSchema(abs, jobSchema(path.dirname(abs), NODE_PATHS), { overrides });
  return { job: r.value, errorAt: r.errorAt };
}

/** Loads the job for a new run or the stored job of a resumed one (with overrides applied). */
function resolveJob(opts: RunJobOptions): { job: JobConfig; runDir: string; isNew: boolean; errorAt: ErrorAt } {
  if (opts.resume) {
    const runDir = path.resolve(opts.resume);
    const stored = path.join(runDir, RUN_JOB_FILE);
    if (!fs.existsSync(stored)) {
      throw new InputError(runDir, `not an onnxtune run directory (no ${RUN_JOB_FILE}); pass the folder printed by 'onnxtune run'`);
    }
    if (opts.jobFile) return { ...loadJob(opts.jobFile, opts.overrides), runDir, isNew: false };
    const r = parseYamlWithSchema(fs.readFileSync(stored, 'utf8'), stored, jobSchema(runDir, NODE_PATHS), { overrides: opts.overrides });
    return { job: r.value, errorAt: r.errorAt, runDir, isNew: false };
  }
  if (!opts.jobFile) throw new ConfigError('<command line>', '', 'a job file is required (or --resume DIR)');
  const { job, errorAt } = loadJob(opts.jobFile, opts.overrides);
  const runDir = path.resolve(opts.outDir ?? path.join(opts.runsRoot ?? 'runs', `${job.name}-${stamp()}`));
  // Temp files of an interrupted atomic write are not results: a run killed before it wrote its job.yaml can be restarted.
  if (fs.existsSync(runDir) && fs.readdirSync(runDir).some((f) => !f.startsWith('.tmp-'))) {
    throw new InputError(runDir, 'run directory exists and is not empty; use --resume to continue it or choose another --out');
  }
  return { job, runDir, isNew: true, errorAt };
}

/** Removes temp files that a killed atomic write left in the run directory itself (stage temp folders are handled per stage). */
function removeTempFiles(runDir: string): void {
  for (const e of fs.readdirSync(runDir, { withFileTypes: true })) {
    if (e.isFile() && e.name.startsWith('.tmp-')) fs.rmSync(path.join(runDir, e.name), { force: true });
  }
}

/** `encoder.taps[1]` → ['encoder', 'taps', 1]. */
function parseConfigPath(p: string): ConfigPath {
  return p.split('.').flatMap((seg) => {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(seg);
    if (!m) return [seg];
    const idx = [...m[2].matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    return [...(m[1] ? [m[1]] : []), ...idx];
  });
}

/**
 * Preflight finds some job problems only by opening the encoder (a tap that is not in the graph, a
 * registry entry that does not match): it reports them against the model file. Point them at
 * the job file's line instead (`job.yaml:12:5 encoder.taps[0]: …`), naming the model in the problem.
 */
function locateInJob(err: unknown, errorAt: ErrorAt): unknown {
  if (!(err instanceof ConfigError) || !err.path || err.location) return err;
  const problem = err.problem.includes(err.file) ? err.problem : `${err.problem} (${err.file})`;
  return errorAt(parseConfigPath(err.path), problem);
}

function stageKey(name: StageName, job: JobConfig, parentKeys: Record<string, string>): string {
  const stage = getStage(name);
  return sha256(
    canonicalJson({
      stage: name,
      version: stage.version,
      config: stage.configSlice(job),
      external: stage.externalKey?.(job) ?? null,
      parents: parentKeys,
    }),
  ).slice(0, 12);
}

/** Dotted paths whose values differ between two config slices: `decoder.normalize_taps: (absent) → true`. */
export function configChanges(before: unknown, after: unknown, at = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].sort().flatMap((k) => configChanges(before[k], after[k], at ? `${at}.${k}` : k));
  }
  if (canonicalJson(before ?? null) === canonicalJson(after ?? null) && (before === undefined) === (after === undefined)) return [];
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return [`${at || '(config)'}: ${show(before)} → ${show(after)}`];
}

/** Why a finished stage's key differs, from its run.json (older runs may lack fields added since). */
function keyChangeReason(dir: string, name: StageName, job: JobConfig, parents: Record<string, string>): string {
  const file = path.join(dir, 'run.json');
  if (!fs.existsSync(file)) return '';
  const old = readJson<Partial<StageRecord>>(file);
  const why: string[] = [];
  const stage = getStage(name);
  if (old.version !== undefined && old.version !== stage.version) why.push(`stage version ${old.version} → ${stage.version}`);
  why.push(...configChanges(old.config, stage.configSlice(job)));
  for (const [p, k] of Object.entries(parents)) if (old.parents && old.parents[p] !== k) why.push(`input stage ${p} changed`);
  if (!why.length) return '';
  const added = why.some((w) => w.includes('(absent) →'));
  return `; changed: ${why.join(', ')}${added ? ' (a field added since this run was made takes its default)' : ''}`;
}

function readDoneKey(dir: string): string | undefined {
  const done = path.join(dir, 'DONE');
  if (!fs.existsSync(done)) return undefined;
  return fs.readFileSync(done, 'utf8').trim();
}

/** Moves a finished stage folder aside (never deletes finished work). */
function replaceAside(dir: string, key: string): string {
  let target = `${dir}.replaced-${key}`;
  for (let i = 2; fs.existsSync(target); i++) target = `${dir}.replaced-${key}-${i}`;
  fs.renameSync(dir, target);
  return target;
}

interface PlannedStage {
  name: StageName;
  key: string;
  parents: Record<string, string>;
  action: 'load' | 'run' | 'redo';
  oldKey?: string;
}

/** Decides, before anything is written, which stages load, run or are redone; refuses stale results. */
function plan(job: JobConfig, runDir: string, opts: RunJobOptions): PlannedStage[] {
  const keys: Partial<Record<StageName, string>> = {};
  const fromIdx = opts.from ? STAGE_NAMES.indexOf(opts.from) : Infinity;
  const untilIdx = opts.until ? STAGE_NAMES.indexOf(opts.until) : STAGE_NAMES.length - 1;
  const steps: PlannedStage[] = [];
  for (const stage of STAGES) {
    const idx = STAGE_NAMES.indexOf(stage.name);
    if (idx > untilIdx) break;
    const parents: Record<string, string> = {};
    for (const p of stage.inputs) parents[p] = keys[p] as string;
    const key = stageKey(stage.name, job, parents);
    keys[stage.name] = key;
    const doneKey = readDoneKey(path.join(runDir, stage.name));
    if (doneKey === undefined) {
      steps.push({ name: stage.name, key, parents, action: 'run' });
    } else if (idx >= fromIdx) {
      steps.push({ name: stage.name, key, parents, action: 'redo', oldKey: doneKey });
    } else if (doneKey === key) {
      steps.push({ name: stage.name, key, parents, action: 'load' });
    } else {
      throw new ConfigError(
        path.join(runDir, RUN_JOB_FILE),
        '',
        `stage ${stage.name} was finished with a different configuration (key ${doneKey}, now ${key})` +
          `${keyChangeReason(path.join(runDir, stage.name), stage.name, job, parents)}; ` +
          `use --from ${stage.name} to redo it and the stages after it (the old results are kept aside)`,
      );
    }
  }
  return steps;
}

/**
 * Runs (or resumes) a job.
 * @throws ConfigError/InputError before any stage runs (nothing in the run directory changes);
 *   StageError when a stage fails (finished stages stay as they are).
 */
export async function runJob(opts: RunJobOptions): Promise<RunJobResult> {
  const { job, runDir, isNew, errorAt } = resolveJob(opts);
  try {
    await preflight(job);
  } catch (err) {
    throw locateInJob(err, errorAt);
  }
  const steps = plan(job, runDir, opts);

  fs.mkdirSync(runDir, { recursive: true });
  removeTempFiles(runDir);
  // The resolved job (absolute paths, defaults filled) is what --resume reads back. It is written
  // before anything else, so a kill at any point leaves either a resumable run or nothing but temp files.
  try {
    writeFileAtomic(path.join(runDir, RUN_JOB_FILE), YAML.stringify(job));
  } catch (err) {
    throw new OnnxtuneError('E_IO', `cannot write ${path.join(runDir, RUN_JOB_FILE)}: ${failureMessage(err, runDir)}`, { cause: err });
  }
  // Resumable from here: a supervisor retrying after a native crash continues this run.
  reportRunDir(runDir);
  const closeLog = addFileSink(path.join(runDir, 'log.txt'));
  try {
    log.info(`${isNew ? 'Run' : 'Resuming run'} ${runDir}`);
    const result: RunJobResult = { runDir, job, executed: [], loaded: [], summaries: {} };
    for (const step of steps) {
      const finalDir = path.join(runDir, step.name);
      if (step.action === 'load') {
        log.info(`Loaded stage ${step.name} from the run directory (key ${step.key})`);
        result.loaded.push(step.name);
        result.summaries[step.name] = readJson<StageRecord>(path.join(finalDir, 'run.json')).summary;
        continue;
      }
      if (step.action === 'redo') {
        const aside = replaceAside(finalDir, step.oldKey as string);
        log.info(`Stage ${step.name}: previous results moved to ${path.basename(aside)}`);
      } else if (fs.existsSync(finalDir)) {
        // A folder without DONE is a crash leftover from between rename and DONE: never trusted.
        fs.rmSync(finalDir, { recursive: true, force: true });
      }
      result.summaries[step.name] = await executeStage(step.name, job, runDir, step.key, step.parents);
      result.executed.push(step.name);
    }
    try {
      await writeRunReport(runDir);
    } catch (err) {
      // The report is a convenience view of finished artifacts; its failure never fails the run.
      log.warn(`could not write ${path.join(runDir, 'report.html')}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return result;
  } finally {
    closeLog();
  }
}

/** The errno code of `err` or of an error in its `cause` chain (a stage may wrap the fs error). */
function errnoCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** A failure's message; a full disk says what is kept and how to continue. */
function failureMessage(err: unknown, runDir: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return `the disk is full (${message}); finished stages and the last training checkpoint are kept in ${runDir}. ` +
      `Free some space, then continue with: onnxtune run --resume ${runDir}`;
  }
  return message;
}

async function executeStage(
  name: StageName,
  job: JobConfig,
  runDir: string,
  key: string,
  parents: Record<string, string>,
): Promise<StageSummary> {
  const stage = getStage(name);
  const finalDir = path.join(runDir, name);
  const tmpDir = path.join(runDir, `.tmp-${name}`);
  const workDir = path.join(runDir, `.work-${name}-${key}`);
  fs.rmSync(tmpDir, { recursive: true, force: true });
  fs.mkdirSync(tmpDir, { recursive: true });
  if (!stage.resumable) fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });

  const inputs: Partial<Record<StageName, string>> = {};
  for (const p of stage.inputs) inputs[p] = path.join(runDir, p);
  const record: StageRecord = {
    stage: name,
    version: stage.version,
    key,
    parents,
    config: stage.configSlice(job),
    status: 'done',
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    versions: toolVersions(),
    summary: {},
  };
  log.info(`Running stage ${name} (key ${key}): ${stage.description}`);
  const t0 = performance.now();
  try {
    record.summary = await stage.run({ job, runDir, outDir: tmpDir, workDir, inputs });
    record.wallSeconds = (performance.now() - t0) / 1000;
    // Commit: run.json, then the folder rename, then DONE; a kill in between leaves a folder without DONE (redone).
    writeJsonAtomic(path.join(tmpDir, 'run.json'), record);
    fs.renameSync(tmpDir, finalDir);
    writeFileAtomic(path.join(finalDir, 'DONE'), key + '\n');
    fsyncDir(runDir);
  } catch (err) {
    record.status = 'failed';
    record.wallSeconds = (performance.now() - t0) / 1000;
    record.error = failureMessage(err, runDir);
    try {
      writeJsonAtomic(path.join(runDir, `${name}.failed.json`), record);
    } catch {
      // On a full disk the failure record cannot be written either; the error below still says what happened.
    }
    if (err instanceof StageError) throw err;
    throw new StageError(name, record.error, { cause: err });
  }
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.rmSync(path.join(runDir, `${name}.failed.json`), { force: true });
  log.info(`Stage ${name} finished in ${record.wallSeconds.toFixed(1)} s`);
  return record.summary;
}
