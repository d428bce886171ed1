import { CheckpointError, type Source, type SourceBatch, type SourceReader, type SourceReaderContext } from '@millrace/core';
import { from, Subject, takeUntil, type ObservableInput, type Subscription } from 'rxjs';
import { ObservableSourceError } from './observable-source-error.js';

/** Records a `fromObservable` reader buffers by default before it fails the job. */
export const DEFAULT_MAX_BUFFERED = 100_000;

/** Options of {@link fromObservable}. */
export interface FromObservableOptions {
  /**
   * Declares the source bounded (default `true`: the observable is expected to complete). Either way, completion
   * ends the input: the watermark jumps to the maximum, every window fires, and the job finishes. Pass `false` for an
   * observable that never completes (a `Subject` fed by events, `fromEvent`, …).
   */
  readonly bounded?: boolean;
  /**
   * Records the reader may hold that the job has not read yet (default {@link DEFAULT_MAX_BUFFERED}). RxJS has no
   * backpressure: an observable pushes whenever it likes, so the reader buffers. When one more record arrives with
   * the buffer full, the job fails with an {@link ObservableSourceError} naming the uid; no record is ever dropped.
   */
  readonly maxBuffered?: number;
  /**
   * Declares that subscribing again yields the same sequence (a cold observable such as `from(array)` or one built by
   * `defer` over a replayable input). Then the source can be restored from a checkpoint: it subscribes again and
   * skips the records read before it. Default `false`: restoring from a position past the first record throws.
   */
  readonly replayable?: boolean;
  /** Shown by `explain()`; default `observable`. */
  readonly description?: string;
}

/**
 * A {@link Source} over an RxJS observable (or anything `from()` of RxJS accepts: a promise, an array, an async
 * iterable, an interop observable), for `env.fromSource`.
 *
 * Like `env.fromAsyncIterable`, but push-based: the reader subscribes when the job starts reading (its first `next`,
 * not when the job is built, so a hot observable's earlier values are not seen) and buffers what the observable
 * pushes; each `next` of the engine takes everything buffered since the previous one (up to the batch size) as one
 * batch, and a `next` that finds the buffer empty resolves as soon as a record arrives.
 *
 * - **Backpressure:** RxJS has none, so the reader buffers at most `maxBuffered` records and fails the job beyond that
 *   (never drops silently). A synchronous observable (`of`, `from(array)`, `range`) pushes everything at
 *   subscription: for large inputs prefer `env.fromArray`/`env.fromIterable`, which the engine pulls.
 * - **Errors:** an observable error fails the job with an {@link ObservableSourceError} naming the uid, with the
 *   observable's error as `cause`; records buffered before the error are processed first.
 * - **Positions:** the position in checkpoints is the number of records read. An observable is not replayable, so
 *   `restore` throws a `CheckpointError` unless `replayable: true` says that subscribing again yields the same
 *   sequence (then it skips that many records).
 * - **Parallelism:** one subscription, read by subtask 0; other subtasks of the source end at once. Give the step
 *   `{ parallelism: 1 }` when the job runs wider.
 * - **Cancellation:** the reader unsubscribes when it is closed or when the job's `ctx.signal` aborts.
 *
 * Records carry no timestamp; give `env.fromSource` a `watermarks` strategy with `withTimestamp` for event time.
 *
 * ```ts
 * import { defineJob, WatermarkStrategy } from '@millrace/core';
 * import { fromObservable } from '@millrace/rxjs';
 * import { from } from 'rxjs';
 *
 * export default defineJob('clicks', (env) => {
 *   env.fromSource(fromObservable(from(clicks)), { uid: 'clicks', watermarks: WatermarkStrategy.monotonous<Click>().withTimestamp((c) => c.ts) })
 *     .map((c) => c.page)
 *     .print();
 * });
 * ```
 *
 * @param observable The observable to read; it is subscribed once per job run (per reader of subtask 0).
 * @param opts Boundedness, buffer limit, replayability.
 */
export function fromObservable<T>(observable: ObservableInput<T>, opts: FromObservableOptions = {}): Source<T> {
  const maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1) {
    throw new RangeError(`fromObservable: maxBuffered must be a positive integer, got ${String(opts.maxBuffered)}`);
  }
  const replayable = opts.replayable ?? false;
  return {
    description: opts.description ?? `observable${replayable ? ', replayable' : ''}`,
    bounded: opts.bounded ?? true,
    createReader(ctx): SourceReader<T> {
      // One subscription per job run: subtasks other than 0 read nothing (their position is always 0).
      if (ctx.subtaskIndex > 0) return { next: () => null, snapshot: () => 0 };
      return new ObservableSourceReader<T>(observable, ctx, maxBuffered, replayable);
    },
  };
}

type ReaderState = 'unsubscribed' | 'subscribed' | 'completed' | 'failed' | 'closed';

/**
 * The runtime half of {@link fromObservable} for subtask 0. Observable callbacks only append to the buffer and wake a
 * pending `next`; `next` takes from the buffer. Everything runs on the job's thread, so no locking is needed.
 */
class ObservableSourceReader<T> implements SourceReader<T> {
  private state: ReaderState = 'unsubscribed';
  /** Buffered records are `buffer[head…]`; `head` avoids shifting the array on every batch. */
  private buffer: T[] = [];
  private head = 0;
  /** Set when the observable errored or the buffer overflowed. */
  private failure: ObservableSourceError | undefined;
  /** Overflow fails at once; an observable error only after the records buffered before it. */
  private failNow = false;
  /** Records returned by `next`: the position. */
  private read = 0;
  /** Records still to skip after a restore (replayable only). */
  private skip = 0;
  private subscription: Subscription | undefined;
  private readonly stop = new Subject<void>();
  private wake: (() => void) | undefined;
  private readonly onAbort = (): void => this.shutDown();

  constructor(
    private readonly observable: ObservableInput<T>,
    private readonly ctx: SourceReaderContext,
    private readonly maxBuffered: number,
    private readonly replayable: boolean,
  ) {
    if (ctx.signal.aborted) this.state = 'closed';
    else ctx.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  next(maxRecords: number): SourceBatch<T> | null | Promise<SourceBatch<T> | null> {
    if (this.state === 'unsubscribed') this.subscribe();
    const ready = this.take(maxRecords);
    return ready !== undefined ? ready : this.waitAndTake(maxRecords);
  }

  snapshot(): number {
    return this.read;
  }

  restore(position: unknown): void {
    if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
      throw new CheckpointError(`fromObservable source (uid '${this.ctx.uid}') cannot restore position ${JSON.stringify(position)}: expected a count of records read`);
    }
    if (this.state !== 'unsubscribed') {
      throw new CheckpointError(`fromObservable source (uid '${this.ctx.uid}') cannot restore after it started reading`);
    }
    if (position > 0 && !this.replayable) {
      throw new CheckpointError(
        `fromObservable source (uid '${this.ctx.uid}') cannot be restored: the checkpoint says ${position} record(s) were read, ` +
          'but an observable is not replayable, so a new subscription cannot resume after them. ' +
          'Pass fromObservable(…, { replayable: true }) if subscribing again yields the same sequence (the source then skips ' +
          'the records already read), or read from a replayable source (Kafka, files, env.fromArray).',
      );
    }
    this.read = position;
    this.skip = position;
  }

  close(): void {
    this.ctx.signal.removeEventListener('abort', this.onAbort);
    this.shutDown();
  }

  private subscribe(): void {
    this.state = 'subscribed';
    // takeUntil(stop) lets us end the subscription even while a synchronous observable is still emitting inside
    // subscribe(), before subscribe() has returned the Subscription (RxJS sources check `subscriber.closed`).
    this.subscription = from(this.observable)
      .pipe(takeUntil(this.stop))
      .subscribe({
        next: (value) => this.onValue(value),
        error: (e: unknown) => {
          if (this.state !== 'subscribed') return;
          this.fail(
            new ObservableSourceError(this.ctx.uid, `fromObservable source (uid '${this.ctx.uid}'): the observable failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e }),
            false,
          );
        },
        complete: () => {
          if (this.state !== 'subscribed') return; // stopped by us (overflow, close), not completed
          this.state = 'completed';
          this.notify();
        },
      });
    if (this.state !== 'subscribed') this.subscription.unsubscribe();
  }

  private onValue(value: T): void {
    if (this.state !== 'subscribed') return;
    if (this.skip > 0) {
      this.skip--;
      return;
    }
    if (this.buffer.length - this.head >= this.maxBuffered) {
      this.fail(
        new ObservableSourceError(
          this.ctx.uid,
          `fromObservable source (uid '${this.ctx.uid}'): the observable pushed more than maxBuffered = ${this.maxBuffered} records ` +
            'that the job had not read yet. RxJS has no backpressure, so the source buffers; rather than drop records it fails. ' +
            'Raise maxBuffered, slow the observable down upstream, or read large synchronous inputs with env.fromArray/env.fromIterable.',
        ),
        true,
      );
      return;
    }
    this.buffer.push(value);
    this.notify();
  }

  private fail(e: ObservableSourceError, now: boolean): void {
    this.failure = e;
    this.failNow = now;
    this.state = 'failed';
    this.stop.next();
    this.notify();
  }

  /** Unsubscribes (close or abort) and releases a pending `next`. */
  private shutDown(): void {
    if (this.state === 'subscribed' || this.state === 'unsubscribed') this.state = 'closed';
    this.stop.next();
    this.subscription?.unsubscribe();
    this.buffer = [];
    this.head = 0;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** A batch, `null` at the end, or `undefined` when `next` must wait. Throws the failure once it is due. */
  private take(max: number): SourceBatch<T> | null | undefined {
    if (this.failure && this.failNow) throw this.failure;
    const available = this.buffer.length - this.head;
    if (available > 0) {
      const n = Math.min(max, available);
      const values = this.buffer.slice(this.head, this.head + n);
      this.head += n;
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      this.read += n;
      return { values };
    }
    if (this.failure) throw this.failure;
    if (this.state === 'completed') return null;
    // Closed or aborted: the engine stops reading; an empty batch releases it without ending the input.
    if (this.state === 'closed') return { values: [] };
    return undefined;
  }

  private async waitAndTake(max: number): Promise<SourceBatch<T> | null> {
    for (;;) {
      // Resolved by the first record (or completion, error, close); the batch is taken after the current
      // synchronous burst of the observable, so records pushed together arrive together.
      await new Promise<void>((resolve) => { this.wake = resolve; });
      const ready = this.take(max);
      if (ready !== undefined) return ready;
    }
  }
}
