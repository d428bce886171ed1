import type { DataStream, Sink, SinkWriter } from '@millrace/core';
import { Subject, type Observable } from 'rxjs';

/** Options of {@link toObservable}: those of the sink step it adds. */
export interface ToObservableOptions {
  /** The sink step's uid (sinks take part in checkpoints, so a uid is required). */
  readonly uid: string;
  /** Display name in `explain()`, metrics and errors; defaults to the uid. */
  readonly name?: string;
}

/** What {@link observableSink} returns: a sink for `sinkTo` and the observable it feeds. */
export interface ObservableSink<T> {
  /** Give it to `stream.sinkTo(sink, { uid })`, once, in one job run. */
  readonly sink: Sink<T>;
  /** Hot and multicast: emits the records written from the moment of subscription. */
  readonly observable: Observable<T>;
}

/**
 * A sink that turns the records written to it into an RxJS observable, for `sinkTo`. Prefer {@link toObservable}
 * inside a job's build function; use this when the observable must exist before the job is built (e.g. to subscribe
 * before `runJob(job)`, which builds the job and may write its first records before it returns).
 *
 * The observable is **hot and multicast** (one `Subject`): every subscriber sees the records written after it
 * subscribed, so subscribe before the job starts to see them all.
 *
 * - **Emits** each record synchronously as the sink writes it (all subtasks of the sink feed the same observable, in
 *   the order they write). This is not a transactional sink: records are emitted when written, not when a checkpoint
 *   completes.
 * - **Completes** when the job's input ends: after `finish` of every subtask of the sink (end of a bounded job,
 *   before its final commit). It also completes when the job is cancelled (as `handle.done` resolves then), when
 *   the runtime closes the writers without a failure.
 * - **Errors** with the job's error when the job fails: the engine aborts the writers' `ctx.signal` with the error
 *   that failed the job, and the observable forwards that reason.
 * - **No backpressure:** subscribers run inside the job's write path; a slow subscriber slows the job, and an error
 *   thrown by a subscriber does not fail the job (RxJS reports it through `config.onUnhandledError`, or as an
 *   uncaught exception).
 * - **One run, one thread:** a sink serves one run of one job; after its observable ended, creating a writer throws.
 *   It works for jobs run in the current thread (`runJob`); subtasks in worker threads would feed their own copy.
 *
 * ```ts
 * const { sink, observable } = observableSink<number>();
 * const job = defineJob('squares', (env) => { env.fromArray([1, 2, 3], { uid: 'numbers' }).map((n) => n * n).sinkTo(sink, { uid: 'out' }); });
 * const squares = lastValueFrom(observable.pipe(toArray()));
 * await runJob(job).done;
 * await squares; // [1, 4, 9]
 * ```
 */
export function observableSink<T>(): ObservableSink<T> {
  const subject = new Subject<T>();
  let ended = false;
  let writers = 0;
  let finished = 0;
  let parallelism = 0;

  const complete = (): void => {
    if (ended) return;
    ended = true;
    subject.complete();
  };
  const error = (e: unknown): void => {
    if (ended) return;
    ended = true;
    subject.error(e);
  };
  /** The signal aborts on failure (reason: the job's error) and on close/cancel (reason: an AbortError). */
  const isFailure = (signal: AbortSignal): boolean =>
    signal.aborted && (signal.reason as { name?: unknown } | undefined)?.name !== 'AbortError';

  const sink: Sink<T> = {
    description: 'observable',
    mainThread: true,
    createWriter(ctx): SinkWriter<T> {
      if (ended) {
        throw new Error(`observable sink (uid '${ctx.uid}') already ended: an observable sink serves one job run; create a new one (observableSink() or toObservable) for each run`);
      }
      writers++;
      parallelism = ctx.parallelism;
      let done = false;
      const onAbort = (): void => {
        if (isFailure(ctx.signal)) error(ctx.signal.reason);
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      return {
        write(values, _timestamps, count) {
          for (let i = 0; i < count; i++) subject.next(values[i]!);
        },
        finish() {
          if (done) return;
          done = true;
          finished++;
          if (finished >= Math.max(parallelism, writers)) complete();
        },
        close() {
          ctx.signal.removeEventListener('abort', onAbort);
          // Closed without a finish: the job failed (signal aborted with its error) or was cancelled.
          if (isFailure(ctx.signal)) error(ctx.signal.reason);
          else complete();
        },
      };
    },
  };
  return { sink, observable: subject.asObservable() };
}

/**
 * Writes a stream to a sink and returns the records as an RxJS observable: the edge where a job's results flow into
 * RxJS code (a UI, a WebSocket, tests). Stateful like every sink step: adds one sink step with the given uid; no
 * shuffle.
 *
 * Call it in the job's build function. The observable is hot, multicast, and emits from the moment the job writes:
 * since `runJob(job)` builds the job and may write records before it returns, build the plan first
 * (`const plan = job.plan()`), subscribe, then `runJob(plan)`; or create an {@link observableSink} outside the build
 * function. It completes when the job's input ends, and errors with the job's error when the job fails; see
 * {@link observableSink} for the details and caveats.
 *
 * ```ts
 * let counts!: Observable<{ page: string; n: number }>;
 * const job = defineJob('page-counts', (env) => {
 *   const s = env.fromSource(fromObservable(clicks$), { uid: 'clicks' }).keyBy((c) => c.page).aggregate(agg.count(), (page, n) => ({ page, n }), { uid: 'count' });
 *   counts = toObservable(s, { uid: 'counts-out' });
 * });
 * const plan = job.plan();
 * counts.subscribe((c) => console.log(c.page, c.n));
 * await runJob(plan).done;
 * ```
 *
 * @param stream The stream whose records the observable emits.
 * @param opts The sink step's uid and name.
 */
export function toObservable<T>(stream: DataStream<T>, opts: ToObservableOptions): Observable<T> {
  const { sink, observable } = observableSink<T>();
  stream.sinkTo(sink, { uid: opts.uid, ...(opts.name !== undefined ? { name: opts.name } : {}) });
  return observable;
}
