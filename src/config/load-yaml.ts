/**
 * Schema-driven YAML loading: parse (keeping source positions), apply `--set a.b=value` overrides,
 * validate with a strict zod schema and report EVERY problem as `file:line:col path: problem`,
 * one per line, in a single ConfigError. Knows nothing about the job schema itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, InputError } from '../errors';
import { formatPath, formatZodIssue, describeValue, type ConfigPath, type FormattedIssue } from './format-issues';

export {
  formatPath,
  formatZodIssue,
  describeValue,
  describeSchema,
  schemaAt,
  allowedKeysAt,
  editDistance,
  suggestClosest,
} from './format-issues';
export type { ConfigPath, FormattedIssue, IssueContext } from './format-issues';

/** The file name used in errors about `--set` overrides. */
export const OVERRIDE_SOURCE = '--set';

/** One located problem: `file:line:col path: problem`. */
export interface ConfigIssue {
  file: string;
  path: string;
  problem: string;
  location?: { line: number; col: number };
}

/** Options for {@link parseYamlWithSchema}. */
export interface YamlLoadOptions {
  /** `dotted.path=value` overrides; the value is parsed as YAML (`0.01` is a number, `[0.8,0.1,0.1]` a list). */
  overrides?: readonly string[];
}

/** What a successful load returns. */
export interface YamlLoadResult<T> {
  /** The validated value (zod defaults applied). */
  value: T;
  /** The plain data after overrides, before validation (what the user wrote). */
  doc: unknown;
  /** A ConfigError pointing at `path` in the file (or at `--set` if an override set it), for checks after loading. */
  errorAt(path: ConfigPath, problem: string): ConfigError;
}

/** Formats one issue as the single line the user sees. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.location ? `${issue.file}:${issue.location.line}:${issue.location.col}` : issue.file;
  return `${where} ${issue.path ? issue.path + ': ' : ''}${issue.problem}`;
}

/**
 * A ConfigError carrying every problem found; `message` lists them one per line, and its first line
 * (the first problem) stands alone. `file`, `path`, `problem` and `location` describe the first problem.
 */
export class ConfigIssuesError extends ConfigError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    if (issues.length === 0) throw new Error('ConfigIssuesError needs at least one issue');
    const first = issues[0];
    super(first.file, first.path, first.problem, first.location);
    this.issues = Object.freeze([...issues]);
    this.message = issues.map(formatConfigIssue).join('\n');
  }
}

type Located = { file: string; location?: { line: number; col: number } };
interface RangedNode {
  range?: [number, number, number] | null;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Finds the YAML node for `path` (or the closest existing ancestor) and returns its position.
 * Nodes created by overrides have no range, so they are reported against `--set`.
 */
function locator(doc: Document, lc: LineCounter, file: string) {
  return (p: ConfigPath, at: 'key' | 'value'): Located => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    let found = 0;
    for (const seg of p) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((it) => keyText(it.key) === String(seg));
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        keyNode = undefined;
        node = node.items[seg];
      } else break;
      found += 1;
    }
    const complete = found === p.length;
    // A missing key points at its closest existing parent (its key, e.g. `train:`); a key problem at the
    // key; a value problem at the value, or at the key when the value is absent.
    const emptyValue = node === null || node === undefined || (isScalar(node) && node.value === null && !node.source);
    const target: unknown = !complete || at === 'key' || emptyValue ? (keyNode ?? node) : node;
    if (target === null || target === undefined) return { file };
    const range = (target as RangedNode).range;
    if (typeof target !== 'object' || !range) return { file: OVERRIDE_SOURCE };
    const pos = lc.linePos(range[0]);
    return { file, location: { line: pos.line, col: pos.col } };
  };
}

/** Applies one override to the document; returns a problem (without throwing) if it cannot. */
function applyOverride(doc: Document, raw: string): ConfigIssue | undefined {
  const bad = (p: string, problem: string): ConfigIssue => ({ file: OVERRIDE_SOURCE, path: p, problem });
  const eq = raw.indexOf('=');
  const keyPart = eq < 0 ? raw.trim() : raw.slice(0, eq).trim();
  if (eq <= 0 || !keyPart || keyPart.split('.').some((s) => s.trim() === '')) {
    return bad('', `cannot read override ${JSON.stringify(raw)}: expected dotted.path=value (e.g. train.lr=0.01)`);
  }
  const segs = keyPart.split('.').map((s) => s.trim());
  const valueText = raw.slice(eq + 1);
  const parsed = parseDocument(valueText, { prettyErrors: false });
  if (parsed.errors.length) {
    return bad(keyPart, `cannot parse value ${JSON.stringify(valueText)} as YAML: ${parsed.errors[0].message}`);
  }
  const value: unknown = parsed.toJS();

  if (doc.contents === null || doc.contents === undefined) {
    doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  }
  const resolved: Array<string | number> = [];
  let node: unknown = doc.contents;
  for (const seg of segs) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isSeq(node)) {
      if (!/^\d+$/.test(seg)) {
        return bad(keyPart, `'${formatPath(resolved)}' is a list; use a numeric index instead of '${seg}'`);
      }
      const idx = Number(seg);
      if (idx > node.items.length) {
        return bad(keyPart, `index ${idx} is out of range: '${formatPath(resolved)}' has ${node.items.length} items`);
      }
      resolved.push(idx);
      node = node.items[idx];
    } else if (isMap(node)) {
      resolved.push(seg);
      node = node.items.find((it) => keyText(it.key) === seg)?.value;
    } else if (node === undefined || node === null) {
      resolved.push(seg); // setIn creates the missing mappings
    } else {
      const current = isScalar(node) ? node.value : node;
      return bad(keyPart, `cannot set '${seg}' inside '${formatPath(resolved)}', which is ${describeValue(current)}`);
    }
  }
  try {
    doc.setIn(resolved, doc.createNode(value));
  } catch (err) {
    return bad(keyPart, `cannot apply override: ${(err as Error).message}`);
  }
  return undefined;
}

/**
 * A misspelled required key gives two zod issues, "unknown key 'tap'" and "missing 'taps'": one
 * mistake, so one line. The unknown-key issue (which points at the typo) stays and says the key is required.
 */
function mergeTypos(issues: FormattedIssue[], data: unknown): FormattedIssue[] {
  const key = (p: ReadonlyArray<string | number>) => JSON.stringify(p);
  const absent = (p: ReadonlyArray<string | number>) => {
    let v = data;
    for (const seg of p) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
    return v === undefined;
  };
  const missing = new Map(issues.filter((i) => absent(i.path)).map((i) => [key(i.path), i] as const));
  const dropped = new Set<FormattedIssue>();
  const out = issues.map((i) => {
    if (!i.suggestion) return i;
    const m = missing.get(key([...i.path.slice(0, -1), i.suggestion]));
    if (!m || dropped.has(m)) return i;
    dropped.add(m);
    return { ...i, problem: `${i.problem} ('${i.suggestion}' is required)` };
  });
  return out.filter((i) => !dropped.has(i));
}

/** Orders issues: file problems by position, then `--set` problems in the order the overrides were given. */
function issueOrder(overrides: readonly string[]): (a: ConfigIssue, b: ConfigIssue) => number {
  const keys = overrides.map((o) => o.slice(0, Math.max(0, o.indexOf('='))).trim());
  const overrideIndex = (i: ConfigIssue): number => {
    const k = keys.findIndex((key) => key === i.path || key.startsWith(i.path + '.') || i.path.startsWith(key + '.'));
    return k < 0 ? keys.length : k;
  };
  return (a, b) => {
    const rank = (i: ConfigIssue) => (i.file === OVERRIDE_SOURCE ? 1 : 0);
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (rank(a) === 1) return overrideIndex(a) - overrideIndex(b);
    const la = a.location ?? { line: Infinity, col: Infinity };
    const lb = b.location ?? { line: Infinity, col: Infinity };
    return la.line - lb.line || la.col - lb.col;
  };
}

/**
 * Parses YAML text, applies overrides and validates it against `schema`.
 * @param text the YAML source
 * @param file the name used in error messages (usually the path the text came from)
 * @param schema a zod schema (use `.strict()` objects so unknown keys are errors)
 * @param opts `overrides`: `dotted.path=value` strings applied before validation
 * @returns the validated value, the pre-validation data and an `errorAt` helper
 * @throws {ConfigIssuesError} (a ConfigError) listing every syntax, override or schema problem, one per line
 */
export function parseYamlWithSchema<T>(
  text: string,
  file: string,
  schema: z.ZodType<T>,
  opts: YamlLoadOptions = {},
): YamlLoadResult<T> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    // Later syntax errors are almost always knock-on effects of the first (an unclosed bracket
    // makes every following line wrong), so report the first one, as one line, and count the rest.
    const first = doc.errors[0];
    const pos = lc.linePos(first.pos[0]);
    const more = doc.errors.length - 1;
    const message = first.message.split('\n')[0].trim();
    throw new ConfigIssuesError([{
      file,
      path: '',
      problem: `YAML syntax error: ${message}${more ? ` (${more} more error${more === 1 ? '' : 's'} after it; fix this one first)` : ''}`,
      location: { line: pos.line, col: pos.col },
    }]);
  }
  // An alias to an anchor that is never defined is not a parse error, but toJS() fails on it: locate it first.
  let unresolved: { source: string; range?: [number, number, number] | null } | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        unresolved = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (unresolved) {
    const pos = unresolved.range ? lc.linePos(unresolved.range[0]) : undefined;
    throw new ConfigIssuesError([{
      file,
      path: '',
      problem: `YAML error: the alias *${unresolved.source} refers to no anchor &${unresolved.source} defined before it`,
      location: pos ? { line: pos.line, col: pos.col } : undefined,
    }]);
  }

  const overrideIssues = (opts.overrides ?? [])
    .map((o) => applyOverride(doc, o))
    .filter((x): x is ConfigIssue => x !== undefined);
  if (overrideIssues.length) throw new ConfigIssuesError(overrideIssues);

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    throw new ConfigIssuesError([{ file, path: '', problem: `cannot read YAML: ${(err as Error).message}` }]);
  }
  const locate = locator(doc, lc, file);
  const errorAt = (p: ConfigPath, problem: string): ConfigError => {
    const where = locate(p, 'value');
    return new ConfigError(where.file, formatPath(p), problem, where.location);
  };

  const result = schema.safeParse(data);
  if (result.success) return { value: result.data, doc: data, errorAt };

  const formatted = mergeTypos(result.error.issues.flatMap((issue) => formatZodIssue(issue, { schema, data })), data);
  const issues: ConfigIssue[] = formatted.map((f: FormattedIssue) => ({ ...locate(f.path, f.at), path: formatPath(f.path), problem: f.problem }));
  issues.sort(issueOrder(opts.overrides ?? []));
  throw new ConfigIssuesError(issues);
}

/**
 * Reads a YAML file and validates it; see {@link parseYamlWithSchema}.
 * @throws {InputError} when the file is missing or unreadable
 * @throws {ConfigIssuesError} when its content is invalid
 */
export function loadYamlWithSchema<T>(
  file: string,
  schema: z.ZodType<T>,
  opts: YamlLoadOptions = {},
): YamlLoadResult<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'is a folder, expected a YAML file'
          : `cannot read config file (${code ?? (err as Error).message})`;
    throw new InputError(file, reason, { cause: err });
  }
  return parseYamlWithSchema(text, file, schema, opts);
}

/**
 * A function resolving paths written in a YAML file relative to that file's folder
 * (absolute paths are returned unchanged).
 * @param file the YAML file the paths come from
 */
export function relativePathResolver(file: string): (p: string) => string {
  const base = path.dirname(path.resolve(file));
  return (p: string) => (path.isAbsolute(p) ? p : path.resolve(base, p));
}
