/** JSON Schema of job files, generated from the zod schema (for editor autocompletion and docs). */
import { z } from 'zod';
import { NODE_PATHS } from './node-paths';
import { jobSchema } from './schema';

/** The job file JSON Schema (input side: defaults are optional, paths are strings). */
export function jobJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(jobSchema('.', NODE_PATHS), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
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
  const variants = n.oneOf ?? n.anyOf;
  if (variants?.every((v) => v.const !== undefined)) return variants.map((v) => JSON.stringify(v.const)).join(' \\| ');
  if (variants) return 'one of the variants below';
  return Array.isArray(n.type) ? n.type.join(' \\| ') : (n.type ?? 'any');
}

/** The property whose value is a constant in every variant (zod discriminated unions). */
function discriminator(variants: JsonNode[]): string | undefined {
  const keys = Object.keys(variants[0]?.properties ?? {});
  return keys.find((k) => variants.every((v) => v.properties?.[k]?.const !== undefined || v.properties?.[k]?.enum?.length === 1));
}

/** One markdown table row per field of the job schema (nested objects and union variants flattened). */
export function jobFieldTable(): string {
  const rows: string[] = ['| field | type | default | description |', '|---|---|---|---|'];
  // A sub-schema seen before (e.g. `noise` under each data source) is expanded once and referenced after.
  const expanded = new Map<string, string>();
  const walk = (node: JsonNode, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const name = prefix + key;
      const variants = child.oneOf ?? child.anyOf;
      const def = child.default === undefined || (typeof child.default === 'object' && !Array.isArray(child.default)) ? '' : JSON.stringify(child.default);
      const fingerprint = child.properties || variants ? JSON.stringify(child) : '';
      const seen = fingerprint ? expanded.get(fingerprint) : undefined;
      const desc = (child.description ?? '').replace(/\|/g, '\\|') + (seen ? ` (fields as \`${seen}\`)` : '');
      rows.push(`| \`${name}\` | ${child.properties ? 'object' : typeOf(child)} | ${def} | ${desc} |`);
      if (seen) continue;
      if (fingerprint) expanded.set(fingerprint, name);
      if (child.properties) walk(child, name + '.');
      if (variants) {
        const tagKey = discriminator(variants);
        for (const v of variants) {
          const tagNode = tagKey ? v.properties?.[tagKey] : undefined;
          const tag = tagNode?.const ?? tagNode?.enum?.[0];
          const rest = Object.fromEntries(Object.entries(v.properties ?? {}).filter(([k]) => k !== tagKey));
          walk({ properties: rest }, `${name}.(${tagKey}: ${String(tag)}).`);
        }
      }
    }
  };
  walk(jobJsonSchema() as JsonNode, '');
  return rows.join('\n');
}
