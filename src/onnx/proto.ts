/**
 * The ONNX protobuf schema (onnx-proto's static protobufjs code) and the type names the
 * rest of onnxtune uses for it. Messages may be decoded class instances or plain objects,
 * so the aliases are the `I*` interfaces; `toNumber` flattens protobufjs' int64 `Long`s.
 */
import { onnx } from 'onnx-proto';

export { onnx };

/** A whole model: opsets, producer, metadata and the main graph. */
export type ModelProto = onnx.IModelProto;
/** A computation graph: nodes in topological order, initializers, inputs, outputs. */
export type GraphProto = onnx.IGraphProto;
/** One operator call. */
export type NodeProto = onnx.INodeProto;
/** A constant tensor (initializer or attribute value). */
export type TensorProto = onnx.ITensorProto;
/** One node attribute. */
export type AttributeProto = onnx.IAttributeProto;
/** A named, typed graph input/output/intermediate. */
export type ValueInfoProto = onnx.IValueInfoProto;
/** The type of a value (tensor element type and shape). */
export type TypeProto = onnx.ITypeProto;
/** A declared operator set (domain + version). */
export type OperatorSetIdProto = onnx.IOperatorSetIdProto;
/** A key/value string pair (metadata, external data fields). */
export type StringStringEntryProto = onnx.IStringStringEntryProto;

/** Tensor element types (`TensorProto.DataType`). */
export const DataType = onnx.TensorProto.DataType;
/** Attribute kinds (`AttributeProto.AttributeType`). */
export const AttributeType = onnx.AttributeProto.AttributeType;

/** protobufjs' 64-bit integer: a `Long` object or a plain number, depending on how the message was made. */
export type Int64Like = number | { toNumber(): number; toString(): string } | string | null | undefined;

/**
 * Converts a protobuf int64 (number or Long) to a JS number.
 * @throws RangeError when the value is not a safe integer.
 */
export function toNumber(v: Int64Like): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : v.toNumber();
  if (!Number.isSafeInteger(n)) throw new RangeError(`int64 value ${String(v)} is not a safe integer`);
  return n;
}

/** The name of an element type, e.g. 1 → "FLOAT"; unknown codes read "type <n>". */
export function dataTypeName(code: number | null | undefined): string {
  const name = (onnx.TensorProto.DataType as unknown as Record<number, string>)[code ?? 0];
  return name ?? `type ${code}`;
}

/** The default ONNX operator domain, written either as '' or 'ai.onnx'. */
export function isDefaultDomain(domain: string | null | undefined): boolean {
  return !domain || domain === 'ai.onnx';
}
