// scratch: split the job's time. MODE=bare|source|ops|sink|job TOPIC=<existing topic or empty: create>
import { randomBytes } from 'node:crypto';
import { agg, defineJob, sources, WatermarkStrategy, windows, type Sink } from '@millrace/core';
import { createTopics, KafkaSink, KafkaSource } from '@millrace/kafka';
import { runJob } from '@millrace/runtime';
import { Kafka, logLevel } from 'kafkajs';
const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const brokers = ['127.0.0.1:9092'];
const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
interface Ev { k: string; v: number; ts: number }
const PK = Number(process.env.PK ?? 1); const record = (i: number): Ev => ({ k: `key-${i % 1000}`, v: i % 97, ts: 1_700_000_000_000 + Math.floor(i * 1000 / (1000 * PK)) });
let input = process.env.TOPIC ?? '';
const run = randomBytes(3).toString('hex');
if (!input) {
  input = `bench-split-${run}`;
  await createTopics({ brokers }, [{ topic: input, partitions: 4 }]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < N; i += 5000) {
    const n = Math.min(5000, N - i);
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: n }, (_, k) => { const r = record(i + k); return { key: r.k, value: JSON.stringify(r) }; }) });
  }
  await producer.disconnect();
  console.log('TOPIC', input);
}
const output = `bench-split-out-${run}`;
await createTopics({ brokers }, [{ topic: output, partitions: 4 }]);
const T: Record<string, number> = {};
const mark = (k: string) => { T[k] = performance.now(); };
function wrapT<X>(inner: Sink<X>): Sink<X> {
  return { description: 'w', createWriter(ctx) { const w = inner.createWriter(ctx); return {
    write: (v, t, n) => { T.firstWrite ??= performance.now(); mark('lastWrite'); return w.write(v, t, n); },
    preCommit: (id: number) => w.preCommit!(id),
    finish: async () => { mark('finishStart'); await w.finish?.(); mark('finishEnd'); },
    close: async () => { mark('closeStart'); await w.close?.(); mark('closeEnd'); },
  }; } };
}
const discard: Sink<unknown> = { description: 'discard', createWriter: () => ({ write() {} }) };
const mode = process.env.MODE ?? 'job';
const t0 = performance.now();
let first = 0;
if (mode === 'bare') {
  const c = kafka.consumer({ groupId: `bench-bare-${run}`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [input], fromBeginning: true });
  let count = 0; let sum = 0;
  await new Promise<void>((resolve) => { void c.run({ eachBatch: async ({ batch }) => { if (!first) first = performance.now(); for (const m of batch.messages) sum += (JSON.parse(m.value!.toString()) as Ev).v; count += batch.messages.length; if (count >= N) resolve(); } }); });
  await c.disconnect();
} else {
  const job = defineJob('split', (env) => {
    const src = mode === 'sink' || mode === 'ops'
      ? env.fromSource(sources.generator<Ev>({ generate: record, count: N }), { uid: 'in', watermarks: WatermarkStrategy.boundedOutOfOrderness<Ev>('1s').withTimestamp((e) => e.ts) })
      : env.fromSource(KafkaSource.json<Ev>({ brokers, topics: [input], groupId: `bench-split-${run}`, startFrom: 'earliest', bounded: true }), { uid: 'in', watermarks: WatermarkStrategy.boundedOutOfOrderness<Ev>('1s').withTimestamp((e) => e.ts) });
    if (mode === 'source') { src.sinkTo(discard, { uid: 'out' }); return; }
    const agged = src.keyBy((e) => e.k).window(windows.tumbling('1s')).aggregate(agg.count(), (k, w, n) => ({ k, end: w.end, n }), { uid: 'counts' });
    if (mode === 'ops') agged.sinkTo(discard as Sink<{ k: string; end: number; n: number }>, { uid: 'out' });
    else agged.sinkTo(wrapT(KafkaSink.json({ brokers, topic: output, key: (r) => r.k, ...(process.env.BMAX ? { batchMaxRecords: Number(process.env.BMAX) } : {}), ...(process.env.INFL ? { maxInFlightSends: Number(process.env.INFL) } : {}) })), { uid: 'out' });
  }, { batchSize: 2048 });
  const handle = runJob(job);
  let allIn = 0;
  const probe = setInterval(() => { const ms = handle.metrics(); if (first === 0 && ms.some((m) => m.recordsIn > 0)) first = performance.now(); if (allIn === 0 && ms.some((m) => m.recordsIn >= N)) allIn = performance.now(); }, 2);
  const r = await handle.done;
  clearInterval(probe);
  if (r.recordsRead !== N) console.log('read', r.recordsRead);
  console.log(`timeline: all in at +${Math.round(allIn - first)} ms, done at +${Math.round(performance.now() - first)} ms`, Object.entries(T).map(([k, v]) => `${k} +${Math.round(v - first)}`).join(' '));
}
const ms = performance.now() - (first || t0);
console.log(`${mode}: ${Math.round(N / (ms / 1000))} records/s (${Math.round(ms)} ms from first record)`);
const admin = kafka.admin(); await admin.connect(); await admin.deleteTopics({ topics: [output] }).catch(() => {}); await admin.disconnect();
process.exit(0);
