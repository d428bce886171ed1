/**
 * Source options against a real broker: where a source starts (`startFrom: 'latest'`, `startFrom: { timestamp }`),
 * which topics it reads (`topicPattern`), and partitions added while a job runs (`partitionDiscoveryIntervalMs`).
 * Jobs run in this thread and collect what they read; every wait is on a probe.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, sinks } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { KafkaSource, serdes, type KafkaRecord } from '@millrace/kafka';
import { kafka, topics, unique, waitFor, leaseKafka } from './kafka-kit.ts';

let brokers: string[];
leaseKafka((b) => { brokers = b; });

type Rec = KafkaRecord<string | null, string>;
/** `topic/partition/offset=value` of each record read, sorted: one string says exactly what was read. */
const read = (rs: readonly Rec[]): string[] => rs.map((r) => `${r.topic}/${r.partition}/${r.offset}=${r.value}`).sort();

/** Sends records to given partitions, with given timestamps when set. */
async function send(topic: string, messages: ReadonlyArray<{ partition: number; value: string; timestamp?: number }>): Promise<void> {
  const p = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    await p.send({ topic, acks: -1, messages: messages.map((m) => ({ partition: m.partition, value: m.value, ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}) })) });
  } finally {
    await p.disconnect();
  }
}

/** The group's committed offset per partition of `topic` (-1 where none). */
async function committed(groupId: string, topic: string): Promise<number[]> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

it("startFrom 'latest': records written before the job started are not read, records written after are", { timeout: 180_000 }, async () => {
  const topic = unique('latest');
  const group = unique('latest-g');
  await topics(brokers, [topic, 2]);
  await send(topic, [0, 1, 0, 1, 0].map((partition, i) => ({ partition, value: `before-${i}` })));
  const out = sinks.collect<Rec>();
  const job = defineJob('kafka-latest', (env) => {
    env.fromSource(KafkaSource.of({ value: serdes.string() }, { brokers, topics: [topic], groupId: group, startFrom: 'latest' }), { uid: 'in' })
      .sinkTo(out, { uid: 'out' });
  });
  const handle = runJob(job, { overrides: { parallelism: 2, checkpointInterval: '200ms' }, workers: 0 });
  try {
    // Started: both subtasks know where they start, and a completed checkpoint committed it to the group.
    const at = await waitFor(async () => {
      const c = await committed(group, topic);
      return c.length === 2 && c.every((o) => o >= 0) ? c : undefined;
    }, `group '${group}' has committed offsets for both partitions of '${topic}' (the readers resolved their start)`);
    assert.deepEqual(at, [3, 2], 'the start is the end of each partition when the job started');
    await send(topic, [1, 0, 1].map((partition, i) => ({ partition, value: `after-${i}` })));
    await waitFor(() => out.values().length >= 3, 'the 3 records written after the start');
    // Offsets grow per partition: once the later records are read, an earlier one can no longer come.
    assert.deepEqual(read(out.values()), [`${topic}/0/3=after-1`, `${topic}/1/2=after-0`, `${topic}/1/3=after-2`]);
  } finally {
    await handle.cancel();
  }
});

it('startFrom { timestamp }: per partition, from the first record whose timestamp is at or after it (later records with earlier timestamps included)', { timeout: 180_000 }, async () => {
  const topic = unique('by-time');
  await topics(brokers, [topic, 3]);
  const t0 = Date.now() - 10 * 60_000;
  const T = t0 + 200;
  await send(topic, [
    // partition 0: the start is offset 1 (timestamp equal to T); offset 3 is earlier than T but after the start.
    { partition: 0, value: 'p0-100', timestamp: t0 + 100 },
    { partition: 0, value: 'p0-200', timestamp: t0 + 200 },
    { partition: 0, value: 'p0-300', timestamp: t0 + 300 },
    { partition: 0, value: 'p0-150', timestamp: t0 + 150 },
    // partition 1: every record is before T, so nothing is read.
    { partition: 1, value: 'p1-50', timestamp: t0 + 50 },
    { partition: 1, value: 'p1-60', timestamp: t0 + 60 },
    // partition 2: the first record is after T, so the whole partition is read.
    { partition: 2, value: 'p2-500', timestamp: t0 + 500 },
    { partition: 2, value: 'p2-10', timestamp: t0 + 10 },
  ]);
  const out = sinks.collect<Rec>();
  const job = defineJob('kafka-by-time', (env) => {
    env.fromSource(KafkaSource.of({ value: serdes.string() }, { brokers, topics: [topic], groupId: unique('by-time-g'), startFrom: { timestamp: T }, bounded: true }), { uid: 'in' })
      .sinkTo(out, { uid: 'out' });
  });
  const result = await runJob(job, { overrides: { parallelism: 2 }, workers: 0 }).done;
  assert.equal(result.status, 'finished');
  assert.deepEqual(read(out.values()), [`${topic}/0/1=p0-200`, `${topic}/0/2=p0-300`, `${topic}/0/3=p0-150`, `${topic}/2/0=p2-500`, `${topic}/2/1=p2-10`]);
  assert.deepEqual(out.values().filter((r) => r.partition === 0).map((r) => r.timestamp), [t0 + 200, t0 + 300, t0 + 150], 'records keep their Kafka timestamps');
});

it('topicPattern: reads every topic whose name matches, and no other', { timeout: 180_000 }, async () => {
  const run = unique('pat');
  const [a, b, other] = [`${run}.orders-a`, `${run}.orders-b`, `${run}.payments`];
  await topics(brokers, [a, 2], [b, 1], [other, 1]);
  await send(a, [{ partition: 0, value: 'a0' }, { partition: 1, value: 'a1' }]);
  await send(b, [{ partition: 0, value: 'b0' }]);
  await send(other, [{ partition: 0, value: 'x0' }]);
  const out = sinks.collect<Rec>();
  const escaped = run.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const job = defineJob('kafka-pattern', (env) => {
    env.fromSource(KafkaSource.of({ value: serdes.string() }, { brokers, topicPattern: new RegExp(`^${escaped}\\.orders-`), groupId: unique('pat-g'), startFrom: 'earliest', bounded: true }), { uid: 'in' })
      .sinkTo(out, { uid: 'out' });
  });
  const result = await runJob(job, { overrides: { parallelism: 2 }, workers: 0 }).done;
  assert.equal(result.status, 'finished');
  assert.deepEqual(read(out.values()), [`${a}/0/0=a0`, `${a}/1/0=a1`, `${b}/0/0=b0`]);
});

it('partition discovery: records in partitions added while the job runs are read', { timeout: 240_000 }, async () => {
  const topic = unique('grow');
  await topics(brokers, [topic, 1]);
  await send(topic, [{ partition: 0, value: 'old-0' }]);
  const out = sinks.collect<Rec>();
  const job = defineJob('kafka-discovery', (env) => {
    env.fromSource(KafkaSource.of({ value: serdes.string() }, { brokers, topics: [topic], groupId: unique('grow-g'), startFrom: 'earliest', partitionDiscoveryIntervalMs: 1000, log: () => {} }), { uid: 'in' })
      .sinkTo(out, { uid: 'out' });
  });
  const handle = runJob(job, { overrides: { parallelism: 2, checkpointInterval: '500ms' }, workers: 0 });
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await waitFor(() => out.values().length >= 1, 'the record of the first partition');
    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
    await waitFor(async () => {
      const ps = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
      return ps.length === 3 && ps.every((p) => p.leader >= 0);
    }, `metadata of '${topic}' shows 3 partitions with leaders`);
    await send(topic, [{ partition: 1, value: 'new-1' }, { partition: 2, value: 'new-2' }, { partition: 0, value: 'old-1' }]);
    await waitFor(() => out.values().length >= 4, 'the records of the added partitions', 180_000);
    assert.deepEqual(read(out.values()), [`${topic}/0/0=old-0`, `${topic}/0/1=old-1`, `${topic}/1/0=new-1`, `${topic}/2/0=new-2`]);
  } finally {
    await admin.disconnect();
    await handle.cancel();
  }
});
