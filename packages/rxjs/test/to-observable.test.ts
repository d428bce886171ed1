import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agg, defineJob, windows, WatermarkStrategy, type SinkWriterContext } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { firstValueFrom, from, lastValueFrom, of, Subject, take, toArray, type Observable } from 'rxjs';
import { fromObservable, observableSink, toObservable } from '../src/index.js';

interface Click {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
}

interface PageCount {
  readonly page: string;
  readonly start: number;
  readonly count: number;
}

const byPageAndStart = (a: PageCount, b: PageCount): number => a.start - b.start || a.page.localeCompare(b.page);

/** Counts clicks per page in tumbling 1 s windows of event time: observable in, observable out. */
function pageCounts(clicks: Observable<Click>, bounded = true): { plan: ReturnType<ReturnType<typeof defineJob>['plan']>; counts: Observable<PageCount> } {
  let counts!: Observable<PageCount>;
  const job = defineJob('page-counts', (env) => {
    const windowed = env
      .fromSource(fromObservable(clicks, { bounded }), { uid: 'clicks', watermarks: WatermarkStrategy.monotonous<Click>().withTimestamp((c) => c.ts) })
      .map((c) => ({ ...c, page: c.page.toLowerCase() }))
      .keyBy((c) => c.page)
      .window(windows.tumbling('1s'))
      .aggregate(agg.count<Click>(), (page, w, count): PageCount => ({ page, start: w.start, count }), { uid: 'count-per-page' });
    counts = toObservable(windowed, { uid: 'counts-out', name: 'counts' });
  });
  // Build first, so that the test subscribes before the job writes.
  return { plan: job.plan(), counts };
}

const clicks: Click[] = [
  { user: 'ann', page: '/Home', ts: 100 },
  { user: 'bob', page: '/home', ts: 200 },
  { user: 'ann', page: '/cart', ts: 900 },
  { user: 'cid', page: '/home', ts: 1_100 },
  { user: 'bob', page: '/cart', ts: 1_500 },
  { user: 'bob', page: '/CART', ts: 1_999 },
  { user: 'ann', page: '/home', ts: 2_000 },
];

const expected: PageCount[] = [
  { page: '/cart', start: 0, count: 1 },
  { page: '/home', start: 0, count: 2 },
  { page: '/cart', start: 1_000, count: 2 },
  { page: '/home', start: 1_000, count: 1 },
  { page: '/home', start: 2_000, count: 1 },
];

describe('observable → map/keyBy/window → toObservable', () => {
  test('from(array): exact window counts, then the observable completes with the job', async () => {
    const { plan, counts } = pageCounts(from(clicks));
    const results = lastValueFrom(counts.pipe(toArray()));
    const result = await runJob(plan).done;
    assert.equal(result.status, 'finished');
    assert.equal(result.recordsRead, clicks.length);
    assert.deepEqual((await results).sort(byPageAndStart), expected);
  });

  test('of(...): the same job over a synchronous observable', async () => {
    const { plan, counts } = pageCounts(of(...clicks));
    const results = lastValueFrom(counts.pipe(toArray()));
    await runJob(plan).done;
    assert.deepEqual((await results).sort(byPageAndStart), expected);
  });

  test('a Subject driven by the test: windows fire as the watermark passes them', async () => {
    const subject = new Subject<Click>();
    const { plan, counts } = pageCounts(subject, false);
    const all = lastValueFrom(counts.pipe(toArray()));
    const handle = runJob(plan);

    // Window [0, 1000) fires once a record at 1000 or later moves the watermark past 999.
    const firstWindow = firstValueFrom(counts.pipe(take(2), toArray()));
    for (const c of clicks.slice(0, 3)) subject.next(c);
    subject.next(clicks[3]!);
    assert.deepEqual((await firstWindow).sort(byPageAndStart), expected.slice(0, 2));

    // Window [1000, 2000) fires with the record at 2000.
    const secondWindow = firstValueFrom(counts.pipe(take(2), toArray()));
    for (const c of clicks.slice(4)) subject.next(c);
    assert.deepEqual((await secondWindow).sort(byPageAndStart), expected.slice(2, 4));

    // Completing the subject ends the input: the last window fires and the output observable completes.
    subject.complete();
    assert.equal((await handle.done).status, 'finished');
    assert.deepEqual((await all).sort(byPageAndStart), expected);
  });
});

describe('toObservable / observableSink', () => {
  test('observableSink with sinkTo: every subscriber sees each record; completes at end of input', async () => {
    const { sink, observable } = observableSink<number>();
    const job = defineJob('squares', (env) => { env.fromArray([1, 2, 3], { uid: 'numbers' }).map((n) => n * n).sinkTo(sink, { uid: 'out' }); });
    const a = lastValueFrom(observable.pipe(toArray()));
    const b = lastValueFrom(observable.pipe(toArray()));
    await runJob(job).done;
    assert.deepEqual(await a, [1, 4, 9]);
    assert.deepEqual(await b, [1, 4, 9]);
  });

  test('completes only after every subtask of the sink finished', async () => {
    const { sink, observable } = observableSink<number>();
    const values = Array.from({ length: 100 }, (_, i) => i);
    const job = defineJob('wide', (env) => { env.fromArray(values, { uid: 'numbers' }).sinkTo(sink, { uid: 'out' }); }, { parallelism: 3 });
    const all = lastValueFrom(observable.pipe(toArray()));
    // Three subtasks in this thread: the job is defined inside this test module, which worker threads cannot import.
    await runJob(job, { workers: 0 }).done;
    assert.deepEqual((await all).sort((x, y) => x - y), values);
  });

  test('errors with the job\'s error when a user function fails the job', async () => {
    let out!: Observable<number>;
    const job = defineJob('failing', (env) => {
      out = toObservable(env.fromArray([1, 2, 0, 4], { uid: 'numbers' }).map((n) => { if (n === 0) throw new RangeError('zero'); return 12 / n; }, { name: 'divide' }), { uid: 'out' });
    });
    const plan = job.plan();
    const results = lastValueFrom(out.pipe(toArray()));
    results.catch(() => {});
    const handle = runJob(plan);
    const jobError = await handle.done.then(() => undefined, (e: unknown) => e);
    assert.ok(jobError instanceof Error);
    assert.match(jobError.message, /step 'divide'.*zero/);
    await assert.rejects(results, (e: unknown) => e === jobError);
  });

  test('a sink serves one run: creating a writer after its observable ended throws', async () => {
    const { sink, observable } = observableSink<number>();
    const job = defineJob('once', (env) => { env.fromArray([1], { uid: 'numbers' }).sinkTo(sink, { uid: 'out' }); });
    const got = lastValueFrom(observable);
    await runJob(job).done;
    assert.equal(await got, 1);
    const ctx: SinkWriterContext = { jobName: 'once', uid: 'out', subtaskIndex: 0, parallelism: 1, signal: new AbortController().signal, clock: { now: () => 0, schedule: () => () => {} } };
    assert.throws(() => sink.createWriter(ctx), /observable sink \(uid 'out'\) already ended: an observable sink serves one job run/);
  });

  test('the writer forwards an abort reason as an error, and completes on a plain abort', async () => {
    const clock = { now: () => 0, schedule: () => () => {} };
    const failing = observableSink<number>();
    const failed = new AbortController();
    const w1 = failing.sink.createWriter({ jobName: 'j', uid: 'out', subtaskIndex: 0, parallelism: 1, signal: failed.signal, clock });
    const r1 = lastValueFrom(failing.observable.pipe(toArray()));
    await w1.write([7], [0], 1);
    const cause = new Error('disk full');
    failed.abort(cause);
    await assert.rejects(r1, (e: unknown) => e === cause);

    const cancelled = observableSink<number>();
    const cancel = new AbortController();
    const w2 = cancelled.sink.createWriter({ jobName: 'j', uid: 'out', subtaskIndex: 0, parallelism: 1, signal: cancel.signal, clock });
    const r2 = lastValueFrom(cancelled.observable.pipe(toArray()));
    await w2.write([7, 8], [0, 0], 2);
    cancel.abort();
    await w2.close!();
    assert.deepEqual(await r2, [7, 8]);
  });
});
