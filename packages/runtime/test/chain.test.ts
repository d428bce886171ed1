import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTERS, OutputTag, UserFunctionError, WatermarkStrategy, type NodeSpec, type PlanNode, type ProcessFunction } from '@millrace/core';
import { compileChain } from '../src/operators/chain.js';
import { recordFailureHandler, type OperatorMetrics, type Output } from '../src/operators/operator.js';
import { RecordBatch } from '../src/record-batch.js';

/** The generated loop of a fused chain, checked against a plain interpreter of the same steps. */

let nextId = 1;
function node(spec: NodeSpec, name = `${spec.kind}-${nextId}`, errorPolicy?: 'fail' | 'skip'): PlanNode {
  const id = nextId++;
  return { id, uid: `${name}-uid`, name, uidGiven: false, spec, inputs: [], parallelism: undefined, errorPolicy };
}

interface Sent { readonly tag: string; readonly value: unknown; readonly timestamp: number; readonly from: string | undefined }

/** A chain compiled under a policy, with what it sent to side outputs (dead letters included). */
function compiled(steps: readonly PlanNode[], policy: 'fail' | 'skip' = 'fail') {
  const sides: Sent[] = [];
  const output: Output = {
    emit: () => { throw new Error('a chain appends to its output batch, never through emit'); },
    emitSide: (tag, value, timestamp, from) => { sides.push({ tag, value, timestamp, from: from?.uid }); },
  };
  const metrics: OperatorMetrics = { recordsIn: 0, recordsOut: 0, lateRecordsDropped: 0, lateRecordsToSideOutput: 0, deadLetters: 0 };
  const ctx = { output, failRecord: recordFailureHandler(policy, output, metrics, () => true) };
  return { chain: compileChain(steps, ctx, 'test'), sides, metrics };
}

function run(steps: readonly PlanNode[], values: readonly unknown[], timestamps: readonly number[], policy: 'fail' | 'skip' = 'fail') {
  const c = compiled(steps, policy);
  const out = new RecordBatch();
  c.chain.run(values, timestamps, values.length, out);
  return { values: out.values.slice(0, out.length), timestamps: out.timestamps.slice(0, out.length), sides: c.sides, metrics: c.metrics };
}

/** What the chain must do, written the obvious way: one record at a time, step by step. */
function reference(steps: readonly PlanNode[], values: readonly unknown[], timestamps: readonly number[]) {
  const out: Array<[unknown, number]> = [];
  const sides: Sent[] = [];
  const step = (k: number, v: unknown, t: number): void => {
    if (k === steps.length) { out.push([v, t]); return; }
    const s = steps[k]!.spec;
    switch (s.kind) {
      case 'map': step(k + 1, s.fn(v), t); return;
      case 'filter': if (s.fn(v)) step(k + 1, v, t); return;
      case 'flatMap': for (const x of s.fn(v)) step(k + 1, x, t); return;
      case 'process':
        s.fn.onElement(v, {
          timestamp: t === t ? t : undefined,
          currentWatermark: Number.NEGATIVE_INFINITY,
          emit: (x: unknown, ts?: number) => step(k + 1, x, ts ?? t),
          output: (tag: OutputTag<unknown>, x: unknown, ts?: number) => sides.push({ tag: tag.id, value: x, timestamp: ts ?? t, from: steps[k]!.uid }),
        } as never);
        return;
      default: throw new Error(`no reference for ${s.kind}`);
    }
  };
  values.forEach((v, i) => step(0, v, timestamps[i]!));
  return { values: out.map((x) => x[0]), timestamps: out.map((x) => x[1]), sides };
}

/** A small deterministic generator, so that failures reproduce. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

const odd = new OutputTag<number>('odd');

function randomStep(r: () => number): PlanNode {
  const a = Math.floor(r() * 7) + 1;
  switch (Math.floor(r() * 5)) {
    case 0: return node({ kind: 'map', fn: (x: number) => x * 3 + a });
    case 1: return node({ kind: 'filter', fn: (x: number) => x % a !== 0 });
    case 2: return node({ kind: 'flatMap', fn: (x: number) => Array.from({ length: x % 3 }, (_, j) => x + j) });
    case 3: return node({ kind: 'map', fn: (x: number) => x - a });
    default: {
      const fn: ProcessFunction<number, number> = {
        onElement(x, ctx) {
          // Zero to two outputs, some with their own timestamp, and odd values to a side output.
          if (x % 2 !== 0) ctx.output(odd, x);
          for (let j = 0; j < x % 3; j++) ctx.emit(x + j, j === 1 ? (ctx.timestamp ?? 0) + 5 : undefined);
        },
      };
      return node({ kind: 'process', fn });
    }
  }
}

test('random chains of map, filter, flatMap and process give what a record-at-a-time interpreter gives', () => {
  const r = random(42);
  for (let round = 0; round < 300; round++) {
    const steps = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomStep(r));
    const n = Math.floor(r() * 40);
    const values = Array.from({ length: n }, () => Math.floor(r() * 100));
    const timestamps = Array.from({ length: n }, (_, i) => (r() < 0.1 ? Number.NaN : i * 10));
    const got = run(steps, values, timestamps);
    const want = reference(steps, values, timestamps);
    const shape = steps.map((s) => s.spec.kind).join(' → ');
    assert.deepEqual(got.values, want.values, `values of ${shape}`);
    assert.deepEqual(got.timestamps, want.timestamps, `timestamps of ${shape}`);
    assert.deepEqual(got.sides, want.sides, `side outputs of ${shape}`);
  }
});

test('a chain appends to what its output batch already holds', () => {
  const c = compiled([node({ kind: 'map', fn: (x: number) => x + 1 })]);
  const out = new RecordBatch();
  out.push('kept', 7);
  c.chain.run([1, 2], [10, 20], 2, out);
  c.chain.run([3], [30], 1, out);
  assert.deepEqual([out.values.slice(0, out.length), out.timestamps.slice(0, out.length)], [['kept', 2, 3, 4], [7, 10, 20, 30]]);
});

test('a chain of filters only', () => {
  const steps = [node({ kind: 'filter', fn: (x: number) => x > 2 }), node({ kind: 'filter', fn: (x: number) => x % 2 === 0 })];
  const got = run(steps, [1, 2, 3, 4, 5, 6, 8], [1, 2, 3, 4, 5, 6, 8]);
  assert.deepEqual([got.values, got.timestamps], [[4, 6, 8], [4, 6, 8]]);
});

test('a flatMap may emit more records than the batch had', () => {
  const steps = [node({ kind: 'flatMap', fn: (x: number) => Array.from({ length: 1_000 }, (_, j) => x * 1_000 + j) })];
  const got = run(steps, [0, 1, 2], [5, 6, 7]);
  assert.equal(got.values.length, 3_000);
  assert.deepEqual([got.values[0], got.values[1_999], got.values[2_999]], [0, 1_999, 2_999]);
  assert.deepEqual([got.timestamps[0], got.timestamps[1_999], got.timestamps[2_999]], [5, 6, 7]);
});

test('process steps in a row: each continuation runs the rest of the chain, in emission order', () => {
  const twice: ProcessFunction<number, number> = { onElement(x, ctx) { ctx.emit(x); ctx.emit(x + 100, 1); } };
  const steps = [
    node({ kind: 'process', fn: twice }),
    node({ kind: 'map', fn: (x: number) => x * 2 }),
    node({ kind: 'process', fn: twice }),
    node({ kind: 'filter', fn: (x: number) => x !== 102 }),
  ];
  const got = run(steps, [1], [50]);
  // 1 → (1 @50, 101 @1) → ×2 → (2 @50, 202 @1) → each twice.
  assert.deepEqual(got.values, [2, 202, 302]);
  assert.deepEqual(got.timestamps, [50, 1, 1]);
  assert.deepEqual(got, { ...reference(steps, [1], [50]), metrics: got.metrics });
});

test('side outputs of a process step in a chain name the step and keep the record timestamp unless given one', () => {
  const late = new OutputTag<string>('late');
  const fn: ProcessFunction<number, number> = { onElement(x, ctx) { ctx.output(late, `v${x}`); ctx.output(late, 'again', 99); ctx.emit(x); } };
  const p = node({ kind: 'process', fn }, 'splitter');
  const got = run([node({ kind: 'map', fn: (x: number) => x + 1 }), p], [1, 2], [10, Number.NaN]);
  assert.deepEqual(got.values, [2, 3]);
  assert.equal(got.sides.length, 4);
  assert.deepEqual(got.sides.slice(0, 3), [
    { tag: 'late', value: 'v2', timestamp: 10, from: 'splitter-uid' },
    { tag: 'late', value: 'again', timestamp: 99, from: 'splitter-uid' },
    { tag: 'late', value: 'v3', timestamp: Number.NaN, from: 'splitter-uid' },
  ]);
});

/** A function that throws on 13, named by the step it is in. */
const boom = (x: number): number => {
  if (x === 13) throw new RangeError(`thirteen`);
  return x;
};
const throwing: Record<string, () => NodeSpec> = {
  map: () => ({ kind: 'map', fn: boom }),
  filter: () => ({ kind: 'filter', fn: (x: number) => boom(x) >= 0 }),
  'flatMap (call)': () => ({ kind: 'flatMap', fn: (x: number) => [boom(x)] }),
  'flatMap (iteration)': () => ({ kind: 'flatMap', fn: function* (x: number) { yield x; boom(x); } }),
  process: () => ({ kind: 'process', fn: { onElement(x: number, ctx) { ctx.emit(boom(x)); } } satisfies ProcessFunction<number, number> }),
};

for (const [kind, spec] of Object.entries(throwing)) {
  for (const position of ['first', 'middle', 'last'] as const) {
    const stepsWith = (s: PlanNode): PlanNode[] => {
      const before = node({ kind: 'map', fn: (x: number) => x });
      const after = node({ kind: 'filter', fn: () => true });
      return position === 'first' ? [s, before, after] : position === 'middle' ? [before, s, after] : [before, after, s];
    };

    test(`a throwing ${kind} step (${position} in the chain) fails with a UserFunctionError naming the step, its uid and the timestamp`, () => {
      const s = node(spec(), 'bad step');
      const c = compiled(stepsWith(s));
      const out = new RecordBatch();
      let caught: unknown;
      try {
        c.chain.run([1, 13, 2], [100, 1_300, 200], 3, out);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof UserFunctionError, `expected a UserFunctionError, got ${String(caught)}`);
      assert.equal(caught.message, "user function of step 'bad step' (uid 'bad step-uid') threw on a record with timestamp 1300: thirteen");
      assert.equal(caught.value, 13);
      assert.ok(caught.cause instanceof RangeError);
      // What came out before the failure is still counted in the output batch (a generator yields 13 before it throws).
      assert.deepEqual(out.values.slice(0, out.length), kind === 'flatMap (iteration)' ? [1, 13] : [1]);
    });

    test(`under the skip policy a throwing ${kind} step (${position} in the chain) dead-letters its own input and goes on`, () => {
      const s = node(spec(), 'bad step');
      const got = run(stepsWith(s), [1, 13, 2, 13], [100, 1_300, 200, Number.NaN], 'skip');
      // The generator flatMap yields 13 before it throws: that record is out already, as it would be one at a time.
      assert.deepEqual(got.values, kind === 'flatMap (iteration)' ? [1, 13, 2, 13] : [1, 2]);
      assert.deepEqual(got.sides.map((d) => [d.tag, d.from, d.timestamp]), [[DEAD_LETTERS.id, 'bad step-uid', 1_300], [DEAD_LETTERS.id, 'bad step-uid', Number.NaN]]);
      const letter = got.sides[0]!.value as { step: string; uid: string; value: unknown; timestamp: number | undefined; error: string; errorType: string };
      assert.deepEqual([letter.step, letter.uid, letter.value, letter.timestamp, letter.error, letter.errorType], ['bad step', 'bad step-uid', 13, 1_300, 'thirteen', 'RangeError']);
      assert.equal((got.sides[1]!.value as { timestamp: unknown }).timestamp, undefined);
      assert.equal(got.metrics.deadLetters, 2);
    });
  }
}

test('a step after a process step that throws under skip loses only its own input, not the other emitted records', () => {
  const fan: ProcessFunction<number, number> = { onElement(x, ctx) { for (const y of [x, 13, x + 1]) ctx.emit(y); } };
  const got = run([node({ kind: 'process', fn: fan }), node({ kind: 'map', fn: boom }, 'after')], [1, 5], [10, 50], 'skip');
  assert.deepEqual(got.values, [1, 2, 5, 6]);
  assert.deepEqual(got.sides.map((d) => [d.from, d.timestamp]), [['after-uid', 10], ['after-uid', 50]]);
});

test('a timestamps step in a chain assigns timestamps and feeds its watermark generator; a bad timestamp names the step', () => {
  type E = { readonly n: number; readonly at: unknown };
  const strategy = WatermarkStrategy.boundedOutOfOrderness<E>(5).withTimestamp((e) => e.at as number);
  const steps = [node({ kind: 'timestamps', strategy }, 'stamp'), node({ kind: 'map', fn: (e: E) => e.n })];
  const c = compiled(steps, 'skip');
  const out = new RecordBatch();
  c.chain.run([{ n: 1, at: 100 }, { n: 2, at: 'soon' }, { n: 3, at: 90 }], [Number.NaN, 7, Number.NaN], 3, out);
  assert.deepEqual([out.values.slice(0, out.length), out.timestamps.slice(0, out.length)], [[1, 3], [100, 90]]);
  assert.equal(c.chain.watermark!(), 100 - 5 - 1);
  assert.deepEqual(c.sides.map((d) => [d.from, d.timestamp, (d.value as { error: string }).error]), [['stamp-uid', 7, 'timestamp assigner returned soon, not a number']]);
});

test('the generated source holds no user text: step names and uids stay out of it, and its sourceURL is sanitized', () => {
  const evil = "x'); throw new Error('injected'); //\n*/ `${1}`";
  const steps = [node({ kind: 'map', fn: (x: number) => x + 1 }, evil), node({ kind: 'filter', fn: () => true }, evil)];
  const out = new RecordBatch();
  const output: Output = { emit: () => {}, emitSide: () => {} };
  const c = compileChain(steps, { output, failRecord: () => {} }, evil);
  c.run([1], [0], 1, out);
  assert.deepEqual(out.values.slice(0, out.length), [2]);
  const source = c.run.toString();
  assert.ok(!source.includes('injected') && !source.includes(evil), source);
});
