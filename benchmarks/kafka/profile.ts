/**
 * Scratch profiler for the Kafka connector: MODE=produce|bare|source|job TOPIC=<topic>.
 * `produce` fills TOPIC with N records; the others read it (fresh group each run) and print records/s from the first
 * record to the last, plus where the reader waited.
 */
import { randomBytes } from 'node:crypto';
import { agg, defineJob, WatermarkStrategy, windows, type Sink } from '@millrace/core';
import { createTopics, KafkaSink, KafkaSource } from '@millrace/kafka';
import { runJob } from '@millrace/runtime';
import { Kafka, logLevel } from 'kafkajs';

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const brokers = (process.env.MILLRACE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const mode = process.env.MODE ?? 'job';
const topic = process.env.TOPIC ?? 'prof-in';
const kafka = new Kafka({ clientId: 'prof', brokers, logLevel: logLevel.NOTHING });
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
interface Ev { k: string; v: number; ts: number }
const record = (i: number): Ev => ({ k: `key-${i % 1000}`, v: i % 97, ts: 1_700_000_000_000 + i });

if (mode === 'produce') {
  await createTopics({ brokers }, [{ topic, partitions: PARTITIONS }, { topic: `${topic}-out`, partitions: PARTITIONS }]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < N; i += 5000) {
    const n = Math.min(5000, N - i);
    await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, k) => { const r = record(i + k); return { key: r.k, value: JSON.stringify(r) }; }) });
  }
  await producer.disconnect();
  process.exit(0);
}
if (mode === 'bare') {
  const c = kafka.consumer({ groupId: `prof-bare-${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  let count = 0; let t0 = 0;
  const t = await new Promise<number>((resolve) => {
    void c.run({ eachBatch: async ({ batch }) => {
      if (t0 === 0) t0 = performance.now();
      for (const m of batch.messages) JSON.parse(m.value!.toString());
      count += batch.messages.length;
      if (count >= N) resolve(performance.now() - t0);
    } });
  });
  await c.disconnect();
  console.log(`bare: ${Math.round(N / (t / 1000))} records/s (${Math.round(t)} ms)`);
  process.exit(0);
}
const discard: Sink<unknown> = { description: 'discard', createWriter: () => ({ write: () => {} }) };
const job = defineJob('prof-kafka', (env) => {
  const s = env.fromSource(KafkaSource.json<Ev>({ brokers, topics: [topic], groupId: `prof-job-${randomBytes(3).toString('hex')}`, startFrom: 'earliest', bounded: true }), {
    uid: 'in', watermarks: WatermarkStrategy.boundedOutOfOrderness<Ev>('1s').withTimestamp((e) => e.ts),
  });
  if (mode === 'source') s.sinkTo(discard as Sink<Ev>, { uid: 'out' });
  else {
    const w = s.keyBy((e) => e.k).window(windows.tumbling('1s')).aggregate(agg.count(), (k, w, n) => ({ k, end: w.end, n }), { uid: 'counts' });
    if (mode === 'window') w.sinkTo(discard as Sink<{ k: string; end: number; n: number }>, { uid: 'out' });
    else w.sinkTo(KafkaSink.json({ brokers, topic: `${topic}-out`, key: (r) => r.k }), { uid: 'out' });
  }
}, { batchSize: 2048, ...(process.env.PAR ? { parallelism: Number(process.env.PAR) } : {}) });
const handle = runJob(job);
let first = 0;
const probe = setInterval(() => { if (first === 0 && handle.metrics().some((m) => m.recordsIn > 0)) first = performance.now(); }, 2);
const started = performance.now();
const r = await handle.done;
clearInterval(probe);
const ms = performance.now() - (first || started);
console.log(`${mode}: ${Math.round(r.recordsRead / (ms / 1000))} records/s (${Math.round(ms)} ms from first record, ${Math.round(first - started)} ms to first)`);
process.exit(0);
