/**
 * Fraud detection: per-card 1-minute sums of spending, and an alert when a small charge (< 100) is followed within a
 * minute by a large one (> 50 000) on the same card. Runs on the built-in transaction generator; tests replace its
 * source and sinks by uid (see test/fraud.test.ts).
 */
import { agg, defineJob, OutputTag, valueState, WatermarkStrategy, windows } from '@millrace/core';
import { transaction, type Txn } from './transactions.ts';

export type { Txn };
export interface Alert { card: string; small: number; large: number; ts: number }
export interface CardSum { card: string; end: number; total: number }

export const lateTxns = new OutputTag<Txn>('late-txns');

/** How many transactions the demo generates; `FRAUD_COUNT` overrides it. */
export const COUNT = Number(process.env.FRAUD_COUNT ?? 30_000);

export default defineJob('fraud-detection', (env) => {
  const txns = env.generate({ count: COUNT, generate: (i) => transaction(i) }, {
    uid: 'transactions',
    watermarks: WatermarkStrategy.boundedOutOfOrderness<Txn>('5s').withTimestamp((t) => t.ts),
  });

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

  perMinute.print('sum', { uid: 'sums-out' });
  alerts.print('ALERT', { uid: 'alerts-out' });
  perMinute.getSideOutput(lateTxns).print('late', { uid: 'late-out' });
});
