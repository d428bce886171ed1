import type { SinkWriterContext } from '@millrace/core';
import type { AdminClient, KafkaClient, OutgoingMessage } from './client.js';
import { describeKafkaError, KafkaConnectorError } from './errors.js';

/** Turns a record into an outgoing Kafka record; `partitions` is the topic's partition count. */
export type RecordEncoder<T> = (value: T, timestamp: number, partitions: number) => OutgoingMessage;

/** What a sink writer writes to, shared by the delivery guarantees. */
export interface SinkTarget<T> {
  readonly ctx: SinkWriterContext;
  readonly client: KafkaClient;
  readonly topic: string;
  readonly encode: RecordEncoder<T>;
  readonly log: (message: string) => void;
  /** Prefix of transactional ids and marker groups (exactly-once). */
  readonly transactionalIdPrefix: string;
  readonly maxInFlightSends: number;
  /** At-least-once: records per send at most. */
  readonly batchMaxRecords: number;
  /** At-least-once: approximate bytes per send at most. */
  readonly batchMaxBytes: number;
  /** At-least-once: how long a record may wait for more to share its send. */
  readonly lingerMs: number;
}

/** Names the writer in messages. */
export function whereOf(t: SinkTarget<never>): string {
  return `Kafka sink '${t.ctx.uid}' (subtask ${t.ctx.subtaskIndex}, topic '${t.topic}', brokers ${t.client.brokers.join(',')})`;
}

/** Checks the topic exists and returns its partition count. */
export async function topicPartitions(t: SinkTarget<never>, admin: AdminClient): Promise<number> {
  let topics: string[];
  try {
    topics = await admin.listTopics();
  } catch (e) {
    throw describeKafkaError(e, `${whereOf(t)} could not start`, t.client.brokers);
  }
  if (!topics.includes(t.topic)) {
    throw new KafkaConnectorError('unknown-topic', `${whereOf(t)}: topic '${t.topic}' does not exist. Create it first (e.g. createTopics from @millrace/kafka, or kafka-topics.sh --create), or check the name.`);
  }
  return (await admin.partitions(t.topic)).length;
}

/** Encodes `count` records, naming the step when a user function (key, partitioner, headers, serde) throws. */
export function encodeAll<T>(t: SinkTarget<T>, values: readonly T[], timestamps: readonly number[], count: number, partitions: number): OutgoingMessage[] {
  const out = new Array<OutgoingMessage>(count);
  for (let i = 0; i < count; i++) {
    try {
      out[i] = t.encode(values[i]!, timestamps[i]!, partitions);
    } catch (e) {
      throw new KafkaConnectorError('encode', `${whereOf(t)}: cannot encode record ${JSON.stringify(values[i])?.slice(0, 200)}: ${(e as Error)?.message ?? String(e)}. Check the sink's key, partitioner, headers and serde.`, { cause: e });
    }
  }
  return out;
}
