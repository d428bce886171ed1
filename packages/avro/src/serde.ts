/**
 * Turns values into bytes and back. The same shape as the serdes of the Kafka connector, so an Avro serde plugs into
 * a Kafka source or sink as it is.
 */
export interface Serde<T> {
  /** Encodes one value. Throws an error naming the offending field when the value does not fit the schema. */
  serialize(value: T): Uint8Array;
  /** Decodes one value. Throws an error naming what could not be read. */
  deserialize(bytes: Uint8Array): T;
}

/**
 * A {@link Serde} that may need to fetch something (e.g. a writer schema from a schema registry) before it can
 * decode some bytes: call `prepare` with a batch of encoded values first, then `deserialize` each synchronously.
 */
export interface PreparedSerde<T> extends Serde<T> {
  /** Fetches whatever `deserialize` will need for these values. Idempotent and cached. */
  prepare(batch: readonly Uint8Array[]): Promise<void>;
}
