import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordBatch } from '../src/record-batch.js';

test('clearing a batch keeps its arrays and drops its references to records', () => {
  const b = new RecordBatch();
  const values = b.values;
  for (let i = 0; i < 5; i++) b.push({ i }, i * 10);
  b.clear();
  assert.equal(b.length, 0);
  assert.equal(b.values, values, 'the same array is reused');
  assert.deepEqual(b.values, [undefined, undefined, undefined, undefined, undefined]);
  b.push('x', 1);
  assert.deepEqual([b.values.slice(0, b.length), b.timestamps.slice(0, b.length)], [['x'], [1]]);
  b.clear();
  b.clear();
  assert.equal(b.length, 0);
});
