/**
 * Turns zod issues into one readable problem per line (`train.lr: expected a positive number, got "fast"`).
 * It looks at the schema itself (bounds, enum choices, object keys) so messages say what is allowed,
 * and suggests the closest allowed key for a typo. Positions in the YAML file are added by load-yaml.ts.
 */
import { editDistance, suggestClosest } from '../text';
import type { z } from 'zod';

/** A path into a config value: object keys and list indices. */
export type ConfigPath = ReadonlyArray<string | number>;

/** One problem, before it is given a file position. `at` says whether to point at the key or at its value. */
export interface FormattedIssue {
  path: Array<string | number>;
  problem: string;
  at: 'key' | 'value';
  /** For an unknown key: the allowed key it was probably meant to be. */
  suggestion?: string;
}

/** What the formatter needs besides the issue: the root schema and the data that was validated. */
export interface IssueContext {
  schema: z.core.$ZodType;
  data: unknown;
}

// The parts of zod's internal `def` objects we read. zod 4 keeps these under `_zod.def`
// with a string `type` tag, which is stable across the classic and mini APIs.
type Schema = z.core.$ZodType;
interface CheckDef {
  check: string;
  value?: number | bigint;
  inclusive?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
  length?: number;
}
interface SchemaDef {
  type: string;
  innerType?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  items?: Schema[];
  rest?: Schema | null;
  valueType?: Schema;
  options?: Schema[];
  discriminator?: string;
  in?: Schema;
  getter?: () => Schema;
  checks?: Array<{ _zod: { def: CheckDef } }>;
  entries?: Record<string, string | number>;
  values?: unknown[];
}

function defOf(schema: Schema): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Formats a path as `train.lr` / `data.split[1]`; the root is the empty string. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** Describes a value as the user wrote it, for the `got …` part of a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (empty value)';
  if (typeof value === 'string') {
    const s = value.length > 40 ? value.slice(0, 37) + '...' : value;
    return JSON.stringify(s);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function quoteChoice(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Literal values a schema accepts (enum entries / literal values), or undefined if it is not such a schema. */
function choicesOf(schema: Schema): unknown[] | undefined {
  const d = defOf(schema);
  if (d.type === 'enum' && d.entries) return Object.values(d.entries);
  if (d.type === 'literal' && d.values) return d.values;
  return undefined;
}

/** Strips wrappers (optional, default, nullable, pipe input, lazy …); picks a discriminated-union option by data. */
function unwrap(schema: Schema, data: unknown): Schema {
  let s = schema;
  for (let guard = 0; guard < 64; guard++) {
    const d = defOf(s);
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
        s = d.innerType as Schema;
        continue;
      case 'pipe':
        s = d.in as Schema;
        continue;
      case 'lazy':
        s = (d.getter as () => Schema)();
        continue;
      case 'union': {
        const option = d.discriminator ? pickOption(d, data) : undefined;
        if (!option) return s;
        s = option;
        continue;
      }
      default:
        return s;
    }
  }
  return s;
}

/** The option of a discriminated union whose discriminator literal matches `data[discriminator]`. */
function pickOption(d: SchemaDef, data: unknown): Schema | undefined {
  if (!d.discriminator || !d.options || data === null || typeof data !== 'object') return undefined;
  const tag = (data as Record<string, unknown>)[d.discriminator];
  return d.options.find((o) => {
    const field = objectShape(unwrap(o, data))?.[d.discriminator as string];
    const choices = field ? choicesOf(unwrap(field, tag)) : undefined;
    return choices?.includes(tag) ?? false;
  });
}

function objectShape(schema: Schema): Record<string, Schema> | undefined {
  const d = defOf(schema);
  return d.type === 'object' ? d.shape : undefined;
}

/**
 * The schema that validates the value at `path`, following discriminated unions by the data.
 * @returns the (unwrapped) schema, or undefined when the path leaves the schema.
 */
export function schemaAt(root: Schema, path: ConfigPath, data: unknown): Schema | undefined {
  let s = unwrap(root, data);
  let value = data;
  for (const seg of path) {
    const d = defOf(s);
    let next: Schema | undefined;
    if (d.type === 'object') next = d.shape?.[String(seg)];
    else if (d.type === 'array') next = d.element;
    else if (d.type === 'tuple') next = d.items?.[Number(seg)] ?? d.rest ?? undefined;
    else if (d.type === 'record') next = d.valueType;
    else if (d.type === 'union') {
      // An unresolved union: use the first option that knows this key.
      next = d.options?.map((o) => objectShape(unwrap(o, value))?.[String(seg)]).find((x) => x !== undefined);
    }
    if (!next) return undefined;
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[seg as string] : undefined;
    s = unwrap(next, value);
  }
  return s;
}

/**
 * Keys an object schema allows at `path` (for a discriminated union with an unknown tag: the union of all options).
 * @returns the keys in declaration order, or undefined if the schema there is not an object.
 */
export function allowedKeysAt(root: Schema, path: ConfigPath, data: unknown): string[] | undefined {
  const s = schemaAt(root, path, data);
  if (!s) return undefined;
  const d = defOf(s);
  if (d.type === 'object') return Object.keys(d.shape ?? {});
  if (d.type === 'union' && d.options) {
    const keys = new Set<string>();
    for (const o of d.options) for (const k of Object.keys(objectShape(unwrap(o, undefined)) ?? {})) keys.add(k);
    return keys.size ? [...keys] : undefined;
  }
  return undefined;
}

function fmtBound(n: number | bigint): string {
  return String(n);
}

/** Describes what a schema accepts, with an article: "a positive number", "an integer >= 1", "one of 'a', 'b'". */
export function describeSchema(schema: Schema): string {
  const s = unwrap(schema, undefined);
  const d = defOf(s);
  const checks = (d.checks ?? []).map((c) => c._zod.def);
  switch (d.type) {
    case 'number': {
      const isInt = checks.some((c) => c.check === 'number_format' && /int/.test(c.format ?? ''));
      const noun = isInt ? 'integer' : 'number';
      const lo = checks.filter((c) => c.check === 'greater_than').at(-1);
      const hi = checks.filter((c) => c.check === 'less_than').at(-1);
      const mult = checks.find((c) => c.check === 'multiple_of');
      let text: string;
      if (lo && !hi && Number(lo.value) === 0) text = lo.inclusive ? `a non-negative ${noun}` : `a positive ${noun}`;
      else {
        const parts: string[] = [];
        if (lo) parts.push(`${lo.inclusive ? '>=' : '>'} ${fmtBound(lo.value as number)}`);
        if (hi) parts.push(`${hi.inclusive ? '<=' : '<'} ${fmtBound(hi.value as number)}`);
        text = `${isInt ? 'an' : 'a'} ${noun}${parts.length ? ' ' + parts.join(' and ') : ''}`;
      }
      return mult ? `${text} (a multiple of ${String(mult.value)})` : text;
    }
    case 'string': {
      const min = checks.find((c) => c.check === 'min_length');
      return min && min.minimum === 1 ? 'a non-empty string' : 'a string';
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
    case 'literal': {
      const choices = choicesOf(s) ?? [];
      return choices.length === 1 ? quoteChoice(choices[0]) : `one of ${choices.map(quoteChoice).join(', ')}`;
    }
    case 'array': {
      const eq = checks.find((c) => c.check === 'length_equals');
      const min = checks.find((c) => c.check === 'min_length');
      const max = checks.find((c) => c.check === 'max_length');
      const el = d.element ? describeSchema(d.element) : 'items';
      const count = eq
        ? `exactly ${eq.length} `
        : min && max
          ? `${min.minimum} to ${max.maximum} `
          : min
            ? `at least ${min.minimum} `
            : max
              ? `at most ${max.maximum} `
              : '';
      return `a list of ${count}items (each ${el})`;
    }
    case 'tuple':
      return `a list of ${d.items?.length ?? 0} items`;
    case 'object':
    case 'record':
      return 'a mapping';
    case 'null':
      return 'null';
    case 'union':
      // Options often read the same (three kinds of mapping): say each description once.
      return [...new Set((d.options ?? []).map(describeSchema))].join(' or ');
    default:
      return `a ${d.type}`;
  }
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

const EXPECTED_NOUN: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  null: 'null',
};

// zod's built-in English messages all start like this; anything else was written by the schema author.
const DEFAULT_MESSAGE = /^(Invalid |Too big:|Too small:|Unrecognized key)/;
function isDefaultMessage(message: string): boolean {
  return DEFAULT_MESSAGE.test(message);
}

function choiceProblem(choices: readonly unknown[], got: unknown): string {
  const list = choices.length === 1 ? quoteChoice(choices[0]) : `one of ${choices.map(quoteChoice).join(', ')}`;
  if (got === undefined) return `missing required field (${list})`;
  const words = choices.filter((c): c is string => typeof c === 'string');
  const hint = typeof got === 'string' ? suggestClosest(got, words) : undefined;
  return `expected ${list}, got ${describeValue(got)}${hint ? `; did you mean '${hint}'?` : ''}`;
}

/**
 * Maps one zod issue to one or more readable problems (an `unrecognized_keys` issue gives one per key).
 * @param issue a zod 4 issue
 * @param ctx the root schema and the validated data (used to read values, bounds, choices and allowed keys)
 * @returns problems with their full path, in the order zod reported them
 */
export function formatZodIssue(issue: z.core.$ZodIssue, ctx: IssueContext): FormattedIssue[] {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  const got = valueAt(ctx.data, path);
  const here = (): Schema | undefined => schemaAt(ctx.schema, path, ctx.data);
  const expected = (fallback: string): string => {
    const s = here();
    return s ? describeSchema(s) : fallback;
  };
  const one = (problem: string): FormattedIssue[] => [{ path, problem, at: 'value' }];

  // A schema author's own message (z.number({ error: 'expected …' })) wins over our generated text;
  // we only add what was found, or say that the field is missing.
  if (issue.code !== 'unrecognized_keys' && issue.code !== 'custom' && !isDefaultMessage(issue.message)) {
    if (got === undefined && issue.code === 'invalid_type') return one(`missing required field (${issue.message})`);
    const mentionsInput = /\b(got|received)\b/.test(issue.message);
    return one(mentionsInput ? issue.message : `${issue.message}, got ${describeValue(got)}`);
  }

  switch (issue.code) {
    case 'invalid_type': {
      const fallback = EXPECTED_NOUN[issue.expected] ?? String(issue.expected);
      if (got === undefined) return one(`missing required field (expected ${expected(fallback)})`);
      return one(`expected ${expected(fallback)}, got ${describeValue(got)}`);
    }
    case 'too_small':
    case 'too_big': {
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        const eq = issue.inclusive ? '=' : '';
        const bound = issue.code === 'too_small' ? `>${eq} ${issue.minimum}` : `<${eq} ${issue.maximum}`;
        return one(`expected ${expected(`a number ${bound}`)}, got ${describeValue(got)}`);
      }
      const n = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const unit = issue.origin === 'string' ? 'character' : 'item';
      const qty = issue.exact ? 'exactly' : issue.code === 'too_small' ? 'at least' : 'at most';
      const have = Array.isArray(got) || typeof got === 'string' ? `${got.length}` : describeValue(got);
      return one(`expected ${qty} ${String(n)} ${unit}${Number(n) === 1 ? '' : 's'}, got ${have}`);
    }
    case 'invalid_value':
      return one(choiceProblem(issue.values, got));
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(ctx.schema, path, ctx.data) ?? [];
      return issue.keys.map((key) => {
        const hint = suggestClosest(key, allowed);
        const problem = hint
          ? `unknown key; did you mean '${hint}'?`
          : `unknown key; allowed keys: ${allowed.length ? allowed.join(', ') : '(none)'}`;
        return { path: [...path, key], problem, at: 'key' as const, ...(hint ? { suggestion: hint } : {}) };
      });
    }
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (issue.discriminator !== undefined && options) {
        // zod puts the discriminator at the end of the path already; guard in case it does not.
        const tagPath = path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
        return [{ path: tagPath, problem: choiceProblem(options, valueAt(ctx.data, tagPath)), at: 'value' }];
      }
      if (got === undefined) return one(`missing required field (expected ${expected('one of several forms')})`);
      return one(`expected ${expected('one of several forms')}, got ${describeValue(got)}`);
    }
    case 'not_multiple_of':
      return one(`expected a multiple of ${issue.divisor}, got ${describeValue(got)}`);
    case 'invalid_format': {
      const what =
        issue.format === 'regex' && issue.pattern ? `a string matching ${issue.pattern}` : `a valid ${issue.format}`;
      return one(`expected ${what}, got ${describeValue(got)}`);
    }
    default:
      // custom (superRefine) messages are written for users already.
      return one(issue.message);
  }
}

export { editDistance, suggestClosest };
