/**
 * Turns values into bytes and back. The same shape as the serdes of the Kafka connector (`Serde` of
 * `@millrace/kafka`), so an Avro serde plugs into a `KafkaSource` or `KafkaSink` as it is.
 */
export interface Serde<T> {
  /** A short name for error messages and `explain()`, e.g. `avro(iot.Reading)`. */
  readonly name: string;
  /** Encodes one value. Throws an error naming the offending field when the value does not fit the schema. */
  serialize(value: T): Uint8Array;
  /** Decodes one value; a Kafka null (a tombstone) reads as `null`. Throws an error naming what could not be read. */
  deserialize(bytes: Uint8Array | null): T;
}

/**
 * A {@link Serde} that may need to fetch something (e.g. a writer schema from a schema registry) before it can
 * decode some bytes. `deserialize` returns the value at once when what it needs is loaded, else a promise that loads
 * it (the Kafka source awaits it); `prepare` loads it for a whole batch ahead, so that every `deserialize` after it is
 * synchronous.
 */
export interface PreparedSerde<T> extends Omit<Serde<T>, 'deserialize'> {
  /** Decodes one value: at once when its writer schema is loaded, else a promise that fetches it first. */
  deserialize(bytes: Uint8Array | null): T | Promise<T>;
  /** Fetches whatever `deserialize` will need for these values. Idempotent and cached. */
  prepare(batch: readonly Uint8Array[]): Promise<void>;
}
