import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agg, defineJob, sinks, UserFunctionError, valueState, windows, WatermarkStrategy,
  type DataStream, type DeadLetter, type ErrorPolicy, type JobDefinition, type StreamEnvironment,
} from '@millrace/core';
import { JobTestDriver } from '@millrace/testing';
import { runJob } from '@millrace/runtime';

interface Ev { readonly key: string; readonly n: number; readonly ts: number }
const ev = (key: string, n: number, ts: number): Ev => ({ key, n, ts });
const wm = WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts);
const POISON = 13;

class PoisonError extends Error {
  override readonly name = 'PoisonError';
}
const check = (e: Ev): Ev => {
  if (e.n === POISON) throw new PoisonError(`poison record ${e.key}/${e.n}`);
  return e;
};

/** One step of each kind, each throwing on n === 13; the step is named 'step' and has uid 'the-step'. */
const failing: Record<string, (s: DataStream<Ev>, onError?: ErrorPolicy) => DataStream<any>> = {
  map: (s, onError) => s.map((e) => check(e).n, { name: 'step', uid: 'the-step', onError }),
  filter: (s, onError) => s.filter((e) => check(e).n > 0, { name: 'step', uid: 'the-step', onError }),
  flatMap: (s, onError) => s.flatMap((e) => [check(e).n], { name: 'step', uid: 'the-step', onError }),
  process: (s, onError) => s.process<number>((e, ctx) => ctx.emit(check(e).n), { name: 'step', uid: 'the-step', onError }),
  'keyed process': (s, onError) =>
    s.keyBy((e) => e.key).process<number>({ name: 'step', uid: 'the-step', onError }).withState({ last: valueState<number>() }).handle({
      onElement(e, ctx) { ctx.state.last.update(e.n); ctx.emit(check(e).n); },
    }),
  'window aggregate': (s, onError) =>
    s.keyBy((e) => e.key).window(windows.tumbling('1s')).aggregate(agg.sum((e: Ev) => check(e).n), { name: 'step', uid: 'the-step', onError }),
};

function jobWith(kind: string, opts: { jobPolicy?: ErrorPolicy; stepPolicy?: ErrorPolicy; deadLetters: boolean }): JobDefinition {
  return defineJob(`errors-${kind.replace(' ', '-')}`, (env: StreamEnvironment) => {
    const src = env.fromArray<Ev>([], { uid: 'src', watermarks: wm });
    failing[kind]!(src, opts.stepPolicy).sinkTo(sinks.collect(), { uid: 'out' });
    if (opts.deadLetters) env.deadLetters().sinkTo(sinks.collect(), { uid: 'dead' });
  }, { errorPolicy: opts.jobPolicy });
}

for (const kind of Object.keys(failing)) {
  test(`a ${kind} function that throws fails the job with a UserFunctionError naming the step, its uid and the timestamp`, async () => {
    await using driver = JobTestDriver.of(jobWith(kind, { deadLetters: false }));
    driver.input<Ev>('src').push(ev('a', 1, 1_000));
    let caught: unknown;
    try {
      driver.input<Ev>('src').push(ev('a', POISON, 1_500));
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof UserFunctionError, `expected a UserFunctionError, got ${String(caught)}`);
    assert.equal(caught.message, "user function of step 'step' (uid 'the-step') threw on a record with timestamp 1500: poison record a/13");
    assert.equal(caught.step, 'step');
    assert.equal(caught.uid, 'the-step');
    assert.equal(caught.timestamp, 1_500);
    assert.deepEqual(caught.value, ev('a', POISON, 1_500));
    assert.ok(caught.cause instanceof PoisonError);
    // The job stays failed: the next call throws the same error.
    assert.throws(() => driver.input<Ev>('src').push(ev('a', 2, 2_000)), (e) => e === caught);
  });

  for (const where of ['job', 'step'] as const) {
    test(`with the skip policy set on the ${where}, a ${kind} failure goes to env.deadLetters() and processing continues`, async () => {
      const job = jobWith(kind, { deadLetters: true, ...(where === 'job' ? { jobPolicy: 'skip' } : { stepPolicy: 'skip' }) });
      await using driver = JobTestDriver.of(job);
      const input = [ev('a', 1, 1_000), ev('a', POISON, 1_200), ev('b', 2, 1_300), ev('a', 3, 1_400), ev('b', POISON, 1_700)];
      driver.input<Ev>('src').push(...input).advanceWatermark(2_000);
      const dead = driver.output<DeadLetter<Ev>>('dead').records();
      assert.deepEqual(
        dead.map((r) => ({ ...r.value, stack: typeof r.value.stack })),
        [
          { step: 'step', uid: 'the-step', value: ev('a', POISON, 1_200), timestamp: 1_200, error: 'poison record a/13', errorType: 'PoisonError', stack: 'string' },
          { step: 'step', uid: 'the-step', value: ev('b', POISON, 1_700), timestamp: 1_700, error: 'poison record b/13', errorType: 'PoisonError', stack: 'string' },
        ],
      );
      // Dead letters keep the record's timestamp.
      assert.deepEqual(dead.map((r) => r.timestamp), [1_200, 1_700]);
      assert.match(dead[0]!.value.stack!, /^PoisonError: poison record a\/13\n/);
      const out = driver.output('out').values();
      if (kind === 'window aggregate') {
        // The window [1000, 2000) of each key holds only the good records.
        assert.deepEqual(out, [4, 2]);
      } else {
        // Nothing lost: every good record came out once.
        assert.deepEqual(out, kind === 'filter' ? [ev('a', 1, 1_000), ev('b', 2, 1_300), ev('a', 3, 1_400)] : [1, 2, 3]);
        assert.equal(out.length + dead.length, input.length);
      }
      const metrics = driver.metrics().find((m) => m.uid === 'the-step' || m.name.includes('step'))!;
      assert.equal(metrics.deadLetters, 2);
    });
  }
}

test("a step's onError: 'fail' overrides the job's 'skip' policy", async () => {
  const job = defineJob('override-fail', (env) => {
    env.fromArray<Ev>([], { uid: 'src', watermarks: wm })
      .map((e) => check(e), { name: 'lenient' })
      .map((e) => { if (e.n === 7) throw new TypeError('seven'); return e.n; }, { name: 'strict', uid: 'strict', onError: 'fail' })
      .sinkTo(sinks.collect(), { uid: 'out' });
    env.deadLetters().sinkTo(sinks.collect(), { uid: 'dead' });
  }, { errorPolicy: 'skip' });
  await using driver = JobTestDriver.of(job);
  driver.input<Ev>('src').push(ev('a', POISON, 1), ev('a', 1, 2));
  assert.deepEqual(driver.output('out').values(), [1]);
  assert.deepEqual(driver.output<DeadLetter>('dead').values().map((d) => [d.step, d.uid, d.errorType]), [['lenient', 'map-2', 'PoisonError']]);
  assert.throws(() => driver.input<Ev>('src').push(ev('a', 7, 3)), {
    name: 'UserFunctionError',
    message: "user function of step 'strict' (uid 'strict') threw on a record with timestamp 3: seven",
  });
});

test('a record without a timestamp is reported as such', async () => {
  const job = defineJob('no-ts', (env) => {
    env.fromArray<Ev>([], { uid: 'src' }).map((e) => check(e).n, { name: 'parse' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using driver = JobTestDriver.of(job);
  assert.throws(() => driver.input<Ev>('src').push(ev('a', POISON, 1)), {
    name: 'UserFunctionError',
    message: "user function of step 'parse' (uid 'map-2') threw on a record without a timestamp: poison record a/13",
  });
});

test('a thrown non-Error value is reported with its string form', async () => {
  const job = defineJob('throws-string', (env) => {
    env.fromArray<Ev>([], { uid: 'src', watermarks: wm }).map((e) => { if (e.n === POISON) throw 'just a string'; return e.n; }, { name: 'm' }).sinkTo(sinks.collect(), { uid: 'out' });
    env.deadLetters().sinkTo(sinks.collect(), { uid: 'dead' });
  }, { errorPolicy: 'skip' });
  await using driver = JobTestDriver.of(job);
  driver.input<Ev>('src').push(ev('a', POISON, 9));
  assert.deepEqual(driver.output<DeadLetter>('dead').values().map((d) => [d.error, d.errorType, d.timestamp]), [['just a string', 'Error', 9]]);
});

test('a timestamp assigner that throws fails the job naming the source', async () => {
  const job = defineJob('bad-ts', (env) => {
    env.fromArray<Ev>([], { uid: 'src', watermarks: WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => check(e).ts) })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using driver = JobTestDriver.of(job);
  assert.throws(() => driver.input<Ev>('src').push(ev('a', POISON, 5)), {
    name: 'UserFunctionError',
    message: "user function of step 'src' (uid 'src') threw on a record without a timestamp: poison record a/13",
  });
});

test('an in-thread run with the skip policy loses nothing: records in = records out + dead letters', async () => {
  const input = Array.from({ length: 500 }, (_, i) => ev(`k${i % 7}`, i % 50, i));
  const out = sinks.collect<number>();
  const dead = sinks.collect<DeadLetter>();
  const job = defineJob('count-in-out', (env) => {
    env.fromArray(input, { uid: 'src', watermarks: wm })
      .map((e) => check(e), { name: 'check' })
      .keyBy((e) => e.key)
      .process<number>({ uid: 'double' })
      .handle({ onElement(e, ctx) { if (e.n === 21) throw new Error('twenty-one'); ctx.emit(e.n * 2); } })
      .sinkTo(out, { uid: 'out' });
    env.deadLetters().sinkTo(dead, { uid: 'dead' });
  }, { errorPolicy: 'skip', parallelism: 2 });
  const result = await runJob(job, { workers: 0 }).done;
  assert.equal(result.status, 'finished');
  assert.equal(result.recordsRead, 500);
  assert.equal(dead.values().filter((d) => d.step === 'check').length, 10);
  assert.equal(dead.values().filter((d) => d.step === 'double').length, 10);
  assert.equal(out.values().length + dead.values().length, 500);
  assert.deepEqual(out.values().sort((a, b) => a - b), input.filter((e) => e.n !== POISON && e.n !== 21).map((e) => e.n * 2).sort((a, b) => a - b));
});
