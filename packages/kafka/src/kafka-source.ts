import type { Source, SourceReader, SourceReaderContext } from '@millrace/core';
import type { HeaderValue } from './client.js';
import { KafkaConnectorError } from './errors.js';
import type { KafkaSourceOptions } from './kafka-source-options.js';
import { checkSourceOptionNames } from './option-names.js';
import { KafkaSourceReader, valueDecoder, type RecordDecoder } from './kafka-source-reader.js';
import { serdes, type Serde } from './serde.js';
import { clientFor } from './topics.js';

/** A record as `KafkaSource.of` emits it: decoded key and value with where it came from. */
export interface KafkaRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The Kafka record's timestamp, epoch ms. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, HeaderValue | undefined>>;
}

/** The serdes of `KafkaSource.of`. */
export interface KafkaSourceSerdes<K, V> {
  readonly value: Serde<V>;
  /** Default: the key as a UTF-8 string (or null). */
  readonly key?: Serde<K>;
}

function checkOptions<T>(opts: KafkaSourceOptions<T>): void {
  checkSourceOptionNames(opts);
  if (opts.topics !== undefined && !Array.isArray(opts.topics)) {
    throw new KafkaConnectorError('config', `KafkaSource: topics must be a list of topic names, e.g. ['${String(opts.topics)}'], got ${JSON.stringify(opts.topics)}`);
  }
  if (opts.topicPattern !== undefined && !(opts.topicPattern instanceof RegExp)) {
    throw new KafkaConnectorError('config', `KafkaSource: topicPattern must be a RegExp (e.g. /^orders-.*/), got ${JSON.stringify(opts.topicPattern)}`);
  }
  const hasTopics = opts.topics !== undefined && opts.topics.length > 0;
  if (hasTopics === (opts.topicPattern !== undefined)) {
    throw new KafkaConnectorError('config', `KafkaSource: give either topics (a non-empty list) or topicPattern, ${hasTopics ? 'not both' : 'got neither'}`);
  }
  if (!opts.groupId) throw new KafkaConnectorError('config', 'KafkaSource: groupId is required (the consumer group that divides the partitions among subtasks and instances)');
  if (opts.onDecodeError === 'dead-letter' && !opts.deadLetterTopic) {
    throw new KafkaConnectorError('config', "KafkaSource: onDecodeError: 'dead-letter' needs a deadLetterTopic to write undecodable records to");
  }
  const sf = opts.startFrom;
  if (sf !== undefined && sf !== 'earliest' && sf !== 'latest' && sf !== 'committed' && !(typeof sf === 'object' && Number.isFinite(sf.timestamp))) {
    throw new KafkaConnectorError('config', `KafkaSource: startFrom must be 'earliest', 'latest', 'committed' or { timestamp: <epoch ms> }, got ${JSON.stringify(sf)}`);
  }
}

/**
 * Reads Kafka topics: what `env.fromSource` takes. Each source subtask (on its worker thread) is a consumer in the
 * group; positions are kept in checkpoints and committed to the group when a checkpoint completes. Batches carry the
 * partition as their split (`${topic}-${partition}`), so watermarks are generated per partition.
 *
 * ```ts
 * env.fromSource(KafkaSource.json<Txn>({ topics: ['transactions'], groupId: 'fraud' }), { uid: 'transactions', watermarks })
 * ```
 */
export class KafkaSource<T> implements Source<T> {
  readonly description: string;
  readonly bounded: boolean;
  /** Partitions move between subtasks, so a restore at another parallelism finds them in any subtask's position. */
  readonly rescalable = true;

  private constructor(readonly options: KafkaSourceOptions<T>, private readonly decoder: RecordDecoder<T>, serdeName: string) {
    checkOptions(options);
    this.bounded = options.bounded ?? false;
    const what = options.topics ? options.topics.join(',') : String(options.topicPattern);
    this.description = `kafka(${what}, group ${options.groupId}, ${serdeName}${this.bounded ? ', bounded' : ''})`;
  }

  /** Values as JSON. */
  static json<T>(opts: KafkaSourceOptions<T>): KafkaSource<T> {
    return new KafkaSource<T>(opts, valueDecoder(serdes.json<T>()), 'json');
  }

  /** Values as UTF-8 strings. */
  static string(opts: KafkaSourceOptions<string>): KafkaSource<string> {
    return new KafkaSource<string>(opts, valueDecoder(serdes.string()), 'string');
  }

  /** Values with a serde of your own (Avro from `@millrace/avro`, say). */
  static values<T>(value: Serde<T>, opts: KafkaSourceOptions<T>): KafkaSource<T> {
    return new KafkaSource<T>(opts, valueDecoder(value), value.name);
  }

  /** Whole records (key, value, topic, partition, offset, timestamp, headers) with the given serdes. */
  static of<K = string | null, V = unknown>(s: KafkaSourceSerdes<K, V>, opts: KafkaSourceOptions<KafkaRecord<K, V>>): KafkaSource<KafkaRecord<K, V>> {
    const keySerde = (s.key ?? serdes.string()) as Serde<K>;
    const decoder: RecordDecoder<KafkaRecord<K, V>> = (m, tp) => {
      const key = keySerde.deserialize(m.key, { topic: tp.topic, part: 'key' });
      const value = s.value.deserialize(m.value, { topic: tp.topic, part: 'value' });
      const make = (k: K, v: V): KafkaRecord<K, V> => ({ key: k, value: v, topic: tp.topic, partition: tp.partition, offset: m.offset, timestamp: m.timestamp, headers: m.headers });
      const isP = (x: unknown): x is Promise<unknown> => typeof (x as { then?: unknown } | null)?.then === 'function';
      if (isP(key) || isP(value)) return Promise.all([key, value]).then(([k, v]) => make(k as K, v as V));
      return make(key as K, value as V);
    };
    return new KafkaSource(opts, decoder, `${keySerde.name}/${s.value.name}`);
  }

  createReader(ctx: SourceReaderContext): SourceReader<T> {
    return new KafkaSourceReader<T>(ctx, this.options, clientFor(this.options), this.decoder);
  }
}
