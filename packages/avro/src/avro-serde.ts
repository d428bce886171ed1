import { AvroError } from './errors.js';
import { assertValid, avroType, resolverFor, type AvroSchema } from './schema.js';
import type { Serde } from './serde.js';

/** Options of {@link avroSerde}. */
export interface AvroSerdeOptions {
  /**
   * The schema to read as (schema evolution): bytes written with the serde's schema are resolved to it. Default:
   * the same schema.
   */
  readonly readerSchema?: AvroSchema;
  /** Check each value before encoding, so a bad value fails naming its field (default true). */
  readonly validate?: boolean;
}

/**
 * A {@link Serde} for single Avro-encoded values (no header): `serialize` writes with `schema`, `deserialize`
 * reads bytes written with `schema` as `readerSchema` (or `schema`). Stateless; safe to share between sources and
 * sinks.
 */
export function avroSerde<T>(schema: AvroSchema, opts: AvroSerdeOptions = {}): Serde<T> {
  const writer = avroType(schema);
  const reader = opts.readerSchema === undefined ? writer : avroType(opts.readerSchema);
  const resolver = resolverFor(reader, writer);
  const validate = opts.validate ?? true;
  return {
    name: `avro(${writer.name ?? writer.typeName})`,
    serialize(value) {
      if (validate) assertValid(writer, value);
      return writer.toBuffer(value);
    },
    deserialize(bytes) {
      if (bytes === null) return null as T;
      try {
        return reader.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), resolver) as T;
      } catch (e) {
        throw new AvroError('corrupt-file', `cannot decode ${bytes.byteLength} bytes as ${writer.name ?? writer.typeName}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}
