import avro from 'avsc';
import { AvroError } from './errors.js';
import { LOGICAL_TYPES } from './logical-types.js';

/** An Avro schema: JSON (object or string) or an avsc `Type`. */
export type AvroSchema = avro.Schema | string | avro.Type;

/** A compiled Avro type (avsc 5.7), with Millrace's logical types (timestamp-millis, decimal, uuid). */
export type AvroType = avro.Type;

/** Compiles a schema, with the logical types Millrace implements. Throws an {@link AvroError} saying what is wrong. */
export function avroType(schema: AvroSchema): AvroType {
  if (schema instanceof avro.Type) return schema;
  try {
    const json = typeof schema === 'string' && /^\s*[{[]/.test(schema) ? (JSON.parse(schema) as avro.Schema) : schema;
    return avro.Type.forSchema(json as avro.Schema, { logicalTypes: LOGICAL_TYPES as never, wrapUnions: false });
  } catch (e) {
    throw new AvroError('schema-mismatch', `invalid Avro schema: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A resolver that reads data written with `writer` as `reader` (schema evolution: added fields with defaults,
 * removed fields, promotions like int → long). When they are incompatible, throws an {@link AvroError} naming the
 * offending field and both types.
 */
export function resolverFor(reader: AvroType, writer: AvroType, where = ''): ReturnType<avro.Type["createResolver"]> | undefined {
  if (reader.equals(writer)) return undefined;
  try {
    return reader.createResolver(writer);
  } catch (e) {
    const field = incompatibleField(reader, writer, '');
    const at = where ? ` in ${where}` : '';
    const what = field
      ? `field '${field.path}'${field.reason}`
      : (e as Error).message;
    throw new AvroError('schema-mismatch', `the reader schema cannot read data written with the writer schema${at}: ${what}. Give the reader field a default, or use a compatible type.`, { ...(field ? { field: field.path } : {}), cause: e });
  }
}

interface Mismatch { readonly path: string; readonly reason: string }

function typeName(t: avro.Type): string {
  return (t as { name?: string }).name ?? t.typeName;
}

/** Walks reader and writer records to find the first field the reader cannot take from the writer. */
function incompatibleField(reader: avro.Type, writer: avro.Type, prefix: string): Mismatch | undefined {
  const r = reader as unknown as { typeName: string; fields?: Array<{ name: string; type: avro.Type; defaultValue(): unknown; aliases?: string[] }> };
  const w = writer as unknown as { typeName: string; fields?: Array<{ name: string; type: avro.Type; aliases?: string[] }> };
  if (r.typeName !== 'record' || w.typeName !== 'record' || !r.fields || !w.fields) return undefined;
  for (const rf of r.fields) {
    const path = prefix ? `${prefix}.${rf.name}` : rf.name;
    const names = [rf.name, ...(rf.aliases ?? [])];
    const wf = w.fields.find((f) => names.includes(f.name));
    if (!wf) {
      if (rf.defaultValue() === undefined) return { path, reason: ' is missing from the writer schema and has no default in the reader schema' };
      continue;
    }
    try {
      rf.type.createResolver(wf.type);
    } catch {
      return incompatibleField(rf.type, wf.type, path) ?? { path, reason: `: written as ${typeName(wf.type)}, which cannot be read as ${typeName(rf.type)}` };
    }
  }
  return undefined;
}

/**
 * Checks a value against a type; throws an {@link AvroError} naming the first offending field, its value and the
 * expected type.
 */
export function assertValid(type: AvroType, value: unknown, where = ''): void {
  let found: { path: string; val: unknown; type: avro.Type } | undefined;
  const ok = type.isValid(value, {
    errorHook: (path, val, t) => { found ??= { path: path.join('.'), val, type: t }; },
  });
  if (ok) return;
  const at = where ? ` (${where})` : '';
  if (!found) throw new AvroError('invalid-value', `value does not match the Avro schema ${typeName(type)}${at}`);
  const shown = found.val === undefined ? 'undefined (missing)' : JSON.stringify(found.val) ?? String(found.val);
  throw new AvroError(
    'invalid-value',
    `field '${found.path || '(root)'}' of ${typeName(type)}${at} is ${shown}, which is not a valid ${typeName(found.type)}: fix the value or the schema`,
    { field: found.path },
  );
}
