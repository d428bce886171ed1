import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agg, defineJob, OutputTag, sinks, valueState, windows, WatermarkStrategy, type TimeWindow } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { JobTestDriver, ManualClock, OperatorHarness } from '@millrace/testing';

interface Ev { readonly key: string; readonly n: number; readonly ts: number }
const ev = (key: string, n: number, ts: number): Ev => ({ key, n, ts });
const monotonous = WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts);

test('union merges two sources into one stream, keeping each input\'s order', async () => {
  const job = defineJob('union', (env) => {
    const a = env.fromArray<Ev>([], { uid: 'a' });
    const b = env.fromArray<Ev>([], { uid: 'b' });
    const c = env.fromArray<Ev>([], { uid: 'c' });
    a.union(b, c).map((e) => `${e.key}${e.n}`).sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('a').push(ev('a', 1, 0), ev('a', 2, 0));
  d.input<Ev>('b').push(ev('b', 1, 0));
  d.input<Ev>('c').push(ev('c', 1, 0));
  d.input<Ev>('a').push(ev('a', 3, 0));
  assert.deepEqual(d.output('out').values(), ['a1', 'a2', 'b1', 'c1', 'a3']);
});

test('flatMap emits zero or more records per input, from arrays and generators, with the input\'s timestamp', async () => {
  const job = defineJob('flat', (env) => {
    env.fromArray<Ev>([], { uid: 'src', watermarks: monotonous })
      .flatMap((e) => Array.from({ length: e.n }, (_, i) => `${e.key}.${i}`))
      .flatMap(function* (s) { yield s; if (s.endsWith('.0')) yield `${s}!`; })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('src').push(ev('x', 2, 10), ev('y', 0, 20), ev('z', 1, 30));
  assert.deepEqual(d.output('out').records(), [
    { value: 'x.0', timestamp: 10 }, { value: 'x.0!', timestamp: 10 }, { value: 'x.1', timestamp: 10 },
    { value: 'z.0', timestamp: 30 }, { value: 'z.0!', timestamp: 30 },
  ]);
});

test('a rolling aggregate on a keyed stream emits each key\'s updated result per record', async () => {
  const job = defineJob('rolling', (env) => {
    const keyed = env.fromArray<Ev>([], { uid: 'src', watermarks: monotonous }).keyBy((e) => e.key);
    keyed.aggregate(agg.sum((e: Ev) => e.n), (key, total) => `${key}=${total}`, { uid: 'sums' }).sinkTo(sinks.collect(), { uid: 'sums-out' });
    keyed.aggregate(agg.count(), { uid: 'counts' }).sinkTo(sinks.collect(), { uid: 'counts-out' });
    keyed.aggregate(agg.max((e: Ev) => e.n), { uid: 'max' }).sinkTo(sinks.collect(), { uid: 'max-out' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('src').push(ev('a', 5, 1), ev('b', 1, 2), ev('a', -2, 3), ev('a', 10, 4), ev('b', 4, 5));
  assert.deepEqual(d.output('sums-out').records(), [
    { value: 'a=5', timestamp: 1 }, { value: 'b=1', timestamp: 2 }, { value: 'a=3', timestamp: 3 }, { value: 'a=13', timestamp: 4 }, { value: 'b=5', timestamp: 5 },
  ]);
  assert.deepEqual(d.output('counts-out').values(), [1, 1, 2, 3, 2]);
  assert.deepEqual(d.output('max-out').values(), [5, 1, 5, 10, 4]);
});

test('a rolling reduce on a keyed stream emits the reduced value per record', async () => {
  const job = defineJob('reduce', (env) => {
    env.fromArray<Ev>([], { uid: 'src' })
      .keyBy((e) => e.key)
      .reduce((acc, e) => ({ key: acc.key, n: acc.n * e.n, ts: Math.max(acc.ts, e.ts) }), { uid: 'product' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('src').push(ev('a', 2, 1), ev('a', 3, 5), ev('b', 7, 2), ev('a', 4, 3));
  assert.deepEqual(d.output('out').values(), [ev('a', 2, 1), ev('a', 6, 5), ev('b', 7, 2), ev('a', 24, 5)]);
});

test('rolling aggregates survive a checkpoint', async () => {
  const job = defineJob('rolling-restore', (env) => {
    env.fromArray<Ev>([], { uid: 'src' }).keyBy((e) => e.key).aggregate(agg.sum((e: Ev) => e.n), { uid: 'sums' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  const first = JobTestDriver.of(job);
  first.input<Ev>('src').push(ev('a', 1, 0), ev('b', 10, 0), ev('a', 2, 0));
  const snap = await first.checkpoint();
  await first.close();
  await using second = await JobTestDriver.restore(job, snap);
  second.input<Ev>('src').push(ev('a', 100, 0), ev('b', 100, 0));
  assert.deepEqual(second.output('out').values(), [103, 110]);
});

const small = new OutputTag<Ev>('small');
const notes = new OutputTag<string>('notes');

test('a process function sends records to side outputs by OutputTag, read with getSideOutput', async () => {
  const job = defineJob('side', (env) => {
    const main = env.fromArray<Ev>([], { uid: 'src', watermarks: monotonous }).process<number>((e, ctx) => {
      if (e.n < 10) ctx.output(small, e);
      else ctx.emit(e.n);
      ctx.output(notes, `saw ${e.key}`, 0);
    }, { name: 'split' });
    main.sinkTo(sinks.collect(), { uid: 'main' });
    main.getSideOutput(small).sinkTo(sinks.collect(), { uid: 'small' });
    main.getSideOutput(notes).sinkTo(sinks.collect(), { uid: 'notes' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('src').push(ev('a', 5, 100), ev('b', 50, 200), ev('c', 1, 300));
  assert.deepEqual(d.output('main').records(), [{ value: 50, timestamp: 200 }]);
  assert.deepEqual(d.output('small').records(), [{ value: ev('a', 5, 100), timestamp: 100 }, { value: ev('c', 1, 300), timestamp: 300 }]);
  assert.deepEqual(d.output('notes').records(), ['saw a', 'saw b', 'saw c'].map((value) => ({ value, timestamp: 0 })));
});

test('a keyed process function emits side outputs from onElement and onTimer', async () => {
  const job = defineJob('keyed-side', (env) => {
    const main = env.fromArray<Ev>([], { uid: 'src', watermarks: monotonous })
      .keyBy((e) => e.key)
      .process<string>({ uid: 'watch' })
      .withState({ last: valueState<number>() })
      .handle({
        onElement(e, { state, timers, output, emit }) {
          state.last.update(e.n);
          timers.registerEventTimeTimer(e.ts + 100);
          if (e.n < 0) output(small, e);
          else emit(`${e.key}:${e.n}`);
        },
        onTimer(ts, { key, state, output }) { output(notes, `${key} last=${state.last.value()} at ${ts}`); },
      });
    main.sinkTo(sinks.collect(), { uid: 'main' });
    main.getSideOutput(small).sinkTo(sinks.collect(), { uid: 'small' });
    main.getSideOutput(notes).sinkTo(sinks.collect(), { uid: 'notes' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('src').push(ev('a', 1, 10), ev('b', -1, 20), ev('a', 2, 30)).advanceWatermark(200);
  assert.deepEqual(d.output('main').values(), ['a:1', 'a:2']);
  assert.deepEqual(d.output('small').records(), [{ value: ev('b', -1, 20), timestamp: 20 }]);
  assert.deepEqual(d.output('notes').records(), [
    { value: 'a last=2 at 110', timestamp: 110 },
    { value: 'b last=-1 at 120', timestamp: 120 },
    { value: 'a last=2 at 130', timestamp: 130 },
  ]);
});

test('an OperatorHarness records side outputs interleaved with the main output', () => {
  const h = OperatorHarness.of((s) => s.process<number>((e: Ev, ctx) => { ctx.emit(e.n); if (e.n > 1) ctx.output(notes, `big ${e.n}`); }));
  h.processElement(ev('a', 1, 5), 5).processElement(ev('a', 2, 6), 6).processWatermark(6);
  assert.deepEqual(h.output(), [
    { kind: 'record', value: 1, timestamp: 5 },
    { kind: 'record', value: 2, timestamp: 6 },
    { kind: 'side', tag: 'notes', value: 'big 2', timestamp: 6 },
    { kind: 'watermark', watermark: 6 },
  ]);
});

test('processing-time tumbling windows fire when the manual clock passes their end', async () => {
  const job = defineJob('pt-windows', (env) => {
    env.fromArray<Ev>([], { uid: 'src' })
      .keyBy((e) => e.key)
      .window(windows.tumbling('1s', { time: 'processing' }))
      .aggregate(agg.sum((e: Ev) => e.n), (key, w: TimeWindow, sum) => `${key}[${w.start},${w.end})=${sum}`, { uid: 'sums' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using d = JobTestDriver.of(job, { startTime: 10_000 });
  const input = d.input<Ev>('src');
  const out = d.output<string>('out');
  input.push(ev('a', 1, 0), ev('b', 2, 0)); // processing time 10 000: window [10 000, 11 000)
  d.advanceProcessingTime(500);
  input.push(ev('a', 3, 0)); // 10 500
  d.advanceProcessingTime(498); // 10 998
  assert.deepEqual(out.drain(), []);
  d.advanceProcessingTime(1); // 10 999 = the window's max timestamp
  assert.deepEqual(out.records(), [
    { value: 'a[10000,11000)=4', timestamp: 10_999 },
    { value: 'b[10000,11000)=2', timestamp: 10_999 },
  ]);
  out.drain();
  d.advanceProcessingTime(1); // 11 000: next window
  input.push(ev('a', 5, 0));
  d.advanceProcessingTime(5_000);
  assert.deepEqual(out.drain(), ['a[11000,12000)=5']);
  // Event-time watermarks do not fire processing-time windows.
  input.push(ev('a', 7, 0));
  d.advanceWatermark(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(out.drain(), []);
});

test('an idle source stops holding back the watermark of a union, so windows fire', async () => {
  const idleAfter = WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts).withIdleness('10s');
  const job = defineJob('idleness', (env) => {
    const busy = env.fromArray<Ev>([], { uid: 'busy', watermarks: idleAfter });
    const quiet = env.fromArray<Ev>([], { uid: 'quiet', watermarks: idleAfter });
    busy.union(quiet)
      .keyBy((e) => e.key)
      .window(windows.tumbling('1m'))
      .aggregate(agg.sum((e: Ev) => e.n), (key, w, sum) => `${key}@${w.end}=${sum}`, { uid: 'sums' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using d = JobTestDriver.of(job);
  d.input<Ev>('quiet').push(ev('q', 1, 1_000));
  d.input<Ev>('busy').push(ev('b', 2, 2_000));
  d.advanceProcessingTime(9_999);
  d.input<Ev>('busy').push(ev('b', 3, 70_000));
  // The quiet source's watermark (999) holds back the window [0, 60 000).
  assert.equal(d.watermarkOf('sums'), 999);
  assert.deepEqual(d.output('out').values(), []);
  d.advanceProcessingTime(1); // 10 s without records: quiet is idle, the watermark is busy's (69 999)
  assert.equal(d.watermarkOf('sums'), 69_999);
  assert.deepEqual(d.output('out').values(), ['q@60000=1', 'b@60000=2']);
  // A record makes the quiet source active again; records behind the watermark are late for fired windows.
  d.input<Ev>('quiet').push(ev('q', 10, 65_000));
  d.input<Ev>('busy').push(ev('b', 4, 130_000));
  assert.deepEqual(d.output('out').values(), ['q@60000=1', 'b@60000=2']); // quiet's watermark 64 999 holds [60 000, 120 000)
  d.input<Ev>('quiet').push(ev('q', 20, 125_000));
  assert.deepEqual(d.output('out').values(), ['q@60000=1', 'b@60000=2', 'b@120000=3', 'q@120000=10']);
});

test('a source that never produced a record goes idle after the idleness timeout too', async () => {
  const idleAfter = WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts).withIdleness('10s');
  const job = defineJob('never-active', (env) => {
    const busy = env.fromArray<Ev>([], { uid: 'busy', watermarks: idleAfter });
    const silent = env.fromArray<Ev>([], { uid: 'silent', watermarks: idleAfter });
    busy.union(silent)
      .keyBy((e) => e.key)
      .window(windows.tumbling('1m'))
      .aggregate(agg.count(), (key, w, n) => `${key}@${w.end}=${n}`, { uid: 'counts' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  await using d = JobTestDriver.of(job);
  d.advanceProcessingTime(9_000);
  d.input<Ev>('busy').push(ev('b', 1, 1_000), ev('b', 1, 61_000));
  assert.deepEqual(d.output('out').values(), []);
  d.advanceProcessingTime(1_000); // silent has had no record for 10 s since the job started
  assert.deepEqual(d.output('out').values(), ['b@60000=1']);
});

// ---- sources through runJob ----

const sumJob = (name: string, build: (env: Parameters<Parameters<typeof defineJob>[1]>[0]) => ReturnType<typeof sourceOf>, out: ReturnType<typeof sinks.collect<string>>) =>
  defineJob(name, (env) => {
    build(env)
      .keyBy((e) => e.key)
      .window(windows.tumbling('10ms'))
      .aggregate(agg.sum((e: Ev) => e.n), (key, w, sum) => `${key}@${w.start}=${sum}`, { uid: 'sums' })
      .sinkTo(out, { uid: 'out' });
  });
const sourceOf = (env: Parameters<Parameters<typeof defineJob>[1]>[0]) => env.fromArray<Ev>([], { uid: 'x' });
const events = Array.from({ length: 40 }, (_, i) => ev(i % 3 === 0 ? 'a' : 'b', i, i));
/** Expected per-window sums of `events`, sorted. */
const expectedSums = (() => {
  const m = new Map<string, number>();
  for (const e of events) {
    const k = `${e.key}@${Math.floor(e.ts / 10) * 10}`;
    m.set(k, (m.get(k) ?? 0) + e.n);
  }
  return [...m].map(([k, v]) => `${k}=${v}`).sort();
})();

test('env.fromArray runs to completion through runJob: every window fires at end of input', async () => {
  const out = sinks.collect<string>();
  const result = await runJob(sumJob('from-array', (env) => env.fromArray(events, { uid: 'src', watermarks: monotonous }), out), { clock: new ManualClock() }).done;
  assert.equal(result.status, 'finished');
  assert.equal(result.recordsRead, 40);
  assert.deepEqual(out.values().sort(), expectedSums);
});

test('env.fromIterable reads a generator function\'s iterable to its end', async () => {
  const out = sinks.collect<string>();
  function* gen(): Generator<Ev> { yield* events; }
  const result = await runJob(sumJob('from-iterable', (env) => env.fromIterable({ [Symbol.iterator]: gen }, { uid: 'src', watermarks: monotonous }), out), { overrides: { batchSize: 7 } }).done;
  assert.equal(result.recordsRead, 40);
  assert.deepEqual(out.values().sort(), expectedSums);
});

test('env.fromAsyncIterable reads an async generator to its end', async () => {
  const out = sinks.collect<string>();
  async function* gen(): AsyncGenerator<Ev> { for (const e of events) { await Promise.resolve(); yield e; } }
  const result = await runJob(sumJob('from-async', (env) => env.fromAsyncIterable({ [Symbol.asyncIterator]: gen }, { uid: 'src', watermarks: monotonous }), out)).done;
  assert.equal(result.status, 'finished');
  assert.equal(result.recordsRead, 40);
  assert.deepEqual(out.values().sort(), expectedSums);
});

test('env.generate produces generate(i) for i < count', async () => {
  const out = sinks.collect<string>();
  const result = await runJob(sumJob('generate', (env) => env.generate({ generate: (i) => events[i]!, count: 40 }, { uid: 'src', watermarks: monotonous }), out)).done;
  assert.equal(result.recordsRead, 40);
  assert.deepEqual(out.values().sort(), expectedSums);
});

test('a rate-limited generator on a manual clock emits only as time advances', async () => {
  const clock = new ManualClock(0);
  const out = sinks.collect<number>();
  const job = defineJob('rate', (env) => {
    env.generate({ generate: (i) => i, count: 5, ratePerSecond: 1 }, { uid: 'src' }).sinkTo(out, { uid: 'out' });
  });
  const handle = runJob(job, { clock });
  /** Lets the read loop run (event-loop turns, not wall-clock time) until `n` records arrived, then a few turns more. */
  const settle = async (n: number): Promise<void> => {
    for (let i = 0; i < 1_000 && out.values().length < n; i++) await new Promise<void>((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
  };
  await settle(1);
  assert.deepEqual(out.values(), [0]);
  clock.advance(999);
  await settle(1);
  assert.deepEqual(out.values(), [0]);
  clock.advance(1);
  await settle(2);
  assert.deepEqual(out.values(), [0, 1]);
  clock.advance(3_000);
  await settle(5);
  assert.deepEqual(out.values(), [0, 1, 2, 3, 4]);
  const result = await handle.done;
  assert.equal(result.status, 'finished');
});
