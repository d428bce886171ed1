/**
 * A job for the Kafka integration tests, configured by environment variables (a child process runs it with
 * `millrace run`): reads JSON events `{ id, key }` from KAFKA_IN, numbers them per key in keyed state, and writes
 * `{ id, key, n }` to KAFKA_OUT with KAFKA_GUARANTEE. With exactly-once, each id appears once and each key's n runs
 * 1, 2, 3, … without gaps or repeats — a lost or replayed record (or lost state) shows in the output.
 */
import { defineJob, valueState } from '@millrace/core';
import { KafkaSink, KafkaSource, type DeliveryGuarantee } from '@millrace/kafka';

export interface Event { readonly id: number; readonly key: string }
export interface Numbered { readonly id: number; readonly key: string; readonly n: number }

const env = process.env;
const need = (name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`counting-job: set ${name}`);
  return v;
};

export default defineJob('kafka-counting', (e) => {
  e.fromSource(KafkaSource.json<Event>({
    topics: [need('KAFKA_IN')],
    groupId: need('KAFKA_GROUP'),
    startFrom: 'committed',
    bounded: env.KAFKA_BOUNDED === '1',
  }), { uid: 'events' })
    .keyBy((ev) => ev.key)
    .process<Numbered>({ uid: 'numbering' })
    .withState({ count: valueState<number>() })
    .handle({
      onElement(ev, { state, emit }) {
        const n = (state.count.value() ?? 0) + 1;
        state.count.update(n);
        emit({ id: ev.id, key: ev.key, n });
      },
    })
    .sinkTo(KafkaSink.json<Numbered>({
      topic: need('KAFKA_OUT'),
      key: (r) => r.key,
      deliveryGuarantee: (env.KAFKA_GUARANTEE ?? 'exactly-once') as DeliveryGuarantee,
      ...(env.KAFKA_TXN_PREFIX ? { transactionalIdPrefix: env.KAFKA_TXN_PREFIX } : {}),
    }), { uid: 'numbered-out' });
}, { module: import.meta.url, batchSize: 256 });
