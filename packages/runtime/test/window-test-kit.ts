/**
 * Shared helpers of the window tests: a seeded PRNG, a job runner that feeds records one per batch (so a watermark
 * follows every record), scripted watermarks, and the row shape the window tests compare.
 */
import {
  OutputTag, WatermarkStrategy, defineJob, sinks,
  type DataStream, type WatermarkGenerator,
} from '@millrace/core';
import { runJob, type OperatorMetricsRow } from '../src/index.js';

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi], inclusive. */
export function intIn(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** A test record: `id` is unique within a run, so a window's contents are identified by its ids. */
export interface Rec {
  readonly key: string;
  readonly ts: number;
  readonly id: number;
  readonly v: number;
}

/** What every window test emits per firing. `ts` is the emitted record's timestamp (must be `end - 1`). */
export interface WindowRow {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly n: number;
  readonly sum: number;
  readonly ids: readonly number[];
  readonly ts: number;
}

/** A late record as seen on the late side output. */
export interface LateRow {
  readonly id: number;
  readonly ts: number;
}

interface Acc { n: number; sum: number; ids: number[] }

/** Count, sum and the ids of the records in the window (order-independent: ids are sorted on read). */
export const contentsAggregate = {
  createAccumulator: (): Acc => ({ n: 0, sum: 0, ids: [] }),
  add: (r: Rec, a: Acc): Acc => { a.n++; a.sum += r.v; a.ids.push(r.id); return a; },
  merge: (a: Acc, b: Acc): Acc => ({ n: a.n + b.n, sum: a.sum + b.sum, ids: [...a.ids, ...b.ids] }),
  getResult: (a: Acc): { n: number; sum: number; ids: number[] } => ({ n: a.n, sum: a.sum, ids: [...a.ids].sort((x, y) => x - y) }),
};

/** A window result without its output timestamp (the timestamp is added from the sink). */
export type RowValue = Omit<WindowRow, 'ts'>;

/** Adds the sink's timestamps to the rows. */
export function withTimestamps(records: ReadonlyArray<{ value: RowValue; timestamp: number }>): WindowRow[] {
  return records.map((r) => ({ ...r.value, ts: r.timestamp }));
}

/** Sorts rows by key, window end, window start, keeping firing order for the same window (stable sort). */
export function sortRows<R extends WindowRow>(rows: readonly R[]): R[] {
  return [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.end - b.end || a.start - b.start);
}

/** One step of a scripted input: a record, or a watermark the source announces after the previous record. */
export type ScriptEntry<T> = { readonly data: T } | { readonly watermark: number };

type Wrapped<T> = { readonly data: T; readonly wm?: undefined } | { readonly data?: undefined; readonly wm: number };

/**
 * Runs `build` over a scripted input, one entry per source batch. Watermarks are exactly the scripted ones (plus the
 * final `MAX_WATERMARK` at end of input); watermark entries never reach `build`'s stream.
 */
export async function runScript<T, O, L = never>(
  script: ReadonlyArray<ScriptEntry<T>>,
  timestampOf: (value: T) => number,
  build: (input: DataStream<T>) => { out: DataStream<O>; late?: DataStream<L> },
): Promise<{ out: Array<{ value: O; timestamp: number }>; late: Array<{ value: L; timestamp: number }>; metrics: OperatorMetricsRow[] }> {
  const wrapped: Array<Wrapped<T>> = script.map((e) => ('data' in e ? { data: e.data } : { wm: e.watermark }));
  const scripted = (): WatermarkGenerator<Wrapped<T>> => {
    let wm = Number.NEGATIVE_INFINITY;
    return {
      onEvent(v) { if (v.wm !== undefined) wm = v.wm; },
      currentWatermark: () => wm,
    };
  };
  const out = sinks.collect<O>();
  const late = sinks.collect<L>();
  const job = defineJob('window-script', (env) => {
    const input = env
      .fromArray(wrapped, {
        uid: 'src',
        watermarks: WatermarkStrategy.custom(scripted).withTimestamp((w) => (w.wm !== undefined ? w.wm : timestampOf(w.data as T))),
      })
      .filter((w) => w.wm === undefined)
      .map((w) => w.data as T);
    const r = build(input);
    r.out.sinkTo(out, { uid: 'out' });
    r.late?.sinkTo(late, { uid: 'late' });
  }, { batchSize: 1 });
  const result = await runJob(job).done;
  return { out: out.records(), late: late.records(), metrics: result.metrics };
}

/** The late side output of the window tests. */
export const LATE = new OutputTag<Rec>('late');

/**
 * Runs `build` over `records` with `WatermarkStrategy.boundedOutOfOrderness(delay)`, one record per batch: the
 * watermark after each record is `max ts so far - delay - 1`.
 */
export async function runBounded<O>(
  records: readonly Rec[],
  delay: number,
  build: (input: DataStream<Rec>) => { out: DataStream<O>; late?: DataStream<Rec> },
): Promise<{ out: Array<{ value: O; timestamp: number }>; late: Array<{ value: Rec; timestamp: number }>; plan: ReturnType<ReturnType<typeof defineJob>['plan']> }> {
  const out = sinks.collect<O>();
  const late = sinks.collect<Rec>();
  const job = defineJob('window-bounded', (env) => {
    const input = env.fromArray(records, { uid: 'src', watermarks: WatermarkStrategy.boundedOutOfOrderness<Rec>(delay).withTimestamp((r) => r.ts) });
    const r = build(input);
    r.out.sinkTo(out, { uid: 'out' });
    r.late?.sinkTo(late, { uid: 'late' });
  }, { batchSize: 1 });
  await runJob(job).done;
  return { out: out.records(), late: late.records(), plan: job.plan() };
}
