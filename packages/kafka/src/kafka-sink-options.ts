import type { Duration } from '@millrace/core';
import type { KafkaConnectionOptions } from './connection.js';

/** How a Kafka sink delivers. */
export type DeliveryGuarantee =
  /** Records are sent as they come; each checkpoint waits until all sent records are acknowledged. Duplicates after a restore. */
  | 'at-least-once'
  /**
   * Records of a checkpoint are written in one Kafka transaction when the checkpoint completes, with a marker that
   * makes the commit idempotent. Readers with read_committed see each record once; latency is the checkpoint
   * interval. Needs checkpoints.
   */
  | 'exactly-once'
  /** Fire and forget: nothing waits for acknowledgements. */
  | 'none';

/** Options of a {@link KafkaSink}. */
export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  /** The topic to write to; it must exist. */
  readonly topic: string;
  /** The record key (serialized with the key serde; default UTF-8). Without it records have no key. */
  readonly key?: (value: T) => string | Uint8Array | null;
  /**
   * Picks the partition. Default: Kafka's default partitioner (murmur2 of the key, as the Java client; round robin
   * without a key).
   */
  readonly partitioner?: (value: T, key: Uint8Array | string | null, partitions: number) => number;
  /** Headers for each record. */
  readonly headers?: (value: T) => Record<string, string | Uint8Array>;
  /** Record timestamps: the record's event time (`'event'`, default, when it has one) or the send time (`'send'`). */
  readonly timestamp?: 'event' | 'send';
  /** Default `'at-least-once'`. */
  readonly deliveryGuarantee?: DeliveryGuarantee;
  /**
   * Exactly-once: prefix of the transactional ids (`<prefix>.<subtask>`) and of the marker groups
   * (`millrace-sink.<prefix>.<subtask>`). Default `<job name>.<sink uid>`. Two instances of one job that both write
   * exactly-once need different prefixes (e.g. from an environment variable), or they fence each other.
   */
  readonly transactionalIdPrefix?: string;
  /** At-least-once: sends in flight before `write` waits (backpressure). Default 4. */
  readonly maxInFlightSends?: number;
  /**
   * At-least-once: how long a record may wait for more records to share its send (as the Java producer's
   * `linger.ms`). Records are sent continuously, not at checkpoints; a send also goes out once `batchMaxRecords`
   * records or `batchMaxBytes` wait. Default 5 ms; 0 sends each engine batch on its own.
   */
  readonly linger?: Duration;
  /** At-least-once: the most records in one send. Default 2048 (kafkajs's cost per record grows with it). */
  readonly batchMaxRecords?: number;
  /** At-least-once: about the most bytes in one send. Default 1 MiB. */
  readonly batchMaxBytes?: number;
  /** Where the writer reports what it did on restore. Default: stderr. */
  readonly log?: (message: string) => void;
}

/** Options of `KafkaSink.deadLetters`: where to write, and how; keys, values and headers come from the dead letters. */
export interface DeadLetterSinkOptions extends KafkaConnectionOptions {
  readonly topic: string;
  readonly deliveryGuarantee?: DeliveryGuarantee;
  readonly transactionalIdPrefix?: string;
}
