/**
 * `npm run bench:kafka`: on the dev services' Kafka (or MILLRACE_KAFKA_BROKERS). See README.md beside this file.
 *
 * 1. Throughput, twice: a bare kafkajs consumer (eachBatch, JSON.parse of every value) reads a topic of N small records,
 *    then a Millrace job reads the same topic (bounded) → keyBy → 1 s tumbling-window count → Kafka sink
 *    (at-least-once); ratio of records read per second. Once on a topic where each key occurs R times per window
 *    (the aggregation writes N / R records as windows close: the realistic case, 100 keys × 100 events by default), once with R = 1 (it writes one record per record
 *    read: the worst case, bound by the producer).
 * 2. Where the time goes: the same job's parts alone — source only (Kafka → discard), operators only (generator →
 *    window → discard), sink only (generator → window → Kafka, one output per input) — and a bare kafkajs producer
 *    sending the same output records.
 * 3. Latency: records produced at half the rate the worst-case job reached, into a fresh topic; a Millrace job passes
 *    them through to an output topic with the at-least-once sink (the exactly-once sink's output becomes visible only
 *    when a checkpoint commits); produce-to-read time p50/p99, load generated and read on another thread.
 * Figures drift with the shared machine; the ratios measured in the same run are what to compare.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { agg, defineJob, sources, WatermarkStrategy, windows, type Sink, type SinkWriter } from '@millrace/core';
import { createTopics, KafkaSink, KafkaSource } from '@millrace/kafka';
import { runJob } from '@millrace/runtime';
import { useDevServices } from '@millrace/devservices';
import { Kafka, logLevel } from 'kafkajs';

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
/** Keys of the worst case (each once per window). */
const KEYS = Number(process.env.BENCH_KEYS ?? 1000);
/** Keys and events per key per window of the realistic case: windows of AGG_KEYS × PER_KEY records, closing during the run. */
const AGG_KEYS = Number(process.env.BENCH_AGG_KEYS ?? 100);
const PER_KEY = Number(process.env.BENCH_EVENTS_PER_KEY ?? 100);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 8);
const SPLIT = process.env.BENCH_SPLIT !== '0';
/** Throughput rounds per case (bare consumer and job each once per round). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH_SIZE = 2048;
const run = randomBytes(3).toString('hex');
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

await using services = await useDevServices({ hdfs: false });
const brokers = [...services.kafka!.brokers];
const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
const topics: string[] = [];
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface Ev { k: string; v: number; ts: number }
/** Record i of a topic where each of `keys` keys occurs `perKey` times in each 1 s window (in event time). */
const eventOf = (keys: number, perKey: number) => (i: number): Ev => ({ k: `key-${i % keys}`, v: i % 97, ts: 1_700_000_000_000 + Math.floor((i * 1000) / (keys * perKey)) });
const sample = JSON.stringify(eventOf(KEYS, 1)(123_456));

async function fillTopic(keys: number, perKey: number): Promise<string> {
  const topic = `bench-in-${keys}x${perKey}-${run}`;
  topics.push(topic);
  await createTopics({ brokers }, [{ topic, partitions: PARTITIONS }]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const ev = eventOf(keys, perKey);
  for (let i = 0; i < N; i += 5000) {
    const n = Math.min(5000, N - i);
    await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, k) => { const r = ev(i + k); return { key: r.k, value: JSON.stringify(r) }; }) });
  }
  await producer.disconnect();
  return topic;
}

async function outputTopic(): Promise<string> {
  const topic = `bench-out-${run}-${randomBytes(2).toString('hex')}`;
  topics.push(topic);
  await createTopics({ brokers }, [{ topic, partitions: PARTITIONS }]);
  return topic;
}

/** The bare consumer: records/s from its first batch to its last record. */
async function bare(topic: string): Promise<number> {
  const c = kafka.consumer({ groupId: `bench-bare-${run}-${randomBytes(2).toString('hex')}`, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
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

/** A sink that counts what it is given and records when the wrapped writer finished (all sent and acknowledged). */
function timed<T>(inner: Sink<T>, onWrite: (n: number) => void, onFinish: () => void): Sink<T> {
  return {
    description: inner.description,
    createWriter(ctx): SinkWriter<T> {
      const w = inner.createWriter(ctx);
      return {
        write: (v, t, n) => { onWrite(n); return w.write(v, t, n); },
        ...(w.preCommit ? { preCommit: (id: number) => w.preCommit!(id) } : {}),
        ...(w.commit ? { commit: (c: readonly unknown[]) => w.commit!(c) } : {}),
        finish: async () => { await w.finish?.(); onFinish(); },
        close: () => w.close?.(),
      };
    },
  };
}
const discard = <T>(): Sink<T> => ({ description: 'discard', createWriter: () => ({ write() {} }) });

/**
 * Runs a job; records/s of records read, from the first record read until its sink finished (all output
 * acknowledged). `build` gets the sink to write to, wrapped to take the time.
 */
async function timeJob(name: string, build: (env: Parameters<Parameters<typeof defineJob>[1]>[0], sink: <T>(s: Sink<T>) => Sink<T>) => void): Promise<{ rate: number; read: number; written: number }> {
  let finished = 0;
  let written = 0;
  const job = defineJob(name, (env) => build(env, (s) => timed(s, (n) => { written += n; }, () => { finished = performance.now(); })), { batchSize: BATCH_SIZE });
  const handle = runJob(job);
  let first = 0;
  const probe = setInterval(() => { if (first === 0 && handle.metrics().some((m) => m.recordsIn > 0)) first = performance.now(); }, 2);
  const started = performance.now();
  const r = await handle.done;
  clearInterval(probe);
  const ms = (finished || performance.now()) - (first || started);
  return { rate: r.recordsRead / (ms / 1000), read: r.recordsRead, written };
}

const watermarks = WatermarkStrategy.boundedOutOfOrderness<Ev>('1s').withTimestamp((e) => e.ts);

/** The benchmark job: Kafka → keyBy → 1 s tumbling count → Kafka. */
async function windowJob(input: string): Promise<{ rate: number; read: number; written: number }> {
  const output = await outputTopic();
  return timeJob('bench-kafka-window', (env, sink) => {
    env.fromSource(KafkaSource.json<Ev>({ brokers, topics: [input], groupId: `bench-job-${run}-${randomBytes(2).toString('hex')}`, startFrom: 'earliest', bounded: true }), { uid: 'in', watermarks })
      .keyBy((e) => e.k)
      .window(windows.tumbling('1s'))
      .aggregate(agg.count(), (k, w, n) => ({ k, end: w.end, n }), { uid: 'counts' })
      .sinkTo(sink(KafkaSink.json({ brokers, topic: output, key: (r) => r.k })), { uid: 'out' });
  });
}

console.log(`bench:kafka: ${fmt(N)} records per topic, values of ~${sample.length} bytes (JSON), ${PARTITIONS} partitions, ` +
  `1 s tumbling windows, engine batches of ${BATCH_SIZE}, brokers ${brokers.join(',')}`);
const aggTopic = await fillTopic(AGG_KEYS, PER_KEY);
const oneTopic = await fillTopic(KEYS, 1);

const results: Array<{ what: string; bare: number; job: number; written: number }> = [];
const median = (xs: number[]): number => { const a = xs.slice().sort((x, y) => x - y); return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2; };
for (const [keys, perKey, topic] of [[AGG_KEYS, PER_KEY, aggTopic], [KEYS, 1, oneTopic]] as const) {
  // Rounds alternate which side goes first, so both share the machine's drift; the ratio is taken within each round.
  const bares: number[] = [];
  const jobs: number[] = [];
  const ratios: number[] = [];
  let written = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let b: number;
    let j: { rate: number; written: number };
    if (round % 2 === 0) { b = await bare(topic); j = await windowJob(topic); } else { j = await windowJob(topic); b = await bare(topic); }
    bares.push(b);
    jobs.push(j.rate);
    ratios.push(j.rate / b);
    written = j.written;
  }
  const what = perKey === 1
    ? `worst case, ${keys} keys × 1 event per key per window: writes 1 record per record read (${fmt(written)} written)`
    : `${keys} keys × ${perKey} events per key per window: writes 1 record per ${perKey} read (${fmt(written)} written)`;
  results.push({ what, bare: median(bares), job: median(jobs), written });
  console.log(`throughput, ${what}, median of ${ROUNDS} rounds: bare kafkajs consumer ${fmt(median(bares))} records/s; ` +
    `Millrace Kafka → keyed 1 s window count → Kafka ${fmt(median(jobs))} records/s; ratio ${median(ratios).toFixed(2)} ` +
    `(rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}; target ≥ 0.8${perKey === 1 ? '; not reachable with kafkajs: this case writes as fast as it reads, and kafkajs\'s producer encodes a fraction of what its consumer reads, see "sink only" below and benchmarks/kafka/README.md' : ''})`);
}

if (SPLIT) {
  const src = await timeJob('bench-kafka-source-only', (env, sink) => {
    env.fromSource(KafkaSource.json<Ev>({ brokers, topics: [aggTopic], groupId: `bench-src-${run}`, startFrom: 'earliest', bounded: true }), { uid: 'in', watermarks }).sinkTo(sink(discard<Ev>()), { uid: 'out' });
  });
  const generated = (env: Parameters<Parameters<typeof defineJob>[1]>[0]) =>
    env.fromSource(sources.generator<Ev>({ generate: eventOf(KEYS, 1), count: N }), { uid: 'in', watermarks })
      .keyBy((e) => e.k).window(windows.tumbling('1s')).aggregate(agg.count(), (k, w, n) => ({ k, end: w.end, n }), { uid: 'counts' });
  const ops = await timeJob('bench-kafka-operators-only', (env, sink) => { generated(env).sinkTo(sink(discard()), { uid: 'out' }); });
  const sinkOut = await outputTopic();
  const snk = await timeJob('bench-kafka-sink-only', (env, sink) => { generated(env).sinkTo(sink(KafkaSink.json({ brokers, topic: sinkOut, key: (r) => r.k })), { uid: 'out' }); });
  // The producer alone: the same output records, sent in batches like the sink's.
  const prodTopic = await outputTopic();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH_SIZE) {
    const n = Math.min(BATCH_SIZE, N - i);
    await producer.send({ topic: prodTopic, acks: -1, messages: Array.from({ length: n }, (_, j) => { const k = `key-${(i + j) % KEYS}`; return { key: k, value: JSON.stringify({ k, end: 1_700_000_001_000 + i + j, n: 1 }), timestamp: String(1_700_000_000_999 + i + j) }; }) });
  }
  const prodRate = N / ((performance.now() - t0) / 1000);
  await producer.disconnect();
  const bareAgg = results[0]!.bare;
  console.log(`where the time goes (records/s; same job, one part at a time): source only (Kafka → discard) ${fmt(src.rate)} (${(src.rate / bareAgg).toFixed(2)} of the bare consumer); ` +
    `operators only (generator → window → discard) ${fmt(ops.rate)}; sink only (generator → window → Kafka, 1 output per input) ${fmt(snk.rate)}; ` +
    `bare kafkajs producer, same records, sends of ${BATCH_SIZE} ${fmt(prodRate)}`);
}

// 3. Latency at half the worst-case job's rate (the pass-through job writes every record too), for the Millrace job and
// for a bare kafkajs pass-through (eachBatch: JSON.parse, stamp, one send per batch) at the same rate.
const maxRate = results[results.length - 1]!.job;
const rate = Math.max(1000, Math.floor(maxRate / 2));
interface Measured { sent: number; offeredPerSecond: number; latencies: number[]; ins: number[]; outs: number[] }

async function latency(kind: 'bare' | 'millrace', rate: number): Promise<Measured> {
  const latIn = `bench-lat-in-${kind}-${rate}-${run}`;
  const latOut = `bench-lat-out-${kind}-${rate}-${run}`;
  topics.push(latIn, latOut);
  await createTopics({ brokers }, [{ topic: latIn, partitions: PARTITIONS }, { topic: latOut, partitions: PARTITIONS }]);
  let stop: () => Promise<unknown>;
  let failed: Promise<never> = new Promise(() => {});
  if (kind === 'millrace') {
    const passJob = defineJob('bench-kafka-latency', (env) => {
      env.fromSource(KafkaSource.json<{ id: number; sent: number }>({ brokers, topics: [latIn], groupId: `bench-lat-${rate}-${run}`, startFrom: 'earliest' }), { uid: 'in' })
        // Stamps when the engine has the record, to split the latency into the way in and the way out.
        .map((r) => ({ ...r, at: Date.now() }))
        .sinkTo(KafkaSink.json({ brokers, topic: latOut }), { uid: 'out' });
    }, { batchSize: 512 });
    const handle = runJob(passJob);
    stop = () => handle.cancel();
    failed = handle.done.then(() => { throw new Error('the latency job ended by itself'); });
  } else {
    const c = kafka.consumer({ groupId: `bench-lat-bare-${rate}-${run}`, maxWaitTimeInMs: 100 });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([c.connect(), p.connect()]);
    await c.subscribe({ topics: [latIn], fromBeginning: true });
    void c.run({
      eachBatch: async ({ batch }) => {
        const messages = batch.messages.map((m) => {
          const r = JSON.parse(m.value!.toString()) as { at: number };
          r.at = Date.now();
          return { value: JSON.stringify(r) };
        });
        await p.send({ topic: latOut, acks: -1, messages });
      },
    });
    stop = () => Promise.all([c.disconnect(), p.disconnect()]);
  }
  const driver = new Worker(new URL('./latency-driver.mjs', import.meta.url), { workerData: { brokers, input: latIn, output: latOut, groupId: `bench-lat-reader-${kind}-${rate}-${run}`, rate, seconds: LATENCY_SECONDS } });
  try {
    const m = await Promise.race([failed, new Promise<Measured & { error?: string }>((resolve, reject) => { driver.once('message', resolve); driver.once('error', reject); })]);
    if (m.error) throw new Error(`latency run (${kind}, ${rate} records/s): ${m.error}`);
    return m;
  } finally {
    await driver.terminate();
    await stop();
  }
}

const sortedOf = (xs: number[]): number[] => xs.slice().sort((a, b) => a - b);
const quantile = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
function describe(m: Measured): string {
  const all = sortedOf(m.latencies);
  const ins = sortedOf(m.ins);
  const outs = sortedOf(m.outs);
  return `${fmt(m.offeredPerSecond)} records/s offered, ${all.length}/${m.sent} read back, p50 ${quantile(all, 0.5)} ms, p99 ${quantile(all, 0.99)} ms, max ${all[all.length - 1]} ms ` +
    `(produced → in the pipeline p50 ${quantile(ins, 0.5)} / p99 ${quantile(ins, 0.99)} ms; → read back p50 ${quantile(outs, 0.5)} / p99 ${quantile(outs, 0.99)} ms)`;
}
const LOW_RATE = Number(process.env.BENCH_LATENCY_LOW_RATE ?? 1000);
for (const [r, why] of [[rate, "half the worst-case job's rate"], [LOW_RATE, 'a low rate, for the pipeline\'s own latency']] as const) {
  console.log(`latency at ${why} (${fmt(r)} records/s asked; the load is produced and read on another thread, with kafkajs):`);
  console.log(`  bare kafkajs pass-through (eachBatch → JSON.parse → one send per batch): ${describe(await latency('bare', r))}`);
  console.log(`  Millrace Kafka → map → Kafka, at-least-once sink (linger 5 ms): ${describe(await latency('millrace', r))} (target p99 ≤ 50 ms; compare with the bare pass-through above, which shares the machine's load)`);
}
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics }).catch(() => {});
await admin.disconnect();
process.exit(0);
