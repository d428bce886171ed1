import type { Clock } from './clock.js';

/** What a writer knows about where it runs. */
export interface SinkWriterContext {
  readonly jobName: string;
  /** The sink step's uid. */
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
}

/**
 * The runtime half of a sink for one subtask, two-phase for exactly-once:
 * `write` batches; at a checkpoint barrier `preCommit` flushes and returns committables (e.g. pending file names,
 * transaction ids), which go into the checkpoint; after the checkpoint completes `commit` makes them visible.
 * `commit` must be idempotent: after a crash it is called again, on restore, with the committables of the last
 * completed checkpoint. Commits of one writer run one after another, oldest pre-commit first. The committables of a
 * checkpoint that failed to complete are not dropped: they go into the next checkpoint too and are committed when it
 * completes, so one `commit` call (on restore) may get those of several pre-commits.
 *
 * At end of input, once writes in flight settled, `preCommit` (id `Number.MAX_SAFE_INTEGER`) and `snapshot` are
 * called one last time: this final cut, with the state after it, is what every checkpoint taken later holds for the
 * writer (the sources there are at their end, so a restore never replays that output). Once every subtask of the job
 * finished, a checkpoint still in flight completes first (its `preCommit`s settle, it is written, then committed).
 * With checkpoint storage, a final checkpoint follows: it holds the final cut and whatever else this writer
 * pre-committed and is still uncommitted; it is written, then committed (oldest pre-commit first), then
 * `finish` is called. A restore from it calls `commit` with the same committables again. Without checkpoint storage,
 * whatever else this writer pre-committed is committed, then `finish`, then `commit` of the final cut, possibly again
 * after a checkpoint committed it. The job reports done only after that: no committable is left uncommitted.
 *
 * `preCommit` must cut synchronously, before its first `await`: records written after it returns belong to the next
 * checkpoint, even while its I/O is still running. `snapshot` is called right after `preCommit`, so it sees the cut.
 *
 * The engine reads the value `snapshot` returned only after the promise `preCommit` returned has settled (it awaits
 * the committables, then stores them and the snapshot value in the checkpoint, on the main thread or in a worker
 * alike). A writer may therefore return an object from `snapshot` and fill in fields of it during `preCommit`'s I/O
 * (the HDFS file sink fills in its next part number once its clean-up has found it); the engine never copies or
 * serializes it earlier. Do not mutate it after that promise settled.
 */
export interface SinkWriter<T, C = unknown> {
  /**
   * Writes the first `count` records. The arrays belong to the engine and are reused after the call returns: copy
   * what you keep. A returned promise holds back the sources until it settles (backpressure).
   */
  write(values: readonly T[], timestamps: readonly number[], count: number): void | Promise<void>;
  preCommit?(checkpointId: number): C[] | Promise<C[]>;
  commit?(committables: readonly C[]): void | Promise<void>;
  /**
   * Writer state other than committables (rarely needed), plain JSON data. Called synchronously right after
   * `preCommit`; the returned value is read only once `preCommit`'s promise has settled (see above).
   */
  snapshot?(checkpointId: number): unknown;
  /** Called before any write when resuming; then `commit` is called with the restored committables. */
  restore?(state: unknown): void | Promise<void>;
  finish?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** A destination for records: what `sinkTo` takes. */
export interface Sink<T> {
  readonly description: string;
  /**
   * The writer must run on the main thread (an in-memory sink the caller reads, like `sinks.collect()`): when the
   * job runs on worker threads, their records are relayed to one writer created there.
   */
  readonly mainThread?: boolean;
  createWriter(ctx: SinkWriterContext): SinkWriter<T>;
}
