import { toMillis, type Duration } from './duration.js';

/** The watermark before any was seen: every timestamp is ahead of it. */
export const MIN_WATERMARK = Number.NEGATIVE_INFINITY;
/** The watermark at end of input: every event-time window and timer fires. */
export const MAX_WATERMARK = Number.POSITIVE_INFINITY;

/**
 * Tracks event time for one source split (e.g. one Kafka partition) and proposes watermarks.
 *
 * Call order: `onEvent` for each record of a batch in order, then `currentWatermark()` once per batch. The engine never
 * lets a split's watermark go backwards, so a generator may return a smaller value without harm.
 */
export interface WatermarkGenerator<T> {
  /** Sees each record and its assigned timestamp. */
  onEvent(value: T, timestamp: number): void;
  /** The watermark this split has reached: no record with a timestamp ≤ the value is expected any more. */
  currentWatermark(): number;
}

/** Extracts the event timestamp (epoch ms) of a record; `recordTimestamp` is the timestamp the source attached, if any. */
export type TimestampAssigner<T> = (value: T, recordTimestamp: number | undefined) => number;

/**
 * How a source (or an `assignTimestampsAndWatermarks` step) derives timestamps and watermarks. Immutable: each
 * `with…` returns a new strategy.
 *
 * ```ts
 * WatermarkStrategy.boundedOutOfOrderness<Txn>('5s').withTimestamp((t) => t.ts).withIdleness('30s')
 * ```
 */
export class WatermarkStrategy<T> {
  private constructor(
    /** Creates one generator per split. */
    readonly createGenerator: () => WatermarkGenerator<T>,
    /** Extracts timestamps; when absent, the source's own record timestamps are used. */
    readonly timestampAssigner: TimestampAssigner<T> | undefined,
    /** A split without records for this long (processing time) stops holding back the watermark. */
    readonly idlenessMs: number | undefined,
    /** A short description for `explain()`. */
    readonly description: string,
  ) {}

  /**
   * Watermarks trail the largest timestamp seen by `maxOutOfOrderness` (Flink's `forBoundedOutOfOrderness`):
   * watermark = max timestamp − delay − 1.
   */
  static boundedOutOfOrderness<T>(maxOutOfOrderness: Duration): WatermarkStrategy<T> {
    const delay = toMillis(maxOutOfOrderness, 'maxOutOfOrderness');
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessGenerator<T>(delay), undefined, undefined, `boundedOutOfOrderness(${delay}ms)`);
  }

  /** Timestamps never decrease within a split (Flink's `forMonotonousTimestamps`): watermark = max timestamp − 1. */
  static monotonous<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessGenerator<T>(0), undefined, undefined, 'monotonous');
  }

  /** A user-defined generator, created once per split. */
  static custom<T>(createGenerator: () => WatermarkGenerator<T>, description = 'custom'): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(createGenerator, undefined, undefined, description);
  }

  /** Timestamps only, no watermarks: event time never advances until end of input. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => ({ onEvent() {}, currentWatermark: () => MIN_WATERMARK }), undefined, undefined, 'noWatermarks');
  }

  /** Takes each record's event time from the record. */
  withTimestamp(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.createGenerator, assigner, this.idlenessMs, this.description);
  }

  /** Marks a split idle after `timeout` of processing time without records, so it does not stall the watermark. */
  withIdleness(timeout: Duration): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.createGenerator, this.timestampAssigner, toMillis(timeout, 'idleness timeout'), this.description);
  }
}

class BoundedOutOfOrdernessGenerator<T> implements WatermarkGenerator<T> {
  private maxTimestamp = MIN_WATERMARK;
  constructor(private readonly delay: number) {}
  onEvent(_value: T, timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }
  currentWatermark(): number {
    return this.maxTimestamp === MIN_WATERMARK ? MIN_WATERMARK : this.maxTimestamp - this.delay - 1;
  }
}
