import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agg, defineJob, sinks, sources, UserFunctionError, WatermarkStrategy, windows, type Source } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { ManualClock } from '@millrace/testing';

interface R { k: string; ts: number }

test('regression: a throwing key selector fails the keyed step by its own name at parallelism 2, as at parallelism 1', async () => {
  for (const parallelism of [1, 2]) {
    const job = defineJob('keys', (env) => {
      env.fromArray<R>([{ k: 'a', ts: 1 }, { k: '', ts: 2 }], { uid: 'src' })
        .map((r) => r, { name: 'pre' })
        .keyBy((r) => { if (!r.k) throw new Error('empty key'); return r.k; })
        .aggregate(agg.count(), { uid: 'counter' })
        .sinkTo(sinks.collect(), { uid: 'out' });
    });
    await assert.rejects(runJob(job, { overrides: { parallelism }, workers: 0 }).done, (e: unknown) => {
      assert.ok(e instanceof UserFunctionError, String(e));
      assert.equal(e.step, 'counter', `at parallelism ${parallelism}`);
      assert.match(e.message, /step 'counter' \(uid 'counter'\).*empty key/);
      return true;
    });
  }
});

/** A source that returns its records once, then waits forever (like a quiet Kafka partition); `waiting` resolves then. */
function quietAfter<T>(values: T[]): { source: Source<T>; waiting: Promise<void> } {
  let signal: () => void = () => {};
  const waiting = new Promise<void>((r) => (signal = r));
  return {
    waiting,
    source: {
      description: 'quiet',
      bounded: false,
      createReader: () => {
        let sent = false;
        return {
          next() {
            if (!sent) { sent = true; return values.length ? { values } : new Promise(() => signal()); }
            signal();
            return new Promise(() => {});
          },
          snapshot: () => (sent ? 1 : 0),
        };
      },
    },
  };
}

test('regression: runJob marks a source idle while it waits for records, so a union with it still fires windows', async () => {
  const clock = new ManualClock(1_000);
  const busy = quietAfter<R>([{ k: 'a', ts: 1_000 }, { k: 'a', ts: 2_000 }, { k: 'a', ts: 70_000 }]);
  const silent = quietAfter<R>([]);
  const out = sinks.collect<number>();
  const strategy = WatermarkStrategy.boundedOutOfOrderness<R>(0).withTimestamp((r) => r.ts).withIdleness('30s');
  const job = defineJob('idle', (env) => {
    env.fromSource(busy.source, { uid: 'busy', watermarks: strategy })
      .union(env.fromSource(silent.source, { uid: 'silent', watermarks: strategy }))
      .keyBy((r) => r.k).window(windows.tumbling('1m')).aggregate(agg.count(), { uid: 'count' })
      .sinkTo(out, { uid: 'out' });
  });
  const handle = runJob(job, { clock });
  await Promise.all([busy.waiting, silent.waiting]);
  assert.deepEqual(out.values(), [], 'the silent source holds the watermark back before its idleness timeout');
  clock.advance(29_999);
  assert.deepEqual(out.values(), []);
  clock.advance(1);
  assert.deepEqual(out.values(), [2], 'once idle, the busy source alone moves the watermark past the first window');
  await handle.cancel();
});
