import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toMillis, type Duration } from '@millrace/core';

test('toMillis converts every unit to milliseconds', () => {
  assert.equal(toMillis('250ms'), 250);
  assert.equal(toMillis('5s'), 5_000);
  assert.equal(toMillis('1m'), 60_000);
  assert.equal(toMillis('2h'), 7_200_000);
  assert.equal(toMillis('1d'), 86_400_000);
  assert.equal(toMillis('0s'), 0);
});

test('toMillis accepts fractional amounts', () => {
  assert.equal(toMillis('1.5s'), 1_500);
  assert.equal(toMillis('0.5m'), 30_000);
});

test('toMillis passes non-negative numbers through as milliseconds', () => {
  assert.equal(toMillis(0), 0);
  assert.equal(toMillis(1_234), 1_234);
  assert.equal(toMillis(0.5), 0.5);
});

test('toMillis rejects negative, infinite and NaN numbers, naming the setting', () => {
  assert.throws(() => toMillis(-1, 'window size'), { name: 'RangeError', message: 'window size must be a non-negative number of milliseconds, got -1' });
  assert.throws(() => toMillis(Number.POSITIVE_INFINITY, 'ttl'), { name: 'RangeError', message: 'ttl must be a non-negative number of milliseconds, got Infinity' });
  assert.throws(() => toMillis(Number.NaN), { name: 'RangeError', message: 'duration must be a non-negative number of milliseconds, got NaN' });
});

test('toMillis rejects strings without a known unit, naming the setting and the value', () => {
  const bad = ['5', '5 sec', '1w', 'ms', '', 's5', '1e3ms'];
  for (const s of bad) {
    assert.throws(() => toMillis(s as Duration, 'idleness timeout'), {
      name: 'RangeError',
      message: `idleness timeout must look like '250ms', '5s', '1m', '2h', '1d' or be a number of milliseconds, got '${s}'`,
    }, s);
  }
});

test('toMillis rejects negative duration strings', () => {
  assert.throws(() => toMillis('-5s' as Duration, 'allowedLateness'), { name: 'RangeError', message: "allowedLateness must not be negative, got '-5s'" });
});

test('toMillis trims surrounding whitespace of a string', () => {
  assert.equal(toMillis(' 5s ' as Duration), 5_000);
});
