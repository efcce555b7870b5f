/**
 * Reading and writing a model's metadata_props (string key/value pairs): run ids, config
 * hashes, input normalization and the like travel inside the exported .onnx this way.
 */
import type { ModelProto } from './proto';

/** Sets `entries` on the model (same keys are replaced, others kept in order); returns the model. */
export function setMetadata<M extends ModelProto>(model: M, entries: Record<string, string>): M {
  const props = [...(model.metadataProps ?? [])];
  for (const [key, value] of Object.entries(entries)) {
    if (typeof value !== 'string') throw new TypeError(`metadata '${key}' must be a string, got ${typeof value}`);
    const i = props.findIndex((p) => p.key === key);
    if (i >= 0) props[i] = { key, value };
    else props.push({ key, value });
  }
  model.metadataProps = props;
  return model;
}

/** The model's metadata as a plain record (a repeated key keeps its last value). */
export function getMetadata(model: ModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) out[p.key] = p.value ?? '';
  return out;
}
