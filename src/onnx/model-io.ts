/**
 * Reading and writing .onnx files. Decoding names the file on any failure and refuses models
 * whose declared sizes the file cannot back (see {@link checkModelLimits}); loading inlines
 * external tensor data (refusing paths that leave the model's folder) so the in-memory
 * model can go straight to onnxruntime; saving is atomic.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { confinedFile } from '../io/confined-path';
import { forEachGraph, nodeSubgraphs } from './graph-utils';
import { dataTypeName, onnx, toNumber, type GraphProto, type Int64Like, type ModelProto, type TensorProto } from './proto';
import { elementSize, tensorNumel } from './tensor';
import { notOnnxHint } from './not-onnx-hint';

/** Deepest nesting of subgraphs (If/Loop/Scan bodies) a model may have; real models use a few levels. */
export const MAX_GRAPH_DEPTH = 64;

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/**
 * Decodes ONNX protobuf bytes.
 * @param label the file name (or other origin) named in errors.
 * @throws InputError when the bytes are not a protobuf ModelProto (truncated, corrupt) or hold no graph.
 */
export function decodeModel(bytes: Uint8Array, label: string): onnx.ModelProto {
  if (bytes.length === 0) throw new InputError(label, 'is empty, not an ONNX model');
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new InputError(label, `is not a valid ONNX model (truncated or corrupt protobuf: ${firstLine(err)})${notOnnxHint(bytes)}`, {
      cause: err,
    });
  }
  if (!model.graph) throw new InputError(label, `decoded as protobuf but holds no graph; not an ONNX model${notOnnxHint(bytes)}`);
  checkModelLimits(model, bytes.length, label);
  return model;
}

/**
 * Checks what a decoded model declares before anything trusts it, so no reader allocates more
 * than the file justifies or recurses without bound: version numbers and dims are safe
 * integers, tensor dims are non-negative, an inline tensor's declared size (elements × element
 * size, at least half a byte each) fits in the file, and subgraphs nest at most
 * {@link MAX_GRAPH_DEPTH} levels. External tensors are checked against their own file by
 * {@link resolveExternalData}. Walks the graphs iteratively.
 * @param fileBytes the size of the encoded model the tensors must fit in.
 * @throws InputError naming `label` and the offending tensor or field.
 */
export function checkModelLimits(model: ModelProto, fileBytes: number, label: string): void {
  const int = (v: Int64Like, what: string): number => {
    try {
      return toNumber(v);
    } catch {
      throw new InputError(label, `${what} ${String(v)} is not a representable integer`);
    }
  };
  int(model.irVersion, 'ir_version');
  int(model.modelVersion, 'model_version');
  for (const o of model.opsetImport ?? []) int(o.version, `opset_import version of domain '${o.domain ?? ''}'`);

  const checkDims = (dims: Int64Like[] | null | undefined, what: string): number => {
    let numel = 1;
    for (const d of dims ?? []) {
      const n = int(d, `${what}: dim`);
      if (n < 0) throw new InputError(label, `${what}: negative dim ${n}`);
      numel *= n;
    }
    if (!Number.isSafeInteger(numel)) throw new InputError(label, `${what}: dims [${(dims ?? []).join(',')}] hold too many elements`);
    return numel;
  };
  const checkTensor = (t: TensorProto, where: string) => {
    const what = `${where} tensor '${t.name ?? ''}'`;
    const numel = checkDims(t.dims, what);
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return; // sized against its own file on load
    // Every element needs at least half a byte (INT4) whatever the encoding, so this bounds any allocation.
    const bytes = numel * (elementSize(t.dataType) ?? 0.5);
    if (bytes > fileBytes) {
      throw new InputError(
        label,
        `${what} declares dims [${(t.dims ?? []).join(',')}] of ${dataTypeName(t.dataType)} (${bytes} bytes), ` +
          `more than the whole file (${fileBytes} bytes); the file is corrupt or hostile`,
      );
    }
  };

  const stack: Array<{ graph: GraphProto; depth: number }> = [];
  if (model.graph) stack.push({ graph: model.graph, depth: 1 });
  while (stack.length) {
    const { graph, depth } = stack.pop() as { graph: GraphProto; depth: number };
    if (depth > MAX_GRAPH_DEPTH) {
      throw new InputError(label, `subgraphs are nested more than ${MAX_GRAPH_DEPTH} levels deep; refusing to read the model`);
    }
    const where = depth === 1 ? 'graph' : `subgraph '${graph.name ?? ''}' (depth ${depth})`;
    for (const t of graph.initializer ?? []) checkTensor(t, `${where}: initializer`);
    for (const s of graph.sparseInitializer ?? []) {
      checkDims(s.dims, `${where}: sparse initializer`);
      if (s.values) checkTensor(s.values, `${where}: sparse initializer values`);
      if (s.indices) checkTensor(s.indices, `${where}: sparse initializer indices`);
    }
    for (const vi of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
      for (const d of vi.type?.tensorType?.shape?.dim ?? []) {
        if (d.dimValue !== null && d.dimValue !== undefined) int(d.dimValue, `${where}: value '${vi.name ?? ''}': dim`);
      }
    }
    for (const node of graph.node ?? []) {
      for (const a of node.attribute ?? []) {
        const at = `${where}: node '${node.name || node.opType || '?'}' attribute '${a.name ?? ''}'`;
        if (a.t) checkTensor(a.t, at);
        for (const t of a.tensors ?? []) checkTensor(t, at);
        for (const s of [a.sparseTensor, ...(a.sparseTensors ?? [])]) {
          if (!s) continue;
          checkDims(s.dims, `${at} sparse tensor`);
          if (s.values) checkTensor(s.values, `${at} sparse values`);
          if (s.indices) checkTensor(s.indices, `${at} sparse indices`);
        }
      }
      for (const sub of nodeSubgraphs(node)) stack.push({ graph: sub, depth: depth + 1 });
    }
  }
}

/** Serializes a model to protobuf bytes (a Uint8Array that owns its whole buffer). */
export function encodeModel(model: ModelProto): Uint8Array {
  const bytes = onnx.ModelProto.encode(model).finish();
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

/** Writes `model` to `file` atomically (temp file + fsync + rename). */
export function saveModel(model: ModelProto, file: string): void {
  writeFileAtomic(file, encodeModel(model));
}

/**
 * Reads an .onnx file and inlines any external tensor data as raw_data.
 * @throws InputError when the file is missing or malformed, or external data is missing,
 *   too short, or points outside the model's folder.
 */
export function loadModel(file: string): onnx.ModelProto {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${firstLine(err)})`, { cause: err });
  }
  const model = decodeModel(bytes, file);
  resolveExternalData(model, path.dirname(path.resolve(file)), file);
  return model;
}

/** Every tensor in the model that may carry external data: initializers and Constant-style attribute tensors, in all subgraphs. */
function allTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  if (!model.graph) return out;
  forEachGraph(model.graph, (g) => {
    out.push(...(g.initializer ?? []));
    for (const s of g.sparseInitializer ?? []) {
      if (s.values) out.push(s.values);
      if (s.indices) out.push(s.indices);
    }
    for (const node of g.node ?? []) {
      for (const a of node.attribute ?? []) {
        if (a.t) out.push(a.t);
        out.push(...(a.tensors ?? []));
      }
    }
  });
  return out;
}

function parseNonNegInt(value: string | undefined, what: string, label: string, tensor: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value.trim())) throw new InputError(label, `tensor '${tensor}': external data ${what} '${value}' is not a non-negative integer`);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new InputError(label, `tensor '${tensor}': external data ${what} ${value} is too large`);
  return n;
}

/** `location` as a data file of the model's folder `dir` (io/confined-path.ts), or an InputError naming the tensor. */
function safeExternalPath(dir: string, location: string, label: string, tensor: string): string {
  return confinedFile(dir, location, ({ reason, missing }) => {
    throw new InputError(label, missing ? `tensor '${tensor}': external data file '${location}' not found next to the model` : `tensor '${tensor}': external data location '${location}' refused: ${reason}`);
  });
}

/**
 * Replaces every EXTERNAL tensor's data by raw_data read from its file relative to `dir`.
 * Declared offset/length are checked against the file size and the tensor's dims.
 * @throws InputError on any unsafe path, missing file or size mismatch.
 */
export function resolveExternalData(model: ModelProto, dir: string, label: string): void {
  const fds = new Map<string, { fd: number; size: number }>();
  try {
    for (const t of allTensors(model)) {
      if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
      const name = t.name ?? '';
      const fields = new Map<string, string>();
      for (const kv of t.externalData ?? []) if (kv.key) fields.set(kv.key, kv.value ?? '');
      const location = fields.get('location');
      if (location === undefined) throw new InputError(label, `tensor '${name}': external data has no 'location'`);
      const file = safeExternalPath(dir, location, label, name);
      let entry = fds.get(file);
      if (!entry) {
        let fd: number;
        try {
          fd = fs.openSync(file, 'r');
        } catch (err) {
          throw new InputError(label, `tensor '${name}': external data file '${location}' cannot be opened (${firstLine(err)})`, { cause: err });
        }
        entry = { fd, size: fs.fstatSync(fd).size };
        fds.set(file, entry);
      }
      const offset = parseNonNegInt(fields.get('offset'), 'offset', label, name) ?? 0;
      if (offset > entry.size) {
        throw new InputError(label, `tensor '${name}': external data offset ${offset} is past the end of '${location}' (${entry.size} bytes)`);
      }
      const declared = parseNonNegInt(fields.get('length'), 'length', label, name);
      const elem = elementSize(t.dataType);
      const expected = elem === undefined ? undefined : tensorNumel(t) * elem;
      const length = declared ?? expected ?? entry.size - offset;
      if (offset + length > entry.size) {
        throw new InputError(
          label,
          `tensor '${name}': external data needs bytes ${offset}..${offset + length} but '${location}' has ${entry.size}`,
        );
      }
      if (expected !== undefined && length !== expected) {
        throw new InputError(label, `tensor '${name}': external data length ${length} does not match its dims (${expected} bytes)`);
      }
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = fs.readSync(entry.fd, buf, done, length - done, offset + done);
        if (n <= 0) throw new InputError(label, `tensor '${name}': '${location}' ended early`);
        done += n;
      }
      t.rawData = buf;
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      t.externalData = [];
    }
  } finally {
    for (const { fd } of fds.values()) fs.closeSync(fd);
  }
}
