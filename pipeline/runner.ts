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
import { parseYamlWithSchema } from '../src/config/load-yaml';
import { loadJobConfig } from '../src/config/load';
import { jobSchema, type JobConfig } from '../src/config/schema';
import { ConfigError, InputError, OnnxtuneError, StageError } from '../src/errors';
import { fsyncDir, readJson, writeFileAtomic, writeJsonAtomic } from '../src/io/atomic';
import { canonicalJson, sha256 } from '../src/io/hash';
import { addFileSink, log } from '../src/log';
import { toolVersions } from '../src/version';
import { preflight } from './preflight';
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

const JOB_FILE = 'job.yaml';

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Loads the job for a new run or the stored job of a resumed one (with overrides applied). */
function resolveJob(opts: RunJobOptions): { job: JobConfig; runDir: string; isNew: boolean } {
  if (opts.resume) {
    const runDir = path.resolve(opts.resume);
    const stored = path.join(runDir, JOB_FILE);
    if (!fs.existsSync(stored)) {
      throw new InputError(runDir, `not an onnxtune run directory (no ${JOB_FILE}); pass the folder printed by 'onnxtune run'`);
    }
    const job = opts.jobFile
      ? loadJobConfig(opts.jobFile, { overrides: opts.overrides })
      : parseYamlWithSchema(fs.readFileSync(stored, 'utf8'), stored, jobSchema(runDir), { overrides: opts.overrides }).value;
    return { job, runDir, isNew: false };
  }
  if (!opts.jobFile) throw new ConfigError('<command line>', '', 'a job file is required (or --resume DIR)');
  const job = loadJobConfig(opts.jobFile, { overrides: opts.overrides });
  const runDir = path.resolve(opts.outDir ?? path.join(opts.runsRoot ?? 'runs', `${job.name}-${stamp()}`));
  if (fs.existsSync(runDir) && fs.readdirSync(runDir).length > 0) {
    throw new InputError(runDir, 'run directory exists and is not empty; use --resume to continue it or choose another --out');
  }
  return { job, runDir, isNew: true };
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
        path.join(runDir, JOB_FILE),
        '',
        `stage ${stage.name} was finished with a different configuration (key ${doneKey}, now ${key}); ` +
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
  const { job, runDir, isNew } = resolveJob(opts);
  await preflight(job);
  const steps = plan(job, runDir, opts);

  fs.mkdirSync(runDir, { recursive: true });
  const closeLog = addFileSink(path.join(runDir, 'log.txt'));
  try {
    // The resolved job (absolute paths, defaults filled) is what --resume reads back.
    writeFileAtomic(path.join(runDir, JOB_FILE), YAML.stringify(job));
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
    return result;
  } finally {
    closeLog();
  }
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
  } catch (err) {
    record.status = 'failed';
    record.wallSeconds = (performance.now() - t0) / 1000;
    record.error = err instanceof Error ? err.message : String(err);
    writeJsonAtomic(path.join(runDir, `${name}.failed.json`), record);
    if (err instanceof OnnxtuneError && !(err instanceof StageError)) {
      throw new StageError(name, err.message, { cause: err });
    }
    throw err instanceof StageError ? err : new StageError(name, record.error, { cause: err });
  }
  record.wallSeconds = (performance.now() - t0) / 1000;
  writeJsonAtomic(path.join(tmpDir, 'run.json'), record);
  fs.renameSync(tmpDir, finalDir);
  writeFileAtomic(path.join(finalDir, 'DONE'), key + '\n');
  fsyncDir(runDir);
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.rmSync(path.join(runDir, `${name}.failed.json`), { force: true });
  log.info(`Stage ${name} finished in ${record.wallSeconds.toFixed(1)} s`);
  return record.summary;
}
