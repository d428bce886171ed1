import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobTestDriver } from '@millrace/testing';
import fraud, { type Txn } from '../jobs/fraud.ts';

const txn = (card: string, amount: number, ts: number): Txn => ({ card, amount, ts, merchant: 'm' });

test('a small charge followed by a large one within a minute raises an alert', async () => {
  await using driver = JobTestDriver.of(fraud);
  driver.input<Txn>('transactions').push(txn('c1', 40, 1_000), txn('c1', 90_000, 30_000));
  driver.input('transactions').advanceWatermark(61_000);
  assert.deepEqual(driver.output('alerts-out').values(), [{ card: 'c1', small: 40, large: 90_000, ts: 30_000 }]);
  assert.deepEqual(driver.output('sums-out').values(), [{ card: 'c1', end: 60_000, total: 90_040 }]);
});

test('a large charge more than a minute after the small one raises no alert', async () => {
  await using driver = JobTestDriver.of(fraud);
  driver.input<Txn>('transactions').push(txn('c1', 40, 1_000), txn('c1', 90_000, 62_000)).advanceWatermark(200_000);
  assert.deepEqual(driver.output('alerts-out').values(), []);
  assert.deepEqual(driver.output('sums-out').values(), [
    { card: 'c1', end: 60_000, total: 40 },
    { card: 'c1', end: 120_000, total: 90_000 },
  ]);
});

test('a transaction later than the allowed lateness goes to the late output, a later-but-allowed one re-fires the window', async () => {
  await using driver = JobTestDriver.of(fraud);
  const input = driver.input<Txn>('transactions');
  input.push(txn('c1', 10, 1_000)).advanceWatermark(60_000); // window [0, 60 000) fires at 59 999
  input.push(txn('c1', 5, 2_000)); // late but within 30 s of allowed lateness: fires again with the new sum
  input.advanceWatermark(89_999); // cleanup time of the window: 59 999 + 30 000
  input.push(txn('c1', 7, 3_000)); // too late: side output
  assert.deepEqual(driver.output('sums-out').values(), [
    { card: 'c1', end: 60_000, total: 10 },
    { card: 'c1', end: 60_000, total: 15 },
  ]);
  assert.deepEqual(driver.output('late-out').values(), [txn('c1', 7, 3_000)]);
});

test('state survives a checkpoint: the alert fires in a driver restored from it', async () => {
  const first = JobTestDriver.of(fraud);
  first.input<Txn>('transactions').push(txn('c9', 20, 5_000));
  const snapshot = await first.checkpoint();
  await first.close();
  await using second = await JobTestDriver.restore(fraud, snapshot);
  second.input<Txn>('transactions').push(txn('c9', 70_000, 20_000));
  assert.deepEqual(second.output('alerts-out').values(), [{ card: 'c9', small: 20, large: 70_000, ts: 20_000 }]);
});
