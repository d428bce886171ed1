/**
 * The fraud job (examples/fraud/jobs/fraud.ts) from Kafka to Kafka: card transactions from a topic, per-card
 * one-minute sums and small-then-large alerts to two topics, exactly-once. Topic and group names come from
 * environment variables (the demo sets unique ones); bounded, so it ends at the end of the topic.
 */
import { defineJob, WatermarkStrategy } from '@millrace/core';
import { KafkaSink, KafkaSource } from '@millrace/kafka';
import { detectFraud, type Alert, type CardSum } from '../../fraud/jobs/fraud-logic.ts';
import type { Txn } from '../../fraud/jobs/transactions.ts';

export type { Alert, CardSum };

const env = process.env;
export const topics = {
  transactions: env.DEMO_TXNS_TOPIC ?? 'transactions',
  sums: env.DEMO_SUMS_TOPIC ?? 'card-sums',
  alerts: env.DEMO_ALERTS_TOPIC ?? 'alerts',
};

export default defineJob('fraud-detection-kafka', (e) => {
  const txns = e.fromSource(
    KafkaSource.json<Txn>({ topics: [topics.transactions], groupId: env.DEMO_GROUP ?? 'fraud', startFrom: 'committed', bounded: env.DEMO_UNBOUNDED !== '1' }),
    { uid: 'transactions', watermarks: WatermarkStrategy.boundedOutOfOrderness<Txn>('5s').withTimestamp((t) => t.ts).withIdleness('30s') },
  );

  const { perMinute, alerts } = detectFraud(txns);

  perMinute.sinkTo(KafkaSink.json<CardSum>({ topic: topics.sums, key: (r) => r.card, deliveryGuarantee: 'exactly-once' }), { uid: 'sums-out' });
  alerts.sinkTo(KafkaSink.json<Alert>({ topic: topics.alerts, key: (a) => a.card, deliveryGuarantee: 'exactly-once' }), { uid: 'alerts-out' });
}, { module: import.meta.url, checkpointInterval: '1s' });
