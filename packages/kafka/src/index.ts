/**
 * @packageDocumentation
 * `@millrace/kafka`: a Kafka source and sink for Millrace jobs.
 *
 * - {@link KafkaSource}: topics or a pattern, a consumer group shared by all subtasks and instances, start
 *   positions, bounded mode, per-partition watermarks (split `${topic}-${partition}`), offsets in checkpoints and
 *   committed to the group when a checkpoint completes, undecodable records to a dead-letter topic.
 * - {@link KafkaSink}: key, partitioner, headers, serdes; at-least-once or exactly-once (one transaction per
 *   checkpoint, idempotent through a marker group); {@link KafkaSink.deadLetters} for `env.deadLetters()`.
 * - The client sits behind a small adapter ({@link KafkaClient}); {@link kafkajsClient} is the default.
 *
 * Depends on `@millrace/core` and kafkajs only.
 */
export { KafkaSource, type KafkaRecord, type KafkaSourceSerdes } from './kafka-source.js';
export type { KafkaSourceOptions, StartPosition } from './kafka-source-options.js';
export type { KafkaPosition } from './kafka-source-reader.js';
export { KafkaSink, type KafkaSinkSerdes } from './kafka-sink.js';
export type { DeadLetterSinkOptions, DeliveryGuarantee, KafkaSinkOptions } from './kafka-sink-options.js';
export { markerGroup, type KafkaCommittable } from './exactly-once-writer.js';
export { serdes, type Serde, type SerdeContext } from './serde.js';
export { KafkaConnectorError, describeKafkaError, type KafkaErrorCode } from './errors.js';
export { resolveConnection, type KafkaConnectionOptions, type KafkaSaslOptions, type KafkaSslOptions, type ResolvedConnection } from './connection.js';
export { DEAD_LETTER_HEADERS, originOf, type KafkaOrigin } from './dead-letter-format.js';
export { createTopics, pollUntil, waitForLeaders, clientFor } from './topics.js';
export { kafkajsClient } from './kafkajs-client.js';
export type {
  AdminClient, ConsumerClient, ConsumerHandlers, ConsumerOptions, FetchedMessage, HeaderValue, KafkaClient, OutgoingMessage,
  PartitionOffsets, ProducerClient, ProducerOptions, ProducerTransaction, TopicMessages, TopicPartition,
} from './client.js';
