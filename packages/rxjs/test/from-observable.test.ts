import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CheckpointError, defineJob, type SourceBatch, type SourceReader, type SourceReaderContext } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { concat, firstValueFrom, from, lastValueFrom, Observable, of, Subject, take, throwError, toArray } from 'rxjs';
import { fromObservable, observableSink, ObservableSourceError } from '../src/index.js';

/** A reader context for driving a reader directly, without a job. */
function context(uid = 'src', signal = new AbortController().signal, subtaskIndex = 0, parallelism = 1): SourceReaderContext {
  return { jobName: 'test', uid, subtaskIndex, parallelism, signal, clock: { now: () => 0, schedule: () => () => {} } };
}

/** Calls `next` and awaits it when it returned a promise. */
async function read<T>(reader: SourceReader<T>, max = 1024): Promise<SourceBatch<T> | null> {
  return await reader.next(max);
}

/** True when `p` has settled, checked after the microtasks queued so far ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
}

describe('fromObservable reader', () => {
  test('takes what a synchronous observable pushed as batches of at most maxRecords, then ends', async () => {
    const reader = fromObservable(of(1, 2, 3, 4, 5)).createReader(context());
    assert.deepEqual(await read(reader, 2), { values: [1, 2] });
    assert.deepEqual(await read(reader, 2), { values: [3, 4] });
    assert.deepEqual(await read(reader, 2), { values: [5] });
    assert.equal(await read(reader, 2), null);
    assert.equal(reader.snapshot(1), 5);
  });

  test('batches what a Subject pushes between two next() calls; a pending next() resolves when a record arrives', async () => {
    const subject = new Subject<string>();
    const reader = fromObservable(subject, { bounded: false }).createReader(context());

    const first = reader.next(100);
    assert.ok(first instanceof Promise, 'nothing buffered: next() waits');
    assert.equal(await settled(first), false);
    // Pushed in one synchronous burst: one batch, though the first record already woke the pending next().
    subject.next('a');
    subject.next('b');
    subject.next('c');
    assert.deepEqual(await first, { values: ['a', 'b', 'c'] });

    // Pushed between two next() calls: buffered, returned at once by the next call.
    subject.next('d');
    subject.next('e');
    assert.deepEqual(reader.next(100), { values: ['d', 'e'] });
    assert.equal(reader.snapshot(1), 5);

    const last = reader.next(100);
    subject.complete();
    assert.equal(await last, null);
  });

  test('delivers the records buffered before an observable error, then fails naming the uid', async () => {
    const boom = new Error('upstream went away');
    const reader = fromObservable(concat(of(1, 2), throwError(() => boom))).createReader(context('ticks'));
    assert.deepEqual(await read(reader), { values: [1, 2] });
    await assert.rejects(async () => read(reader), (e: unknown) => {
      assert.ok(e instanceof ObservableSourceError);
      assert.equal(e.uid, 'ticks');
      assert.equal(e.cause, boom);
      assert.equal(e.message, "fromObservable source (uid 'ticks'): the observable failed: upstream went away");
      return true;
    });
  });

  test('fails when more than maxBuffered records wait, and stops the observable instead of dropping records', async () => {
    let pushed = 0;
    const endless = new Observable<number>((subscriber) => {
      for (let i = 0; !subscriber.closed; i++) { pushed++; subscriber.next(i); }
    });
    const reader = fromObservable(endless, { maxBuffered: 10 }).createReader(context('firehose'));
    await assert.rejects(async () => read(reader), (e: unknown) => {
      assert.ok(e instanceof ObservableSourceError);
      assert.equal(e.uid, 'firehose');
      assert.match(e.message, /^fromObservable source \(uid 'firehose'\): the observable pushed more than maxBuffered = 10 records/);
      return true;
    });
    assert.equal(pushed, 11, 'unsubscribed at the first record that did not fit');
  });

  test('refuses to restore a position past the first record unless the observable is replayable', () => {
    const reader = fromObservable(of(1, 2, 3)).createReader(context('clicks'));
    assert.throws(() => reader.restore!(2), (e: unknown) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /^fromObservable source \(uid 'clicks'\) cannot be restored: the checkpoint says 2 record\(s\) were read, but an observable is not replayable/);
      assert.match(e.message, /replayable: true/);
      return true;
    });
    assert.throws(() => reader.restore!('7'), /cannot restore position "7": expected a count of records read/);
    // Nothing was read before: starting over is exact.
    fromObservable(of(1)).createReader(context()).restore!(0);
  });

  test('a replayable observable is restored by skipping the records read before', async () => {
    const reader = fromObservable(from([10, 20, 30, 40]), { replayable: true }).createReader(context());
    await reader.restore!(3);
    assert.deepEqual(await read(reader), { values: [40] });
    assert.equal(reader.snapshot(1), 4);
    assert.equal(await read(reader), null);
  });

  test('unsubscribes on close and on abort, releasing a pending next()', async () => {
    let subscribed = 0;
    const subject = new Subject<number>();
    const counted = new Observable<number>((s) => {
      subscribed++;
      const sub = subject.subscribe(s);
      return () => { subscribed--; sub.unsubscribe(); };
    });

    const closing = fromObservable(counted, { bounded: false }).createReader(context());
    const pending = closing.next(10);
    assert.equal(subscribed, 1);
    await closing.close!();
    assert.equal(subscribed, 0);
    assert.deepEqual(await pending, { values: [] });

    const abort = new AbortController();
    const aborting = fromObservable(counted, { bounded: false }).createReader(context('src', abort.signal));
    const waiting = aborting.next(10);
    assert.equal(subscribed, 1);
    abort.abort();
    assert.equal(subscribed, 0);
    assert.deepEqual(await waiting, { values: [] });
    assert.equal(subject.observed, false);
  });

  test('reads on subtask 0 only, subscribing once', async () => {
    let subscriptions = 0;
    const source = fromObservable(new Observable<number>((s) => { subscriptions++; s.next(1); s.complete(); }));
    const others = source.createReader(context('src', new AbortController().signal, 1, 2));
    assert.equal(await read(others), null);
    assert.equal(subscriptions, 0);
    const first = source.createReader(context('src', new AbortController().signal, 0, 2));
    assert.deepEqual(await read(first), { values: [1] });
    assert.equal(subscriptions, 1);
  });

  test('declares boundedness from the option; validates maxBuffered', () => {
    assert.equal(fromObservable(of(1)).bounded, true);
    assert.equal(fromObservable(new Subject<number>(), { bounded: false }).bounded, false);
    assert.throws(() => fromObservable(of(1), { maxBuffered: 0 }), /maxBuffered must be a positive integer, got 0/);
  });
});

describe('fromObservable in a job', () => {
  test('an observable error fails the job with an error naming the source uid', async () => {
    const clicks = new Subject<number>();
    const { sink, observable } = observableSink<number>();
    const out = lastValueFrom(observable.pipe(toArray()));
    out.catch(() => {});
    const first = firstValueFrom(observable);
    const handle = runJob(defineJob('errors', (env) => {
      env.fromSource(fromObservable(clicks), { uid: 'clicks' }).map((n) => n * 2).sinkTo(sink, { uid: 'out' });
    }));
    clicks.next(21);
    assert.equal(await first, 42);
    clicks.error(new TypeError('socket closed'));

    const isSourceError = (e: unknown): boolean => {
      assert.ok(e instanceof ObservableSourceError);
      assert.equal(e.message, "fromObservable source (uid 'clicks'): the observable failed: socket closed");
      assert.ok(e.cause instanceof TypeError);
      return true;
    };
    await assert.rejects(handle.done, isSourceError);
    // The sink's observable errors with the same error.
    await assert.rejects(out, isSourceError);
  });

  test('overflowing maxBuffered fails the job with an error naming the uid', async () => {
    const handle = runJob(defineJob('overflow', (env) => {
      env.fromSource(fromObservable(from(Array.from({ length: 50 }, (_, i) => i)), { maxBuffered: 20 }), { uid: 'bulk' })
        .sinkTo(observableSink<number>().sink, { uid: 'out' });
    }));
    await assert.rejects(handle.done, (e: unknown) => {
      assert.ok(e instanceof ObservableSourceError);
      assert.equal(e.uid, 'bulk');
      assert.match(e.message, /uid 'bulk'.*more than maxBuffered = 20 records/);
      return true;
    });
  });

  test('restoring a job from a checkpoint refuses a non-replayable observable and resumes a replayable one', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'millrace-rxjs-'));
    t.after(() => rm(dir, { recursive: true, force: true }));

    // Run 1: three records, a checkpoint, then the observable completes. The gate holds the source open meanwhile.
    const gate = new Subject<number>();
    const input = concat(of(1, 2, 3), gate, of(4, 5));
    // rebalance() keeps the source and the sink in separate chains: the runtime (at this commit) files the position of a
    // source fused with a sink in one chain under the sink's uid, so the source would never see its position.
    const build = (replayable: boolean, sink: ReturnType<typeof observableSink<number>>['sink']) => defineJob('resume', (env) => {
      env.fromSource(fromObservable(input, { replayable }), { uid: 'numbers' }).map((n) => n * 10).rebalance().sinkTo(sink, { uid: 'out' });
    });
    const run1 = observableSink<number>();
    const firstThree = firstValueFrom(run1.observable.pipe(take(3), toArray()));
    const all1 = lastValueFrom(run1.observable.pipe(toArray()));
    const handle = runJob(build(false, run1.sink), { checkpoints: dir });
    assert.deepEqual(await firstThree, [10, 20, 30]);
    const mid = await handle.checkpoint();
    gate.complete();
    await handle.done;
    assert.deepEqual(await all1, [10, 20, 30, 40, 50]);
    // Runs 2 and 3 resume from the checkpoint taken after three records: the latest one is the final checkpoint of
    // run 1, taken once its input ended, from which a restore reads nothing again.
    const restore = `/resume/chk-${mid.checkpointId}`;

    // Run 2, not replayable: the restore is refused, naming the uid.
    await assert.rejects(runJob(build(false, observableSink<number>().sink), { checkpoints: dir, restore }).done, (e: unknown) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /^fromObservable source \(uid 'numbers'\) cannot be restored: the checkpoint says 3 record\(s\) were read/);
      return true;
    });

    // Run 3, replayable: subscribes again (the gate is complete now) and skips the three records read before.
    const run3 = observableSink<number>();
    const all3 = lastValueFrom(run3.observable.pipe(toArray()));
    await runJob(build(true, run3.sink), { checkpoints: dir, restore }).done;
    assert.deepEqual(await all3, [40, 50]);
  });
});
