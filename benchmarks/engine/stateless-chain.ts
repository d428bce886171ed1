/**
 * Benchmark 1: a stateless map → filter → map chain over the generator, ending in a sink that only sums what it gets.
 *
 * Engine:   env.generate(count n) → map(enrich) → filter(isLarge) → map(amountOf) → summing sink, parallelism 1
 *           (the planner fuses all of it into one chain: one generated loop per batch).
 * Baseline: `for (i < n)` over the same generator calling the same three functions, summing inline.
 *
 * Both sides call the very same step functions, so they do the same work; V8 inlines them into either loop.
 */
import { defineJob, type Sink } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import type { BenchEvent } from './events.js';

/** What the sink saw: compared between engine and baseline. */
export interface ChainResult {
  readonly records: number;
  readonly sum: number;
}

interface Enriched {
  readonly key: string | number;
  readonly cents: number;
  readonly ts: number;
}

// The three user functions, shared by both sides.
const enrich = (e: BenchEvent): Enriched => ({ key: e.key, cents: e.value * 100 + 99, ts: e.ts });
const isLarge = (r: Enriched): boolean => r.cents >= 25_000; // keeps values 250…999: 75 % of the records
const amountOf = (r: Enriched): number => r.cents;

/** A sink that counts and sums its (numeric) records: the least a sink can do while still using every record. */
function summingSink(): { sink: Sink<number>; result: () => ChainResult } {
  let records = 0;
  let sum = 0;
  return {
    sink: {
      description: 'sum',
      createWriter: () => ({
        write(values, _timestamps, count) {
          let s = 0;
          for (let i = 0; i < count; i++) s += values[i]!;
          sum += s;
          records += count;
        },
      }),
    },
    result: () => ({ records, sum }),
  };
}

/** Runs the chain as a Millrace job in this thread; resolves when the bounded job finished. */
export async function runChainJob(n: number, makeEvent: (i: number) => BenchEvent, batchSize: number): Promise<ChainResult> {
  const { sink, result } = summingSink();
  const job = defineJob(
    'bench-stateless-chain',
    (env) => {
      env
        .generate({ generate: makeEvent, count: n }, { uid: 'events' })
        .map(enrich, { name: 'enrich' })
        .filter(isLarge, { name: 'is-large' })
        .map(amountOf, { name: 'amount' })
        .sinkTo(sink, { uid: 'sum' });
    },
    { parallelism: 1, batchSize },
  );
  const done = await runJob(job).done;
  if (done.recordsRead !== n) throw new Error(`stateless job read ${done.recordsRead} records, expected ${n}`);
  return result();
}

/** The hand-written loop: the same generator and functions, no framework. */
export function runChainBaseline(n: number, makeEvent: (i: number) => BenchEvent): ChainResult {
  let records = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = enrich(makeEvent(i));
    if (!isLarge(r)) continue;
    sum += amountOf(r);
    records++;
  }
  return { records, sum };
}
