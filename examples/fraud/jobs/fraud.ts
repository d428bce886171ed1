/**
 * Fraud detection: per-card 1-minute sums of spending, and an alert when a small charge (< 100) is followed within a
 * minute by a large one (> 50 000) on the same card. Runs on the built-in transaction generator; tests replace its
 * source and sinks by uid (see test/fraud.test.ts).
 */
import { defineJob, WatermarkStrategy } from '@millrace/core';
import { detectFraud, lateTxns, type Alert, type CardSum } from './fraud-logic.ts';
import { transaction, type Txn } from './transactions.ts';

export type { Alert, CardSum, Txn };
export { lateTxns };

/** How many transactions the demo generates; `FRAUD_COUNT` overrides it. */
export const COUNT = Number(process.env.FRAUD_COUNT ?? 30_000);

export default defineJob('fraud-detection', (env) => {
  const txns = env.generate({ count: COUNT, generate: (i) => transaction(i) }, {
    uid: 'transactions',
    watermarks: WatermarkStrategy.boundedOutOfOrderness<Txn>('5s').withTimestamp((t) => t.ts),
  });

  const { perMinute, alerts } = detectFraud(txns);

  perMinute.print('sum', { uid: 'sums-out' });
  alerts.print('ALERT', { uid: 'alerts-out' });
  perMinute.getSideOutput(lateTxns).print('late', { uid: 'late-out' });
});
