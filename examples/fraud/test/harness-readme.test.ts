import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperatorHarness } from '@millrace/testing';
import type { Txn } from '../jobs/fraud.ts';

// The OperatorHarness example of the README, kept runnable.
test('README: an event-time timer fires when the watermark passes it, before the watermark is forwarded', () => {
  const txn: Txn = { card: 'c1', amount: 5, ts: 100, merchant: 'm' };
  const h = OperatorHarness.keyed((t: Txn) => t.card, (s) => s.process<string>({ uid: 'p' }).handle({
    onElement(t, { timers }) { timers.registerEventTimeTimer(t.ts + 10); },
    onTimer(ts, { key, emit }) { emit(`${key}@${ts}`); },
  }));
  h.processElement(txn, 100).processWatermark(110);
  assert.deepEqual(h.output(), [{ kind: 'record', value: 'c1@110', timestamp: 110 }, { kind: 'watermark', watermark: 110 }]);
});
