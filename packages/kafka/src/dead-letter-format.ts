import type { HeaderValue, OutgoingMessage } from './client.js';

/** Where a record came from in Kafka, as the source read it. */
export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, HeaderValue | undefined>>;
}

/** Header names of dead-letter records (values are UTF-8 strings). */
export const DEAD_LETTER_HEADERS = {
  error: 'millrace.error',
  errorType: 'millrace.error.type',
  step: 'millrace.step',
  uid: 'millrace.uid',
  job: 'millrace.job',
  topic: 'millrace.source.topic',
  partition: 'millrace.source.partition',
  offset: 'millrace.source.offset',
  timestamp: 'millrace.source.timestamp',
} as const;

// Decoded records remember the Kafka record they came from, so a dead letter raised by a later step of the same
// chain can carry the original key, value and headers. Weak: nothing is kept once the record is gone.
const origins = new WeakMap<object, KafkaOrigin>();

/** Remembers where a decoded record came from (objects only). */
export function rememberOrigin(value: unknown, origin: KafkaOrigin): void {
  if (typeof value === 'object' && value !== null) origins.set(value, origin);
}

/** Where a decoded record came from, when this thread's Kafka source read it and it is still the same object. */
export function originOf(value: unknown): KafkaOrigin | undefined {
  return typeof value === 'object' && value !== null ? origins.get(value) : undefined;
}

/** What failed, for a dead-letter record. */
export interface DeadLetterCause {
  readonly error: string;
  readonly errorType: string;
  readonly step: string;
  readonly uid: string;
  readonly job: string;
}

/**
 * A dead-letter record: the original key, value and headers when the origin is known (otherwise the value as JSON),
 * plus headers naming the error, the step and the source topic, partition and offset.
 */
export function deadLetterMessage(cause: DeadLetterCause, origin: KafkaOrigin | undefined, fallbackValue: unknown): OutgoingMessage {
  const headers: Record<string, HeaderValue> = {};
  if (origin) for (const [k, v] of Object.entries(origin.headers)) if (v !== undefined) headers[k] = v;
  headers[DEAD_LETTER_HEADERS.error] = cause.error;
  headers[DEAD_LETTER_HEADERS.errorType] = cause.errorType;
  headers[DEAD_LETTER_HEADERS.step] = cause.step;
  headers[DEAD_LETTER_HEADERS.uid] = cause.uid;
  headers[DEAD_LETTER_HEADERS.job] = cause.job;
  if (origin) {
    headers[DEAD_LETTER_HEADERS.topic] = origin.topic;
    headers[DEAD_LETTER_HEADERS.partition] = String(origin.partition);
    headers[DEAD_LETTER_HEADERS.offset] = String(origin.offset);
    headers[DEAD_LETTER_HEADERS.timestamp] = String(origin.timestamp);
    return { key: origin.key, value: origin.value, headers };
  }
  let value: string | null;
  try {
    value = fallbackValue === undefined ? null : JSON.stringify(fallbackValue);
  } catch {
    value = String(fallbackValue);
  }
  return { key: null, value, headers };
}
