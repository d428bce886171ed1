/** Records through one exchange between two worker threads: a source on worker 0 feeding a map on worker 1 only. */
import { defineJob, type Sink } from '@millrace/core';

export const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const counter: Sink<unknown> = { description: 'count', createWriter: () => ({ write() {} }) };

export default defineJob('bench-exchange', (env) => {
  // The source runs once, on worker 0; every record has key 5, whose key group belongs to subtask 1 of the
  // keyed step, on worker 1: every record crosses the thread boundary once.
  env.generate({ count: EVENTS, generate: (i) => ({ id: i, key: 5, v: i * 0.5, tag: 'reading' }) }, { uid: 'src', parallelism: 1 })
    .keyBy((r) => r.key)
    .reduce((a, b) => b, { uid: 'last', parallelism: 2 })
    .sinkTo(counter, { uid: 'out', parallelism: 2 });
}, { parallelism: 2, batchSize: 1024 });
