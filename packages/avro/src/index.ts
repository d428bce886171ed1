/**
 * @packageDocumentation
 * `@millrace/avro`: Avro for Millrace on avsc 5.7.9.
 *
 * - Serdes: {@link avroSerde} (plain Avro binary, schema evolution through a reader schema) and
 *   {@link schemaRegistrySerde} (Confluent wire format: magic byte, schema id, body) on the {@link Serde} interface.
 * - Schemas: {@link avroType} compiles schemas with the logical types `timestamp-millis` (Date), `decimal` (exact
 *   string) and `uuid`; {@link resolverFor} and {@link assertValid} name the offending field when something does not fit.
 * - Container files: {@link ContainerWriter} (deflate level 1 by default, snappy, null) and {@link parseHeader},
 *   {@link readBlock}, {@link BlockDecoder}, {@link readContainer} for reading, also block by block (splits).
 *
 * Depends on avsc and snappyjs only; no other Millrace package.
 */
export type { Serde, PreparedSerde } from './serde.js';
export { AvroError, type AvroErrorCode } from './errors.js';
export { avroType, resolverFor, assertValid, type AvroSchema, type AvroType } from './schema.js';
export { TimestampMillisType, DecimalType, UuidType, LOGICAL_TYPES } from './logical-types.js';
export { avroSerde, type AvroSerdeOptions } from './avro-serde.js';
export { SchemaRegistryClient, schemaRegistrySerde, CONFLUENT_MAGIC_BYTE, type SchemaRegistrySerdeOptions } from './schema-registry.js';
export { nullCodec, deflateCodec, snappyCodec, codecByName, codecOf, type AvroCodec } from './codecs.js';
export { ContainerWriter, zigzag, type ContainerWriterOptions } from './container-writer.js';
export { parseHeader, readBlock, findSync, BlockDecoder, readContainer, type ContainerHeader, type ContainerBlock } from './container-reader.js';
