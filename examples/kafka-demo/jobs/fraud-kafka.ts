/**
 * The fraud job (examples/fraud/jobs/fraud.ts) from Kafka to Kafka: card transactions from a topic, per-card
 * one-minute sums and small-then-large alerts to two topics, exactly-once. Topic and group names come from
 * environment variables (the demo sets unique ones); bounded, so it ends at the end of the topic.
 */
import { agg, defineJob, valueState, WatermarkStrategy, windows } from '@millrace/core';
import { KafkaSink, KafkaSource } from '@millrace/kafka';
import type { Txn } from '../../fraud/jobs/transactions.ts';

export interface Alert { card: string; small: number; large: number; ts: number }
export interface CardSum { card: string; end: number; total: number }

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

  const perMinute = txns
    .keyBy((t) => t.card)
    .window(windows.tumbling('1m'))
    .aggregate(agg.sum((t: Txn) => t.amount), (card, window, total): CardSum => ({ card, end: window.end, total }), { uid: 'per-card-sums' });

  const alerts = txns
    .keyBy((t) => t.card)
    .process<Alert>({ uid: 'small-then-large' })
    .withState({ small: valueState<Txn>({ ttl: '1m' }) })
    .handle({
      onElement(t, { state, timers, emit }) {
        const small = state.small.value();
        if (t.amount < 100) {
          state.small.update(t);
          timers.registerEventTimeTimer(t.ts + 60_000);
        } else if (small && t.amount > 50_000 && t.ts - small.ts <= 60_000) {
          emit({ card: t.card, small: small.amount, large: t.amount, ts: t.ts });
          state.small.clear();
        }
      },
      onTimer(ts, { state }) {
        const small = state.small.value();
        if (small && small.ts + 60_000 <= ts) state.small.clear();
      },
    });

  perMinute.sinkTo(KafkaSink.json<CardSum>({ topic: topics.sums, key: (r) => r.card, deliveryGuarantee: 'exactly-once' }), { uid: 'sums-out' });
  alerts.sinkTo(KafkaSink.json<Alert>({ topic: topics.alerts, key: (a) => a.card, deliveryGuarantee: 'exactly-once' }), { uid: 'alerts-out' });
}, { module: import.meta.url, checkpointInterval: '1s' });
