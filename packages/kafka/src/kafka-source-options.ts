import type { Duration } from '@millrace/core';
import type { KafkaConnectionOptions } from './connection.js';

/** Where a reader starts in a partition it has no checkpointed position for. */
export type StartPosition =
  /** The oldest record still in the log. */
  | 'earliest'
  /** The end of the log when the job starts: only records written afterwards. */
  | 'latest'
  /** The consumer group's committed offset; the earliest record where the group has none. */
  | 'committed'
  /** The first record with a timestamp at or after this one (epoch ms). */
  | { readonly timestamp: number };

/** Options of a {@link KafkaSource}. */
export interface KafkaSourceOptions<T> extends KafkaConnectionOptions {
  /** Topics to read. Give `topics` or `topicPattern`. */
  readonly topics?: readonly string[];
  /** Reads every topic whose name matches, as found when the job starts. */
  readonly topicPattern?: RegExp;
  /**
   * The consumer group. Every source subtask (and every instance of the job) joins it and Kafka divides the
   * partitions among them; offsets of completed checkpoints are committed to it, for lag tools and for takeovers.
   */
  readonly groupId: string;
  /** Where to start in partitions without a checkpointed position. Default `'committed'`. */
  readonly startFrom?: StartPosition;
  /**
   * Stop at the end offsets seen when the job starts (backfills): the input is bounded, the watermark jumps to the
   * maximum at the end, every window fires. Default false.
   */
  readonly bounded?: boolean;
  /**
   * The timestamp attached to each record: the Kafka record's (`'record'`, the default), or one taken from the
   * decoded value. A watermark strategy's `withTimestamp` still overrides it.
   */
  readonly timestamp?: 'record' | ((value: T) => number);
  /**
   * What to do with a record whose key or value cannot be decoded (or whose timestamp function throws): fail the job
   * (`'fail'`, the default) or write it to `deadLetterTopic` with the error in headers and go on.
   */
  readonly onDecodeError?: 'fail' | 'dead-letter';
  /** The topic undecodable records go to with `onDecodeError: 'dead-letter'`. */
  readonly deadLetterTopic?: string;
  /** Read only committed records of transactional producers. Default true. */
  readonly readCommitted?: boolean;
  /** The group session timeout: how soon Kafka moves the partitions of a crashed instance. Default 10 s. */
  readonly sessionTimeoutMs?: number;
  /**
   * How often the topics' partitions are looked up: partitions added while the job runs are then read from their
   * earliest offset (the group rebalances to include them). Topics matching `topicPattern` are found at start only.
   * Default 30 s.
   */
  readonly partitionDiscoveryIntervalMs?: number;
  /**
   * Records buffered per partition (fetched, not yet taken by the engine) at which the reader holds the client's
   * next fetch until the engine took half of them (backpressure). Default 8192.
   */
  readonly maxBufferedRecordsPerPartition?: number;
  /**
   * How long the broker may hold a fetch that has nothing to return yet (Kafka's `fetch.max.wait.ms`). Records are
   * returned as soon as there are any, so this bounds idle polling, not latency. Default 100 ms.
   */
  readonly fetchMaxWait?: Duration;
  /** The most bytes one fetch returns per partition (Kafka's `max.partition.fetch.bytes`). Default 1 MiB. */
  readonly fetchMaxBytesPerPartition?: number;
  /**
   * Remember each decoded object's Kafka record, so dead letters raised by later steps of the same chain carry the
   * original key, value and headers. Default: true when the job sends dead letters to a sink, else false (it costs a
   * WeakMap entry per record).
   */
  readonly keepOrigins?: boolean;
  /** Where the reader reports what it did (dead letters, commit problems). Default: stderr. */
  readonly log?: (message: string) => void;
}
