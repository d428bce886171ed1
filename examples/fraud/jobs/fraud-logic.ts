/**
 * The fraud-detection logic, shared by the demo on the built-in generator (fraud.ts) and the Kafka-to-Kafka demo
 * (examples/kafka-demo): per-card one-minute sums, and an alert when a small charge (< 100) is followed within a
 * minute by a large one (> 50 000) on the same card.
 */
import { agg, OutputTag, valueState, windows, type DataStream } from '@millrace/core';
import type { Txn } from './transactions.ts';

export interface Alert { card: string; small: number; large: number; ts: number }
export interface CardSum { card: string; end: number; total: number }

/** Transactions too late for their one-minute window, even with 30 s of allowed lateness. */
export const lateTxns = new OutputTag<Txn>('late-txns');

/** Adds the two stateful steps (uids `per-card-sums` and `small-then-large`) to a stream of transactions. */
export function detectFraud(txns: DataStream<Txn>): { perMinute: DataStream<CardSum>; alerts: DataStream<Alert> } {
  const perMinute = txns
    .keyBy((t) => t.card)
    .window(windows.tumbling('1m'))
    .allowedLateness('30s')
    .sideOutputLateData(lateTxns)
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
  return { perMinute, alerts };
}
