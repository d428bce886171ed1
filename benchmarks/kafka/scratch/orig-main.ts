/**
 * `npm run bench:kafka`: on the dev services' Kafka (or MILLRACE_KAFKA_BROKERS),
 * 1. throughput: a bare kafkajs consumer (eachBatch, JSON.parse of each value) reads a topic of N small records, then
 *    a Millrace job reads the same topic (bounded) → keyBy → 1 s tumbling-window count → Kafka sink; ratio of records/s;
 * 2. latency: records produced at half the job's measured rate into a fresh topic, a Millrace job passes them
 *    through to an output topic (at-least-once), a consumer measures produce-to-read time; p50/p99.
 * Figures drift with the shared machine; the ratio is what to compare.
 */
import { randomBytes } from 'node:crypto';
import { agg, defineJob, WatermarkStrategy, windows } from '@millrace/core';
import { createTopics, KafkaSink, KafkaSource } from '@millrace/kafka';
import { runJob } from '@millrace/runtime';
import { useDevServices } from '@millrace/devservices';
import { Kafka, logLevel } from 'kafkajs';

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 8);
const run = randomBytes(3).toString('hex');
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

await using services = await useDevServices({ hdfs: false });
const brokers = [...services.kafka!.brokers];
const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
const input = `bench-in-${run}`;
const output = `bench-out-${run}`;
await createTopics({ brokers }, [{ topic: input, partitions: PARTITIONS }, { topic: output, partitions: PARTITIONS }]);

interface Ev { k: string; v: number; ts: number }
const record = (i: number): Ev => ({ k: `key-${i % 1000}`, v: i % 97, ts: 1_700_000_000_000 + i });
const sample = JSON.stringify(record(123_456));

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
for (let i = 0; i < N; i += 5000) {
  const n = Math.min(5000, N - i);
  await producer.send({ topic: input, acks: -1, messages: Array.from({ length: n }, (_, k) => { const r = record(i + k); return { key: r.k, value: JSON.stringify(r) }; }) });
}
console.log(`bench:kafka: ${N} records of ~${sample.length} bytes (value), ${PARTITIONS} partitions, brokers ${brokers.join(',')}`);

// 1a. The bare consumer.
async function bare(): Promise<number> {
  const c = kafka.consumer({ groupId: `bench-bare-${run}-${randomBytes(2).toString('hex')}`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [input], fromBeginning: true });
  let count = 0;
  let sum = 0;
  let t0 = 0;
  const t = await new Promise<number>((resolve) => {
    void c.run({
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = performance.now();
        for (const m of batch.messages) sum += (JSON.parse(m.value!.toString()) as Ev).v;
        count += batch.messages.length;
        if (count >= N) resolve(performance.now() - t0);
      },
    });
  });
  await c.disconnect();
  void sum;
  return N / (t / 1000);
}

// 1b. The Millrace job (bounded: stops at the end offsets seen at start).
async function millrace(): Promise<number> {
  const job = defineJob('bench-kafka-window', (env) => {
    env.fromSource(KafkaSource.json<Ev>({ brokers, topics: [input], groupId: `bench-job-${run}-${randomBytes(2).toString('hex')}`, startFrom: 'earliest', bounded: true, ...(process.env.BENCH_BUF ? { maxBufferedRecordsPerPartition: Number(process.env.BENCH_BUF) } : {}), ...(process.env.BENCH_NOORIGIN ? { keepOrigins: false } : {}) }), {
      uid: 'in', watermarks: WatermarkStrategy.boundedOutOfOrderness<Ev>('1s').withTimestamp((e) => e.ts),
    })
      .keyBy((e) => e.k)
      .window(windows.tumbling('1s'))
      .aggregate(agg.count(), (k, w, n) => ({ k, end: w.end, n }), { uid: 'counts' })
      .sinkTo(KafkaSink.json({ brokers, topic: output, key: (r) => r.k }), { uid: 'out' });
  }, { batchSize: 2048 });
  const handle = runJob(job);
  // Time from the first record read, like the bare consumer (group join is not counted in either).
  let first = 0;
  const probe = setInterval(() => { if (first === 0 && handle.metrics().some((m) => m.recordsIn > 0)) first = performance.now(); }, 5);
  const started = performance.now();
  const r = await handle.done;
  clearInterval(probe);
  const ms = performance.now() - (first || started);
  return r.recordsRead / (ms / 1000);
}

const bareRate = await bare();
const jobRate = await millrace();
console.log(`throughput: bare kafkajs consumer ${Math.round(bareRate).toLocaleString('en-US')} records/s; Millrace Kafka → keyed 1 s window count → Kafka ${Math.round(jobRate).toLocaleString('en-US')} records/s; ratio ${(jobRate / bareRate).toFixed(2)} (target ≥ 0.8)`);

// 2. Latency at half the job's rate.
const rate = Math.max(1000, Math.floor(jobRate / 2));
const latIn = `bench-lat-in-${run}`;
const latOut = `bench-lat-out-${run}`;
await createTopics({ brokers }, [{ topic: latIn, partitions: PARTITIONS }, { topic: latOut, partitions: PARTITIONS }]);
const passJob = defineJob('bench-kafka-latency', (env) => {
  env.fromSource(KafkaSource.json<{ id: number; sent: number }>({ brokers, topics: [latIn], groupId: `bench-lat-${run}`, startFrom: 'earliest' }), { uid: 'in' })
    .map((r) => r)
    .sinkTo(KafkaSink.json({ brokers, topic: latOut }), { uid: 'out' });
}, { batchSize: 512 });
const handle = runJob(passJob);
const lat: number[] = [];
const reader = kafka.consumer({ groupId: `bench-lat-reader-${run}`, maxWaitTimeInMs: 20, minBytes: 1 });
await reader.connect();
await reader.subscribe({ topics: [latOut], fromBeginning: true });
void reader.run({ eachBatch: async ({ batch }) => { const now = Date.now(); for (const m of batch.messages) lat.push(now - (JSON.parse(m.value!.toString()) as { sent: number }).sent); } });
// Warm up: wait until a first record made it through (group joins done).
let id = 0;
const lp = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await lp.connect();
while (lat.length === 0) {
  await lp.send({ topic: latIn, acks: -1, messages: [{ value: JSON.stringify({ id: id++, sent: Date.now() }) }] });
  await new Promise((r) => setTimeout(r, 50));
}
lat.length = 0;
const tickMs = 10;
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
const end = Date.now() + LATENCY_SECONDS * 1000;
let sent = 0;
while (Date.now() < end) {
  const t = Date.now();
  await lp.send({ topic: latIn, acks: -1, messages: Array.from({ length: perTick }, () => ({ key: String(id % 64), value: JSON.stringify({ id: id++, sent: Date.now() }) })) });
  sent += perTick;
  const wait = tickMs - (Date.now() - t);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const deadline = Date.now() + 20_000;
while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
await lp.disconnect();
await reader.disconnect();
await handle.cancel();
const sorted = lat.slice().sort((a, b) => a - b);
const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
console.log(`latency at ${Math.round((sent / LATENCY_SECONDS)).toLocaleString('en-US')} records/s offered (target half of ${Math.round(jobRate).toLocaleString('en-US')}), pass-through job, at-least-once sink: ${lat.length}/${sent} records, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (target ≤ 50 ms)`);
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: [input, output, latIn, latOut] }).catch(() => {});
await admin.disconnect();
process.exit(0);
