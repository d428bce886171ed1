import { toMillis, type DeadLetter, type Sink, type SinkWriter, type SinkWriterContext } from '@millrace/core';
import { AtLeastOnceWriter } from './at-least-once-writer.js';
import type { OutgoingMessage } from './client.js';
import type { KafkaConnectionOptions } from './connection.js';
import { deadLetterMessage, originOf } from './dead-letter-format.js';
import { KafkaConnectorError } from './errors.js';
import { ExactlyOnceWriter } from './exactly-once-writer.js';
import type { DeadLetterSinkOptions, DeliveryGuarantee, KafkaSinkOptions } from './kafka-sink-options.js';
import { checkDeadLetterSinkOptionNames, checkSinkOptionNames } from './option-names.js';
import { serdes, type Serde } from './serde.js';
import type { RecordEncoder, SinkTarget } from './sink-target.js';
import { clientFor } from './topics.js';

/** The serdes of `KafkaSink.of`. */
export interface KafkaSinkSerdes<T> {
  readonly value: Serde<T>;
  /** Serializes what `key` returns. Default: strings as UTF-8, bytes as they are. */
  readonly key?: Serde<string | Uint8Array | null>;
}

const rawKey: Serde<string | Uint8Array | null> = { name: 'raw', serialize: (k) => k, deserialize: (d) => d };

function positive(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new KafkaConnectorError('config', `KafkaSink: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function checkOptions(opts: { topic?: string; deliveryGuarantee?: string }): void {
  if (!opts.topic) throw new KafkaConnectorError('config', 'KafkaSink: topic is required');
  const g = opts.deliveryGuarantee;
  if (g !== undefined && g !== 'at-least-once' && g !== 'exactly-once' && g !== 'none') {
    throw new KafkaConnectorError('config', `KafkaSink: deliveryGuarantee must be 'at-least-once', 'exactly-once' or 'none', got ${JSON.stringify(g)}`);
  }
}

/**
 * Writes records to a Kafka topic: what `sinkTo` takes. At-least-once by default; `deliveryGuarantee:
 * 'exactly-once'` writes each checkpoint's records in one transaction when the checkpoint completes (see
 * docs/decisions.md, "Kafka connector").
 *
 * ```ts
 * sums.sinkTo(KafkaSink.json({ topic: 'card-sums', key: (r) => r.card, deliveryGuarantee: 'exactly-once' }), { uid: 'sums-out' })
 * ```
 */
export class KafkaSink<T> implements Sink<T> {
  readonly description: string;
  readonly guarantee: DeliveryGuarantee;

  private constructor(
    private readonly conn: KafkaConnectionOptions & Pick<KafkaSinkOptions<T>, 'topic' | 'transactionalIdPrefix' | 'maxInFlightSends' | 'linger' | 'batchMaxRecords' | 'batchMaxBytes' | 'log'>,
    private readonly encoder: RecordEncoder<T>,
    guarantee: DeliveryGuarantee | undefined,
    serdeName: string,
  ) {
    checkOptions({ topic: conn.topic, deliveryGuarantee: guarantee });
    this.guarantee = guarantee ?? 'at-least-once';
    this.description = `kafka(${conn.topic}, ${serdeName}, ${this.guarantee})`;
  }

  /** Values as JSON. */
  static json<T>(opts: KafkaSinkOptions<T>): KafkaSink<T> {
    return KafkaSink.of({ value: serdes.json<T>() }, opts);
  }

  /** Values as UTF-8 strings. */
  static string(opts: KafkaSinkOptions<string>): KafkaSink<string> {
    return KafkaSink.of({ value: serdes.string() }, opts);
  }

  /** Values with a serde of your own (Avro from `@millrace/avro`, say). */
  static of<T>(s: KafkaSinkSerdes<T>, opts: KafkaSinkOptions<T>): KafkaSink<T> {
    checkSinkOptionNames(opts);
    const keySerde = s.key ?? rawKey;
    const topic = opts.topic;
    const useEventTime = (opts.timestamp ?? 'event') === 'event';
    const encoder: RecordEncoder<T> = (v, ts, partitions) => {
      const key = opts.key ? keySerde.serialize(opts.key(v), { topic, part: 'key' }) : null;
      const m: { -readonly [K in keyof OutgoingMessage]: OutgoingMessage[K] } = { key, value: s.value.serialize(v, { topic, part: 'value' }) };
      if (opts.partitioner) {
        const p = opts.partitioner(v, key, partitions);
        if (!Number.isInteger(p) || p < 0 || p >= partitions) throw new RangeError(`the partitioner returned ${p}; topic '${topic}' has partitions 0..${partitions - 1}`);
        m.partition = p;
      }
      if (opts.headers) m.headers = opts.headers(v);
      if (useEventTime && Number.isFinite(ts)) m.timestamp = ts;
      return m;
    };
    return new KafkaSink<T>(opts, encoder, opts.deliveryGuarantee, s.value.name);
  }

  /**
   * A sink for `env.deadLetters()`: each dead letter is written with the original Kafka key, value and headers when
   * the failing record came from a Kafka source in the same chain (otherwise the value as JSON), plus headers naming
   * the error, the step and the source topic, partition and offset (`DEAD_LETTER_HEADERS`).
   */
  static deadLetters(opts: DeadLetterSinkOptions): KafkaSink<DeadLetter> {
    checkDeadLetterSinkOptionNames(opts);
    const encoder = (jobName: string): RecordEncoder<DeadLetter> => (dl) =>
      deadLetterMessage({ error: dl.error, errorType: dl.errorType, step: dl.step, uid: dl.uid, job: jobName }, originOf(dl.value), dl.value);
    const sink = new KafkaSink<DeadLetter>(opts, encoder(''), opts.deliveryGuarantee, 'dead-letters');
    sink.jobEncoder = encoder;
    return sink;
  }

  private jobEncoder: ((jobName: string) => RecordEncoder<T>) | undefined;

  createWriter(ctx: SinkWriterContext): SinkWriter<T> {
    const target: SinkTarget<T> = {
      ctx,
      client: clientFor(this.conn),
      topic: this.conn.topic,
      encode: this.jobEncoder ? this.jobEncoder(ctx.jobName) : this.encoder,
      log: this.conn.log ?? ((m) => process.stderr.write(`${m}\n`)),
      transactionalIdPrefix: this.conn.transactionalIdPrefix ?? `${ctx.jobName}.${ctx.uid}`,
      maxInFlightSends: positive(this.conn.maxInFlightSends, 4, 'maxInFlightSends'),
      batchMaxRecords: positive(this.conn.batchMaxRecords, 2048, 'batchMaxRecords'),
      batchMaxBytes: positive(this.conn.batchMaxBytes, 1024 * 1024, 'batchMaxBytes'),
      lingerMs: this.conn.linger === undefined ? 5 : toMillis(this.conn.linger, 'KafkaSink linger'),
    };
    if (this.guarantee === 'exactly-once') return new ExactlyOnceWriter<T>(target) as SinkWriter<T>;
    return new AtLeastOnceWriter<T>(target, this.guarantee === 'at-least-once');
  }
}
