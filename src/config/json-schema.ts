/** JSON Schema of job files, generated from the zod schema (for editor autocompletion and docs). */
import { z } from 'zod';
import { jobSchema } from './schema';

/** The job file JSON Schema (input side: defaults are optional, paths are strings). */
export function jobJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(jobSchema('.'), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'onnxtune job file', description: 'YAML job for `onnxtune run`; see configs/README.md' };
}

interface JsonNode {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
  oneOf?: JsonNode[];
  anyOf?: JsonNode[];
  const?: unknown;
}

function typeOf(n: JsonNode): string {
  if (n.enum) return n.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.items) return `${typeOf(n.items)}[]`;
  if (n.oneOf || n.anyOf) return 'one of the variants below';
  return Array.isArray(n.type) ? n.type.join(' \\| ') : (n.type ?? 'any');
}

/** One markdown table row per field of the job schema (nested objects and noise variants flattened). */
export function jobFieldTable(): string {
  const rows: string[] = ['| field | type | default | description |', '|---|---|---|---|'];
  const walk = (node: JsonNode, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const name = prefix + key;
      const variants = child.oneOf ?? child.anyOf;
      const def = child.default === undefined || (typeof child.default === 'object' && !Array.isArray(child.default)) ? '' : JSON.stringify(child.default);
      rows.push(`| \`${name}\` | ${child.properties ? 'object' : typeOf(child)} | ${def} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`);
      if (child.properties) walk(child, name + '.');
      for (const v of variants ?? []) {
        const tag = v.properties?.type?.const ?? v.properties?.type?.enum?.[0];
        walk({ properties: Object.fromEntries(Object.entries(v.properties ?? {}).filter(([k]) => k !== 'type')) }, `${name}.(type: ${String(tag)}).`);
      }
    }
  };
  walk(jobJsonSchema() as JsonNode, '');
  return rows.join('\n');
}
