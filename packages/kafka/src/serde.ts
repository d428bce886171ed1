import { isUtf8 } from 'node:buffer';

/** Where a value is read from or written to, for serdes that depend on it (a schema registry subject, say). */
export interface SerdeContext {
  readonly topic: string;
  /** `'key'` or `'value'`: which part of the record. */
  readonly part: 'key' | 'value';
}

/**
 * Turns values into bytes and back, for record keys and values. `deserialize` may return a promise (a schema fetched
 * from a registry on first sight of its id); the source awaits it only when it is one. Avro serdes
 * (`@millrace/avro`) implement this interface.
 */
export interface Serde<T> {
  /** A short name for error messages and `explain()`, e.g. `json`. */
  readonly name: string;
  /** Bytes (or a string, written as UTF-8) for a value; `null` writes a Kafka null (a tombstone for values). */
  serialize(value: T, ctx: SerdeContext): Uint8Array | string | null;
  /** The value for bytes read from Kafka (`null` for a Kafka null). Throws when the bytes are not a valid value. */
  deserialize(data: Uint8Array | null, ctx: SerdeContext): T | Promise<T>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 text of `data`; throws on invalid UTF-8. (Buffer's decoder is faster on small values than TextDecoder.) */
function text(data: Uint8Array): string {
  if (Buffer.isBuffer(data)) {
    if (!isUtf8(data)) throw new TypeError('The encoded data was not valid for encoding utf-8');
    return data.toString('utf8');
  }
  return decoder.decode(data);
}

/** Built-in serdes. */
export const serdes = {
  /** UTF-8 strings; a Kafka null reads as `null`. Invalid UTF-8 fails to decode (so it can go to dead letters). */
  string(): Serde<string> {
    return {
      name: 'string',
      serialize: (v) => (v === null || v === undefined ? null : String(v)),
      deserialize: (d) => (d === null ? (null as unknown as string) : text(d)),
    };
  },
  /** JSON as UTF-8 text; a Kafka null reads as `null`. */
  json<T>(): Serde<T> {
    return {
      name: 'json',
      serialize: (v) => (v === undefined ? null : JSON.stringify(v)),
      deserialize: (d) => (d === null ? (null as T) : (JSON.parse(text(d)) as T)),
    };
  },
  /** The bytes as they are. */
  bytes(): Serde<Uint8Array | null> {
    return { name: 'bytes', serialize: (v) => v, deserialize: (d) => d };
  },
  /** A serde from two functions. */
  custom<T>(name: string, serialize: Serde<T>['serialize'], deserialize: Serde<T>['deserialize']): Serde<T> {
    return { name, serialize, deserialize };
  },
};
