/**
 * Benchmark 2: a keyed tumbling-window count in event time: 1-minute windows, watermarks 1 s behind the largest
 * timestamp seen (bounded out-of-orderness), one count per key and window.
 *
 * Engine:   env.generate(count n, boundedOutOfOrderness(1 s)) → keyBy(key) → window(tumbling 1 min)
 *           → aggregate(agg.count()) → a sink that folds each (window end − 1, count) into a checksum; parallelism 1.
 * Baseline: the natural plain-JS layout, window start → Map(key → count). Like the engine's source, it reads the
 *           generator in batches and advances the watermark after each batch, then fires (and forgets) every window
 *           whose end − 1 the watermark reached; at end of input everything left fires.
 *
 * Both produce one result per (key, window). The checksum is order-independent, so it does not depend on the order in
 * which keys or windows fire.
 */
import { agg, defineJob, windows, WatermarkStrategy, type Key, type Sink } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { mix32, START_MS, type BenchEvent } from './events.js';

/** Window size. */
export const WINDOW_MS = 60_000;
/** Watermark delay: watermark = max timestamp − OUT_OF_ORDER_MS − 1 (as the engine's bounded out-of-orderness). */
export const OUT_OF_ORDER_MS = 1_000;

/** Results of one run, compared between engine and baseline. */
export interface WindowResult {
  /** (key, window) counts emitted. */
  readonly results: number;
  /** Sum of all counts: the records that were not late. */
  readonly counted: number;
  /** Order-independent hash of every (window, count) pair. */
  readonly checksum: number;
  /** Records dropped as late. */
  readonly late: number;
}

/** Folds results into a {@link WindowResult}. */
class WindowTally {
  results = 0;
  counted = 0;
  checksum = 0;
  late = 0;

  /** One fired count; `maxTimestamp` is the window's end − 1 (the timestamp the engine gives window results). */
  add(maxTimestamp: number, count: number): void {
    this.results++;
    this.counted += count;
    // A commutative sum of a hash of (window index, count), modulo 2^32.
    this.checksum = (this.checksum + mix32(Math.imul((maxTimestamp - START_MS) / WINDOW_MS | 0, 0x9e3779b1) ^ count)) >>> 0;
  }

  result(): WindowResult {
    return { results: this.results, counted: this.counted, checksum: this.checksum, late: this.late };
  }
}

/** Runs the window count as a Millrace job in this thread; resolves when the bounded job finished. */
export async function runWindowJob(n: number, makeEvent: (i: number) => BenchEvent, batchSize: number): Promise<WindowResult> {
  const tally = new WindowTally();
  const sink: Sink<number> = {
    description: 'checksum',
    createWriter: () => ({
      write(values, timestamps, count) {
        for (let i = 0; i < count; i++) tally.add(timestamps[i]!, values[i]!);
      },
    }),
  };
  const job = defineJob(
    'bench-keyed-window',
    (env) => {
      env
        .generate(
          { generate: makeEvent, count: n },
          { uid: 'events', watermarks: WatermarkStrategy.boundedOutOfOrderness<BenchEvent>(OUT_OF_ORDER_MS).withTimestamp((e) => e.ts) },
        )
        .keyBy((e) => e.key)
        .window(windows.tumbling(WINDOW_MS))
        .aggregate(agg.count(), { uid: 'counts' })
        .sinkTo(sink, { uid: 'checksum' });
    },
    { parallelism: 1, batchSize },
  );
  const done = await runJob(job).done;
  if (done.recordsRead !== n) throw new Error(`window job read ${done.recordsRead} records, expected ${n}`);
  for (const m of done.metrics) tally.late += m.lateRecordsDropped + m.lateRecordsToSideOutput;
  return tally.result();
}

/** The hand-written loop: window start → Map(key → count), fired as the watermark passes. */
export function runWindowBaseline(n: number, makeEvent: (i: number) => BenchEvent, batchSize: number): WindowResult {
  const tally = new WindowTally();
  const open = new Map<number, Map<Key, number>>();
  let maxTs = Number.NEGATIVE_INFINITY;
  let watermark = Number.NEGATIVE_INFINITY;
  const fire = (wm: number): void => {
    for (const [start, counts] of open) {
      const maxTimestamp = start + WINDOW_MS - 1;
      if (maxTimestamp > wm) continue;
      for (const count of counts.values()) tally.add(maxTimestamp, count);
      open.delete(start);
    }
  };
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    for (let i = from; i < to; i++) {
      const e = makeEvent(i);
      const ts = e.ts;
      if (ts > maxTs) maxTs = ts;
      const start = ts - (ts % WINDOW_MS);
      if (start + WINDOW_MS - 1 <= watermark) {
        tally.late++;
        continue;
      }
      let counts = open.get(start);
      if (counts === undefined) open.set(start, (counts = new Map()));
      counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
    }
    const wm = maxTs - OUT_OF_ORDER_MS - 1;
    if (wm > watermark) {
      watermark = wm;
      fire(watermark);
    }
  }
  fire(Number.POSITIVE_INFINITY);
  return tally.result();
}
