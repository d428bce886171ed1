import type { Clock } from './clock.js';

/** A batch of records read from one split of a source. */
export interface SourceBatch<T> {
  readonly values: readonly T[];
  /** Timestamps the source attached (e.g. Kafka record timestamps), one per value. */
  readonly timestamps?: readonly number[];
  /**
   * The split (e.g. `'transactions-3'`) the records came from. Watermarks are generated per split and the source
   * emits their minimum; omit for single-split sources.
   */
  readonly split?: string;
  /**
   * Input the source could not turn into records and skipped (e.g. the corrupt rest of a file), for the job's
   * dead-letter output (`env.deadLetters()`): each becomes a `DeadLetter` of the source step, sent before
   * `values`. Being part of the batch, they are covered by the position `snapshot` returns after it, as the records
   * are. Dropped when nothing reads the job's dead letters (`SourceReaderContext.deadLetters` is false): a source that
   * skips input should also log it.
   */
  readonly deadLetters?: readonly SourceDeadLetter[];
}

/** What a source skipped, and why: see {@link SourceBatch.deadLetters}. */
export interface SourceDeadLetter {
  /** What was skipped, as plain data (e.g. a file, a byte range): the dead letter's `value`. */
  readonly value: unknown;
  /** Why: its message and class name go into the dead letter. */
  readonly error: unknown;
}

/** What a reader knows about where it runs. */
export interface SourceReaderContext {
  readonly jobName: string;
  /** The source step's uid. */
  readonly uid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly clock: Clock;
  /** Aborted when the job stops; long waits should end then. */
  readonly signal: AbortSignal;
  /**
   * False when no step of the job sends records to a dead-letter sink, so a source need not keep what it would take
   * to describe a record's origin in a dead letter (e.g. the Kafka record behind a decoded value). Undefined: unknown.
   */
  readonly deadLetters?: boolean;
}

/**
 * The runtime half of a source for one subtask. Call order: `restore?` (when resuming), then `next` repeatedly;
 * `snapshot` between two `next` calls at a checkpoint barrier; `notifyCheckpointComplete` after the checkpoint
 * completed; `close` once.
 */
export interface SourceReader<T> {
  /**
   * The next batch, `null` at end of input (bounded sources only), or a promise of either. At most `maxRecords`
   * values. An unbounded source may keep the promise pending until records arrive; the engine keeps running timers
   * and checkpoints meanwhile and calls `next` again only after it settled.
   */
  next(maxRecords: number): SourceBatch<T> | null | Promise<SourceBatch<T> | null>;
  /** The position after the last record returned by `next`, as plain JSON data (offsets, split cursors). */
  snapshot(checkpointId: number): unknown;
  /**
   * Continues after `position`, which a `snapshot` of the same source (same subtask index) returned; `undefined` when
   * the checkpoint has none for this subtask (it ran at a lower parallelism). `all` holds the positions of every
   * subtask of the checkpointed run, so a source whose splits move between subtasks (Kafka partitions) can find
   * its own wherever they were.
   */
  restore?(position: unknown, all: readonly unknown[]): void | Promise<void>;
  /**
   * The splits this reader currently owns (e.g. its assigned Kafka partitions, as the `split` of their batches). The
   * engine holds the source's watermark back for an owned split that has produced nothing yet (until it goes idle),
   * so the first split to deliver cannot push the watermark past records of the others. Omit for single-split sources.
   */
  ownedSplits?(): readonly string[];
  /** The checkpoint that recorded a position completed (e.g. commit offsets to a consumer group). Idempotent. */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * A source of records: what `env.fromSource` takes. Connectors implement it; the engine creates one reader per
 * subtask. A source whose readers can `restore` a position is replayable, which exactly-once checkpoints need.
 */
export interface Source<T> {
  /** A short description for `explain()`, e.g. `kafka(transactions)`. */
  readonly description: string;
  /** True when the input ends (files, arrays, bounded Kafka). */
  readonly bounded: boolean;
  /**
   * True when readers can restore at another parallelism than the checkpoint's (their `restore` uses `all`).
   * Otherwise a restore at another parallelism fails with an error naming the source.
   */
  readonly rescalable?: boolean;
  /**
   * True when the records come in no event-time order (e.g. the files of a bounded history, read split by split):
   * the engine then emits no watermark before the end of input, where it jumps to the maximum, so no record is
   * late (as Flink's batch execution mode). A job run on such a source gives the results of an in-order unbounded
   * run over the same records.
   */
  readonly unorderedEventTime?: boolean;
  createReader(ctx: SourceReaderContext): SourceReader<T>;
}
