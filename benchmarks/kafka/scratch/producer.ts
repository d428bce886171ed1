// scratch: ceiling of a bare kafkajs producer
import { randomBytes } from 'node:crypto';
import { createTopics } from '@millrace/kafka';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
const N = 200_000; const brokers = ['127.0.0.1:9092'];
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
const topic = `bench-prod-${randomBytes(3).toString('hex')}`;
await createTopics({ brokers }, [{ topic, partitions: 4 }]);
const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await p.connect();
const mk = (i: number) => JSON.stringify({ k: `key-${i % 1000}`, end: 1_700_000_000_000 + i, n: 1 });
async function trial(name: string, batch: number, f: (i: number) => any, perPartition = false, parallel = 1) {
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < N; i += batch) {
    const n = Math.min(batch, N - i);
    const msgs = Array.from({ length: n }, (_, k) => f(i + k));
    let tm;
    if (perPartition) { const by: any[][] = [[], [], [], []]; for (const m of msgs) by[m.partition].push(m); tm = by.map((messages) => ({ topic, messages })); } else tm = [{ topic, messages: msgs }];
    inflight.push(p.sendBatch({ topicMessages: tm, acks: -1 }));
    if (inflight.length >= parallel) await inflight.shift();
  }
  await Promise.all(inflight);
  console.log(`${name}: ${Math.round(N / ((performance.now() - t0) / 1000))} records/s`);
}
for (let r = 0; r < 2; r++) {
await trial('key partitioner, string, ts, 2048', 2048, (i) => ({ key: `key-${i % 1000}`, value: mk(i), timestamp: String(1_700_000_000_000 + i) }));
await trial('partition set, string, ts, 2048', 2048, (i) => ({ key: `key-${i % 1000}`, value: mk(i), partition: i % 4, timestamp: String(1_700_000_000_000 + i) }));
await trial('partition set, buffer, ts, 2048', 2048, (i) => ({ key: Buffer.from(`key-${i % 1000}`), value: Buffer.from(mk(i)), partition: i % 4, timestamp: String(1_700_000_000_000 + i) }));
await trial('partition set, string, no ts, 2048', 2048, (i) => ({ key: `key-${i % 1000}`, value: mk(i), partition: i % 4 }));
await trial('partition set, string, ts, 16384', 16384, (i) => ({ key: `key-${i % 1000}`, value: mk(i), partition: i % 4, timestamp: String(1_700_000_000_000 + i) }));
await trial('per-partition topicMessages, string, ts, 16384', 16384, (i) => ({ key: `key-${i % 1000}`, value: mk(i), partition: i % 4, timestamp: String(1_700_000_000_000 + i) }), true);
await trial('partition set, string, ts, 2048, 4 in flight', 2048, (i) => ({ key: `key-${i % 1000}`, value: mk(i), partition: i % 4, timestamp: String(1_700_000_000_000 + i) }), false, 4);
}
await p.disconnect();
process.exit(0);
