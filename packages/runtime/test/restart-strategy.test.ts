import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from '../src/parallel/restart-strategy.ts';

test('none gives up at the first failure', () => {
  assert.equal(new RestartPolicy().next(0), undefined);
});

test('fixed delay restarts the given number of times with the same delay', () => {
  const p = new RestartPolicy({ type: 'fixed-delay', attempts: 2, delay: '2s' });
  assert.deepEqual([p.next(0), p.next(1), p.next(2)], [2_000, 2_000, undefined]);
});

test('exponential backoff doubles (or multiplies) up to the maximum delay', () => {
  const p = new RestartPolicy({ type: 'exponential-backoff', attempts: 5, initialDelay: 100, maxDelay: 500, multiplier: 3 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((t) => p.next(t)), [100, 300, 500, 500, 500, undefined]);
});

test('failure rate restarts while at most maxFailures fall within the interval', () => {
  const p = new RestartPolicy({ type: 'failure-rate', maxFailures: 2, interval: '1m', delay: 10 });
  assert.equal(p.next(0), 10);
  assert.equal(p.next(30_000), 10);
  assert.equal(p.next(50_000), undefined, 'a third failure within a minute');
  const q = new RestartPolicy({ type: 'failure-rate', maxFailures: 2, interval: '1m', delay: 10 });
  assert.equal(q.next(0), 10);
  assert.equal(q.next(30_000), 10);
  assert.equal(q.next(70_000), 10, 'the first failure has left the window');
});
