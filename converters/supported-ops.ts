/**
 * What the converters support, generated from their tables (never written by hand): the ONNX
 * ops of onnx-to-tfjs (OP_MAPPERS), the tfjs layer classes of tfjs-to-onnx (LAYER_MAPPERS),
 * the ops convertOpset rewrites (OPSET_ADAPTERS) and the ops the int8 pass quantizes.
 * converters/README.md embeds {@link supportedOpsMarkdown} between
 * `<!-- supported-ops:begin -->` and `<!-- supported-ops:end -->`; a test keeps it current
 * (regenerate: `onnxtune convert --list-ops --update-readme converters/README.md`).
 */
import { OP_MAPPERS } from './onnx-to-tfjs/registry';
import { OPSET_ADAPTERS } from './opset';
import { QUANTIZED_OPS } from './quantize';
import { SUPPORTED_LAYERS } from './tfjs-to-onnx/registry';

/** One ONNX op onnx-to-tfjs reads. */
export interface SupportedOnnxOp {
  op: string;
  category: string;
  opsets: readonly [number, number];
  /** 'layer': becomes tfjs layers; 'folded': evaluated at conversion time; 'both'. */
  kind: 'layer' | 'folded' | 'both';
  notes: string;
}

/** ONNX ops onnx-to-tfjs reads, by category then name. */
export const SUPPORTED_ONNX_OPS: readonly SupportedOnnxOp[] = Object.freeze(
  [...OP_MAPPERS.values()]
    .map((m) => ({ op: m.onnxOp, category: m.category, opsets: m.opsets, kind: (m.build && m.fold ? 'both' : m.build ? 'layer' : 'folded') as SupportedOnnxOp['kind'], notes: m.notes }))
    .sort((a, b) => a.category.localeCompare(b.category) || a.op.localeCompare(b.op)),
);

/** tfjs layer classes tfjs-to-onnx maps. */
export const SUPPORTED_TFJS_LAYERS: readonly string[] = SUPPORTED_LAYERS;

/** Op changes convertOpset rewrites, by op and version. */
export const OPSET_CHANGES: ReadonlyArray<{ op: string; version: number; what: string }> = Object.freeze(
  OPSET_ADAPTERS.map((a) => ({ op: a.op, version: a.version, what: a.what })).sort((a, b) => a.op.localeCompare(b.op) || a.version - b.version),
);

/** The markdown tables for converters/README.md. */
export function supportedOpsMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `**ONNX → tfjs** (${SUPPORTED_ONNX_OPS.length} ops; "folded" = evaluated at conversion time when the inputs are constants)`,
    '',
    '| op | category | opsets | kind | maps to |',
    '|---|---|---|---|---|',
    ...SUPPORTED_ONNX_OPS.map((o) => `| ${o.op} | ${o.category} | ${o.opsets[0]}–${o.opsets[1]} | ${o.kind} | ${esc(o.notes)} |`),
    '',
    `**tfjs → ONNX** (${SUPPORTED_TFJS_LAYERS.length} layer classes): ${SUPPORTED_TFJS_LAYERS.join(', ')}`,
    '',
    '**Opset conversion** (changes `convertOpset` rewrites; other ops are copied unchanged)',
    '',
    '| op | at opset | change |',
    '|---|---|---|',
    ...OPSET_CHANGES.map((c) => `| ${c.op} | ${c.version} | ${esc(c.what)} |`),
    '',
    `**int8 weight quantization**: ${QUANTIZED_OPS.join(', ')}`,
  ];
  return lines.join('\n');
}
