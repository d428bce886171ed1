/**
 * The thin client adapter the connector talks to. `kafkajsClient` implements it over kafkajs 2.2.4; tests use an
 * in-memory one; another client (e.g. librdkafka bindings) can be swapped in by implementing these few calls.
 * Offsets are plain numbers (safe below 2^53, which a partition never reaches).
 */

/** A partition of a topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A record header value as read from Kafka. */
export type HeaderValue = Uint8Array | string;

/** A record read from Kafka. */
export interface FetchedMessage {
  readonly offset: number;
  /** The record's timestamp (create or log-append time, epoch ms). */
  readonly timestamp: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, HeaderValue | undefined>>;
}

/** A record to write. */
export interface OutgoingMessage {
  readonly key: Uint8Array | string | null;
  readonly value: Uint8Array | string | null;
  readonly partition?: number;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  readonly timestamp?: number;
}

/** Records for one topic. */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

/** What the consumer hands to the source. */
export interface ConsumerHandlers {
  /**
   * The group assigned these partitions to this member (called after every rebalance, before any fetch of the new
   * generation, synchronously: seek and pause here take effect for the first fetch).
   */
  onAssignment(assigned: readonly TopicPartition[]): void;
  /**
   * Records fetched from one partition, in offset order (possibly none, when a batch held only transaction markers
   * or aborted records); `nextOffset` is the offset after the last record the batch covered. A returned promise is
   * backpressure: the client fetches nothing more until it settles, and keeps the group session alive meanwhile
   * (heartbeats). It must settle on a rebalance and on close, or the client cannot rejoin or stop.
   */
  onBatch(tp: TopicPartition, messages: readonly FetchedMessage[], nextOffset: number): void | Promise<void>;
  /** The consumer stopped with an error it will not retry. */
  onCrash(error: unknown): void;
}

/** Options of a group consumer. */
export interface ConsumerOptions {
  readonly groupId: string;
  /** Identifies this member in group descriptions (`describeGroupMembers`). */
  readonly clientId: string;
  readonly readCommitted: boolean;
  readonly sessionTimeoutMs: number;
  /** How often topic metadata is refreshed (new partitions are found then). */
  readonly metadataMaxAgeMs: number;
  /** The most bytes one fetch returns per partition. Default: the client's (kafkajs: 1 MiB). */
  readonly maxBytesPerPartition?: number;
  /**
   * How long the broker may hold a fetch while it has less than `fetchMinBytes` to return; also how long the client
   * waits before fetching again while every partition is paused. Default 100 ms.
   */
  readonly fetchMaxWaitMs?: number;
  /** The broker answers a fetch once it has this many bytes (or `fetchMaxWaitMs` passed). Default 1. */
  readonly fetchMinBytes?: number;
}

/** A consumer in a consumer group. */
export interface ConsumerClient {
  connect(): Promise<void>;
  /** Subscribes to topics by name or pattern; where the group has no committed offset, start at the earliest. */
  subscribe(topics: readonly string[] | RegExp): Promise<void>;
  run(handlers: ConsumerHandlers): Promise<void>;
  /** Fetch this partition from `offset` next (takes effect at the next fetch). */
  seek(tp: TopicPartition, offset: number): void;
  pause(tps: readonly TopicPartition[]): void;
  resume(tps: readonly TopicPartition[]): void;
  /** Commits offsets (the next offset to read) to the group. */
  commitOffsets(offsets: ReadonlyArray<TopicPartition & { readonly offset: number }>): Promise<void>;
  disconnect(): Promise<void>;
}

/** A transaction of a transactional producer. */
export interface ProducerTransaction {
  send(batch: TopicMessages): Promise<void>;
  /** Commits consumer-group offsets atomically with the transaction's records. */
  sendOffsets(groupId: string, offsets: ReadonlyArray<TopicPartition & { readonly offset: number }>): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Options of a producer. */
export interface ProducerOptions {
  readonly clientId: string;
  /** Makes the producer transactional; a new producer with the same id fences and aborts an older one's transaction. */
  readonly transactionalId?: string;
  readonly idempotent: boolean;
  readonly transactionTimeoutMs?: number;
}

/** A producer. */
export interface ProducerClient {
  connect(): Promise<void>;
  send(batches: readonly TopicMessages[]): Promise<void>;
  transaction(): Promise<ProducerTransaction>;
  disconnect(): Promise<void>;
}

/** Per-partition offsets of a topic. */
export interface PartitionOffsets {
  readonly partition: number;
  /** The first offset still in the log. */
  readonly low: number;
  /** The offset the next record will get (the end). */
  readonly high: number;
}

/** Administrative calls. */
export interface AdminClient {
  connect(): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Partitions of a topic with their leader (-1 when none yet). Throws for an unknown topic. */
  partitions(topic: string): Promise<Array<{ partition: number; leader: number }>>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** For each partition, the first offset whose timestamp is ≥ `timestamp` (the end when none). */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: number }>>;
  /** The group's committed offsets for the topics (-1 where none). */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<Array<TopicPartition & { offset: number }>>;
  /** Client ids of the group's current members. */
  /** Client ids of the group's members once the group is stable (its last rebalance completed); `[]` before. */
  groupMemberClientIds(groupId: string): Promise<string[]>;
  createTopics(topics: ReadonlyArray<{ topic: string; partitions: number; config?: Record<string, string> }>): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Creates the connections of one source reader or sink writer. */
export interface KafkaClient {
  /** The bootstrap brokers, for messages. */
  readonly brokers: readonly string[];
  admin(): AdminClient;
  consumer(opts: ConsumerOptions): ConsumerClient;
  producer(opts: ProducerOptions): ProducerClient;
}
