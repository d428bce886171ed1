import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValues, encodeValues } from '../src/parallel/batch-codec.ts';

const roundTrip = (values: unknown[], n = values.length) => {
  const transfer: ArrayBuffer[] = [];
  const e = encodeValues(values, n, transfer);
  return { e, transfer, back: decodeValues(structuredClone(e, { transfer })) };
};

test('flat records of numbers, strings and booleans travel as columns and come back equal', () => {
  const values = [
    { id: 1, key: 'a', v: 0.5, ok: true, ts: -0 },
    { id: 2, key: '', v: Number.NaN, ok: false, ts: Number.POSITIVE_INFINITY },
    { id: 3, key: 'ü', v: -1e300, ok: true, ts: 2 ** 53 },
  ];
  const { e, transfer, back } = roundTrip(values);
  assert.equal(e.c, 1);
  assert.equal(transfer.length, 4, 'the number and boolean columns are transferred');
  assert.deepEqual(back, values);
  assert.ok(Object.is((back[0] as { ts: number }).ts, -0));
});

test('only the first n values are sent', () => {
  const { back } = roundTrip([{ a: 1 }, { a: 2 }, { a: 3 }], 2);
  assert.deepEqual(back, [{ a: 1 }, { a: 2 }]);
});

test('anything that is not a flat record of primitives goes by structured clone, unchanged', () => {
  const cases: unknown[][] = [
    [{ a: 1 }, { a: 1, b: 2 }],
    [{ a: 1, b: 2 }, { a: 1 }],
    [{ a: 1 }, { a: 'x' }],
    [{ a: 1 }, { b: 1 }],
    [{ a: undefined }],
    [{ a: null }],
    [{ a: { nested: 1 } }],
    [{ a: [1, 2] }],
    [new Map([[1, 2]])],
    [1, 2, 3],
    ['x', 'y'],
    [{ a: 1n }],
    [{}],
  ];
  for (const values of cases) {
    const { e, back } = roundTrip(values);
    assert.equal(e.c, 0, JSON.stringify(values, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    assert.deepEqual(back, values);
  }
  // Structured clone keeps a null-prototype object's fields, not its prototype (as any postMessage does).
  const { e, back } = roundTrip([Object.assign(Object.create(null), { a: 1 })]);
  assert.equal(e.c, 0);
  assert.deepEqual(back, [{ a: 1 }]);
});

test('the generated encoder of a shape checks every record: a later record of another shape sends the batch by clone', () => {
  const good = Array.from({ length: 50 }, (_, i) => ({ x: i, y: `s${i}`, z: i % 2 === 0 }));
  assert.equal(roundTrip(good).e.c, 1);
  const variants: unknown[] = [
    { x: 1, y: 's', z: true, extra: 1 },
    { x: 1, y: 's' },
    { x: 1, y: 's', w: true },
    { x: '1', y: 's', z: true },
    { x: 1, y: 2, z: true },
    { x: 1, y: 's', z: 1 },
    null,
    7,
    Object.assign(Object.create({ inherited: 1 }), { x: 1, y: 's', z: true }),
  ];
  for (const bad of variants) {
    const values = [...good.slice(0, 30), bad, ...good.slice(30)];
    const { e, back } = roundTrip(values);
    assert.equal(e.c, 0, String(JSON.stringify(bad)));
    assert.deepEqual(back, values.map((v) => (v !== null && typeof v === 'object' ? { ...v } : v)));
  }
  // The same shape encodes by columns again afterwards (the encoder is cached per shape, not poisoned by a failure).
  assert.equal(roundTrip(good).e.c, 1);
});

test('records with the same fields in another order, and field names that are not identifiers, travel as columns', () => {
  const odd = ["it's", 'a\\b', 'line\nbreak', '${x}', '*/', 'constructor'];
  const make = (i: number) => Object.fromEntries(odd.map((k, j) => [k, i * 10 + j]));
  const values = [make(1), Object.fromEntries(Object.entries(make(2)).reverse()), make(3)];
  const { e, back } = roundTrip(values);
  assert.equal(e.c, 1);
  assert.deepEqual(back, values);
});
