// The load of the latency benchmark, on its own thread so that neither its producing nor its reading shares the
// job's event loop: produces JSON records `{ id, sent }` at a fixed rate into `input` for `seconds`, reads `output`
// and reports, for every record that came through, the time from `sent` to being read (Date.now on both sides),
// split at `at`, which the job stamps when it has the record.
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';

const { brokers, input, output, groupId, rate, seconds } = workerData;
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const kafka = new Kafka({ clientId: 'bench-latency', brokers, logLevel: logLevel.NOTHING });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lat = [];
const ins = [];
const outs = [];
const reader = kafka.consumer({ groupId, maxWaitTimeInMs: 20, minBytes: 1 });
await reader.connect();
await reader.subscribe({ topics: [output], fromBeginning: true });
let warm = false;
void reader.run({
  eachBatch: async ({ batch }) => {
    const now = Date.now();
    for (const m of batch.messages) {
      const r = JSON.parse(m.value.toString());
      if (r.id >= 0) {
        lat.push(now - r.sent);
        ins.push(r.at - r.sent);
        outs.push(now - r.at);
      }
      else warm = true;
    }
  },
});
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
// Warm up until a record made it through (group joins of the job and of this reader are done), for a minute at most.
const warmDeadline = Date.now() + 60_000;
while (!warm) {
  if (Date.now() > warmDeadline) {
    parentPort.postMessage({ error: `no record came through ${output} within 60 s of warm-up` });
    await Promise.allSettled([producer.disconnect(), reader.disconnect()]);
    process.exit(0);
  }
  await producer.send({ topic: input, acks: -1, messages: [{ value: JSON.stringify({ id: -1, sent: Date.now() }) }] });
  await sleep(50);
}
const tickMs = 10;
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
const start = Date.now();
const end = start + seconds * 1000;
let id = 0;
while (Date.now() < end) {
  const t = Date.now();
  const messages = [];
  for (let i = 0; i < perTick; i++, id++) messages.push({ key: String(id % 64), value: JSON.stringify({ id, sent: Date.now() }) });
  await producer.send({ topic: input, acks: -1, messages });
  const wait = tickMs - (Date.now() - t);
  if (wait > 0) await sleep(wait);
}
const offeredPerSecond = id / ((Date.now() - start) / 1000);
const deadline = Date.now() + 20_000;
while (lat.length < id && Date.now() < deadline) await sleep(50);
await producer.disconnect();
await reader.disconnect();
parentPort.postMessage({ sent: id, offeredPerSecond, latencies: lat, ins, outs });
