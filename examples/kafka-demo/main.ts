/**
 * `npm run demo:kafka`: gets Kafka (a running `millrace dev up`, MILLRACE_KAFKA_BROKERS, or starts the dev services),
 * produces generated card transactions to a fresh topic, runs the fraud job from Kafka to Kafka exactly-once, then
 * reads the results back with an independent read_committed consumer and prints them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { useDevServices } from '@millrace/devservices';
import { createTopics } from '@millrace/kafka';
import { runJob } from '@millrace/runtime';
import { transaction } from '../fraud/jobs/transactions.ts';

const COUNT = Number(process.env.DEMO_COUNT ?? 20_000);
const run = randomBytes(3).toString('hex');
process.env.DEMO_TXNS_TOPIC = `demo-transactions-${run}`;
process.env.DEMO_SUMS_TOPIC = `demo-card-sums-${run}`;
process.env.DEMO_ALERTS_TOPIC = `demo-alerts-${run}`;
process.env.DEMO_GROUP = `demo-fraud-${run}`;
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

console.log('kafka-demo: getting Kafka (dev services)…');
await using services = await useDevServices({ hdfs: false });
const brokers = [...services.kafka!.brokers];
process.env.MILLRACE_KAFKA_BROKERS = brokers.join(',');
const { default: job, topics } = await import('./jobs/fraud-kafka.ts');

await createTopics({ brokers }, [
  { topic: topics.transactions, partitions: 4 },
  { topic: topics.sums, partitions: 2 },
  { topic: topics.alerts, partitions: 1 },
]);

const kafka = new Kafka({ clientId: 'kafka-demo', brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
for (let i = 0; i < COUNT; i += 2000) {
  const batch = Array.from({ length: Math.min(2000, COUNT - i) }, (_, k) => transaction(i + k));
  await producer.send({ topic: topics.transactions, acks: -1, messages: batch.map((t) => ({ key: t.card, value: JSON.stringify(t), timestamp: String(t.ts) })) });
}
await producer.disconnect();
console.log(`kafka-demo: produced ${COUNT} transactions to '${topics.transactions}' (4 partitions) on ${brokers.join(',')}`);

const dir = await mkdtemp(join(tmpdir(), 'millrace-kafka-demo-'));
const started = performance.now();
const result = await runJob(job, { checkpoints: dir }).done;
const seconds = (performance.now() - started) / 1000;
console.log(`kafka-demo: job '${result.jobName}' ${result.status}: ${result.recordsRead} records in ${seconds.toFixed(2)} s, ${result.checkpoints} checkpoint(s)`);
await rm(dir, { recursive: true, force: true });

// An independent consumer (plain kafkajs, read_committed) reads the results back.
const admin = kafka.admin();
await admin.connect();
const ends = async (topic: string): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
const want = { [topics.sums]: await ends(topics.sums), [topics.alerts]: await ends(topics.alerts) };
await admin.disconnect();
const got = new Map<string, string[]>([[topics.sums, []], [topics.alerts, []]]);
const consumer = kafka.consumer({ groupId: `demo-reader-${run}`, readUncommitted: false, maxWaitTimeInMs: 200 });
await consumer.connect();
await consumer.subscribe({ topics: [topics.sums, topics.alerts], fromBeginning: true });
const totalOffsets = Object.values(want).reduce((a, b) => a + b, 0);
const done = new Promise<void>((resolve) => {
  void consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) got.get(batch.topic)!.push(m.value!.toString());
      if ([...got.values()].reduce((n, l) => n + l.length, 0) > 0) resolve();
    },
  });
  if (totalOffsets === 0) resolve();
});
await done;
// Read until no new record arrives for a moment after the counts stopped growing (end offsets include commit markers).
let last = -1;
for (;;) {
  const n = [...got.values()].reduce((s, l) => s + l.length, 0);
  if (n === last) break;
  last = n;
  await new Promise((r) => setTimeout(r, 1500));
}
await consumer.disconnect();
const sums = got.get(topics.sums)!.map((v) => JSON.parse(v) as { card: string; end: number; total: number });
const alerts = got.get(topics.alerts)!.map((v) => JSON.parse(v) as { card: string; small: number; large: number; ts: number });
for (const s of sums.slice(0, 5)) console.log(`sum> ${JSON.stringify(s)}`);
if (sums.length > 5) console.log(`sum> … ${sums.length - 5} more`);
for (const a of alerts.slice(0, 10)) console.log(`ALERT> ${JSON.stringify(a)}`);
if (alerts.length > 10) console.log(`ALERT> … ${alerts.length - 10} more`);
const distinct = new Set(sums.map((s) => `${s.card}@${s.end}`)).size;
console.log(`kafka-demo: read back ${sums.length} card sums (${distinct} distinct card-minutes) from '${topics.sums}' and ${alerts.length} alerts from '${topics.alerts}' with a read_committed consumer`);
if (distinct !== sums.length) {
  console.error('kafka-demo: duplicated card sums: exactly-once was violated');
  process.exit(1);
}
if (sums.length === 0) {
  console.error('kafka-demo: no results read back');
  process.exit(1);
}
process.exit(0);
