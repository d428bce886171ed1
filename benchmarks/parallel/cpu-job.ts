/** A CPU-bound keyed pipeline: every record does ~20 µs of arithmetic before a keyed tumbling-window count. */
import { agg, defineJob, WatermarkStrategy, windows, type Sink } from '@millrace/core';

export const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const WORK = Number(process.env.BENCH_WORK ?? 400);

export interface Reading { device: number; value: number; ts: number }

/** Deterministic busy work standing in for parsing, scoring or enrichment. */
export function score(r: Reading): number {
  let x = r.value;
  for (let i = 0; i < WORK; i++) x = (x * 1_103_515_245 + 12_345 + i) % 2_147_483_647;
  return x % 1000;
}

const counter: Sink<number> = { description: 'count', createWriter: () => ({ write() {} }) };

export default defineJob('bench-cpu', (env) => {
  env.generate<Reading>({ count: EVENTS, generate: (i) => ({ device: i % 5_000, value: i, ts: i }) }, {
    uid: 'readings',
    watermarks: WatermarkStrategy.monotonous<Reading>().withTimestamp((r) => r.ts),
  })
    .map((r) => ({ ...r, value: score(r) }))
    .keyBy((r) => r.device)
    .window(windows.tumbling(10_000))
    .aggregate(agg.count(), { uid: 'counts' })
    .sinkTo(counter, { uid: 'out' });
}, { parallelism: 2 });
