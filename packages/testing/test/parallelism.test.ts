import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agg, defineJob, listState, OutputTag, sinks, valueState, windows, WatermarkStrategy, type CollectSink } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { ManualClock } from '@millrace/testing';

interface Ev { readonly key: string; readonly n: number; readonly ts: number }
interface Seen { readonly key: string; readonly seq: number; readonly n: number }
interface Bucket { readonly key: string; readonly upTo: number; readonly sum: number; readonly count: number }

const KEYS = 29;
/** In timestamp order; 29 keys in an irregular pattern, so that every subtask gets several keys. */
const events: Ev[] = Array.from({ length: 900 }, (_, i) => ({ key: `k${(i * 7 + (i >> 5)) % KEYS}`, n: i, ts: 1_000 + i * 7 }));
const multiples = new OutputTag<{ key: string; n: number }>('multiples-of-11');

interface Outputs {
  readonly windows: CollectSink<string>;
  readonly perEnd: CollectSink<string>;
  readonly seen: CollectSink<Seen>;
  readonly buckets: CollectSink<Bucket>;
  readonly side: CollectSink<{ key: string; n: number }>;
}

/** A job with a keyed window, a keyed process function with state, event-time timers and a side output, and a second shuffle. */
function makeJob(sourceParallelism: number | undefined) {
  const out: Outputs = { windows: sinks.collect(), perEnd: sinks.collect(), seen: sinks.collect(), buckets: sinks.collect(), side: sinks.collect() };
  const job = defineJob('parallel', (env) => {
    const src = env.fromArray(events, { uid: 'src', parallelism: sourceParallelism, watermarks: WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts) });
    const keyed = src.keyBy((e) => e.key);

    const sums = keyed
      .window(windows.tumbling('500ms'))
      .aggregate(agg.sum((e: Ev) => e.n), (key, w, sum) => ({ key, end: w.end, sum }), { uid: 'window-sums' });
    sums.map((r) => `${r.key}@${r.end}=${r.sum}`).sinkTo(out.windows, { uid: 'windows-out' });
    // A second shuffle: windows per end, counted as they arrive.
    sums.keyBy((r) => r.end).aggregate(agg.count(), (end, n) => `${end}#${n}`, { uid: 'per-end' }).sinkTo(out.perEnd, { uid: 'per-end-out' });

    const seen = keyed
      .process<Seen>({ uid: 'buckets' })
      .withState({ seq: valueState<number>(), pending: listState<Ev>() })
      .handle({
        onElement(e, { key, state, timers, emit, output }) {
          const seq = (state.seq.value() ?? 0) + 1;
          state.seq.update(seq);
          emit({ key, seq, n: e.n });
          if (e.n % 11 === 0) output(multiples, { key, n: e.n });
          state.pending.add(e);
          timers.registerEventTimeTimer(Math.floor(e.ts / 1_000) * 1_000 + 999);
        },
        onTimer(ts, { key, state, output }) {
          const due = state.pending.get().filter((e) => e.ts <= ts);
          state.pending.update(state.pending.get().filter((e) => e.ts > ts));
          output(bucketTag, { key, upTo: ts, sum: due.reduce((s, e) => s + e.n, 0), count: due.length });
        },
      });
    seen.sinkTo(out.seen, { uid: 'seen-out' });
    seen.getSideOutput(multiples).sinkTo(out.side, { uid: 'side-out' });
    seen.getSideOutput(bucketTag).sinkTo(out.buckets, { uid: 'buckets-out' });
  });
  return { job, out };
}
const bucketTag = new OutputTag<Bucket>('buckets');

/**
 * The outputs as sorted lists of JSON strings (multisets). With parallel sources the order in which one key's records
 * arrive is not defined, so `seq` (a per-key arrival number) is left out unless `withSeq`.
 */
function multisets(out: Outputs, withSeq = false): Record<string, string[]> {
  const sorted = (xs: readonly unknown[]): string[] => xs.map((x) => JSON.stringify(x)).sort();
  return {
    windows: sorted(out.windows.values()),
    perEnd: sorted(out.perEnd.values()),
    seen: sorted(out.seen.values().map((s) => (withSeq ? s : { key: s.key, n: s.n }))),
    buckets: sorted(out.buckets.values()),
    side: sorted(out.side.values()),
  };
}

async function run(parallelism: number, sourceParallelism?: number): Promise<{ out: Outputs; subtasks: number }> {
  const { job, out } = makeJob(sourceParallelism);
  const result = await runJob(job, { overrides: { parallelism }, clock: new ManualClock(0), workers: 0 }).done;
  assert.equal(result.status, 'finished');
  assert.equal(result.recordsRead, events.length);
  return { out, subtasks: result.metrics.filter((m) => m.uid === 'buckets').length };
}

/** What the job must compute, by hand. */
function expected(withSeq = false): Record<string, string[]> {
  const win = new Map<string, number>();
  const seq = new Map<string, number>();
  const seen: Array<Seen | Omit<Seen, 'seq'>> = [];
  const buckets = new Map<string, Bucket>();
  for (const e of events) {
    const end = Math.floor(e.ts / 500) * 500 + 500;
    win.set(`${e.key}@${end}`, (win.get(`${e.key}@${end}`) ?? 0) + e.n);
    const s = (seq.get(e.key) ?? 0) + 1;
    seq.set(e.key, s);
    seen.push(withSeq ? { key: e.key, seq: s, n: e.n } : { key: e.key, n: e.n });
    const upTo = Math.floor(e.ts / 1_000) * 1_000 + 999;
    const b = buckets.get(`${e.key}|${upTo}`) ?? { key: e.key, upTo, sum: 0, count: 0 };
    buckets.set(`${e.key}|${upTo}`, { ...b, sum: b.sum + e.n, count: b.count + 1 });
  }
  const perEndCount = new Map<number, number>();
  const perEnd: string[] = [];
  for (const k of win.keys()) {
    const end = Number(k.slice(k.indexOf('@') + 1));
    const n = (perEndCount.get(end) ?? 0) + 1;
    perEndCount.set(end, n);
    perEnd.push(`${end}#${n}`);
  }
  const sorted = (xs: readonly unknown[]): string[] => xs.map((x) => JSON.stringify(x)).sort();
  return {
    windows: sorted([...win].map(([k, v]) => `${k}=${v}`)),
    perEnd: sorted(perEnd),
    seen: sorted(seen),
    buckets: sorted([...buckets.values()]),
    side: sorted(events.filter((e) => e.n % 11 === 0).map((e) => ({ key: e.key, n: e.n }))),
  };
}

test('the job gives the same results at parallelism 1, 2 and 4, and they are the expected ones', async () => {
  const want = expected();
  for (const p of [1, 2, 4]) {
    const { out, subtasks } = await run(p);
    assert.equal(subtasks, p, `parallelism ${p} runs ${p} subtasks of the keyed process`);
    assert.deepEqual(multisets(out), want, `parallelism ${p}`);
  }
});

test('with a single source subtask, per-key order is preserved at every parallelism', async () => {
  for (const p of [1, 2, 4]) {
    const { out } = await run(p, 1);
    assert.deepEqual(multisets(out, true), expected(true), `parallelism ${p}`);
    const byKey = new Map<string, Seen[]>();
    for (const s of out.seen.values()) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
    assert.equal(byKey.size, new Set(events.map((e) => e.key)).size);
    for (const [key, list] of byKey) {
      assert.deepEqual(list.map((s) => s.n), events.filter((e) => e.key === key).map((e) => e.n), `order of ${key} at parallelism ${p}`);
      assert.deepEqual(list.map((s) => s.seq), list.map((_, i) => i + 1));
    }
    // Windows of one key come out in the order of their ends, timer firings in the order of their times.
    const windowEnds = new Map<string, number[]>();
    for (const w of out.windows.values()) {
      const [key, rest] = w.split('@') as [string, string];
      windowEnds.set(key, [...(windowEnds.get(key) ?? []), Number(rest.split('=')[0])]);
    }
    for (const [key, ends] of windowEnds) assert.deepEqual(ends, [...ends].sort((a, b) => a - b), `window order of ${key}`);
    const bucketTimes = new Map<string, number[]>();
    for (const b of out.buckets.values()) bucketTimes.set(b.key, [...(bucketTimes.get(b.key) ?? []), b.upTo]);
    for (const [key, times] of bucketTimes) assert.deepEqual(times, [...times].sort((a, b) => a - b), `timer order of ${key}`);
  }
});

test('keys are spread over subtasks by key group: every subtask of the keyed steps gets records at parallelism 4', async () => {
  const { job } = makeJob(undefined);
  const result = await runJob(job, { overrides: { parallelism: 4 }, clock: new ManualClock(0), workers: 0 }).done;
  const rows = result.metrics.filter((m) => m.uid === 'buckets');
  assert.deepEqual(rows.map((r) => r.subtask), [0, 1, 2, 3]);
  for (const r of rows) assert.ok(r.recordsIn > 0, `subtask ${r.subtask} got no records`);
  assert.equal(rows.reduce((n, r) => n + r.recordsIn, 0), events.length);
});
