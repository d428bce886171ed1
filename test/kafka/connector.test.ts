import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineJob } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { DEAD_LETTER_HEADERS, KafkaSink, KafkaSource, KafkaConnectorError } from '@millrace/kafka';
import { AssignerProtocol } from 'kafkajs';
import { kafka, produce, runJobFile, topics, TopicReader, unique, waitFor, ROOT, leaseKafka } from './kafka-kit.ts';

let brokers: string[];
leaseKafka((b) => { brokers = b; });

const JOB = join(ROOT, 'test/kafka/jobs/counting-job.ts');
const events = (n: number, from = 0): Array<{ id: number; key: string }> => Array.from({ length: n }, (_, i) => ({ id: from + i, key: `k${(from + i) % 7}` }));
const ids = (r: TopicReader): Set<number> => new Set(r.json<{ id: number }>().map((x) => x.id));

it('bounded mode reads up to the end offsets seen at start, then the job finishes by itself', { timeout: 180_000 }, async () => {
  const input = unique('bounded-in');
  const output = unique('bounded-out');
  await topics(brokers, [input, 3], [output, 2]);
  await produce(brokers, input, events(1500), (e) => e.key);
  const job = runJobFile(JOB, ['--parallelism', '2'], { KAFKA_IN: input, KAFKA_OUT: output, KAFKA_GROUP: unique('bounded'), KAFKA_BOUNDED: '1', KAFKA_GUARANTEE: 'at-least-once', MILLRACE_KAFKA_BROKERS: brokers.join(',') });
  const code = await job.exited;
  assert.equal(code, 0, job.output());
  const reader = await new TopicReader(brokers, output).start();
  try {
    await reader.waitForCount(1500);
    assert.equal(ids(reader).size, 1500);
    assert.equal(reader.records.length, 1500, 'a bounded run without failures writes each record once');
  } finally {
    await reader.stop();
  }
});

it('at-least-once: after a SIGKILL and a restore nothing is lost', { timeout: 300_000 }, async () => {
  const input = unique('alo-in');
  const output = unique('alo-out');
  await topics(brokers, [input, 2], [output, 2]);
  await produce(brokers, input, events(3000), (e) => e.key);
  const dir = await mkdtemp(join(tmpdir(), 'millrace-kafka-alo-'));
  const reader = await new TopicReader(brokers, output).start();
  const env = { KAFKA_IN: input, KAFKA_OUT: output, KAFKA_GROUP: unique('alo'), KAFKA_GUARANTEE: 'at-least-once', MILLRACE_KAFKA_BROKERS: brokers.join(',') };
  const args = ['--checkpoint-dir', dir, '--checkpoint-interval', '200ms', '--restore', 'latest'];
  try {
    const first = runJobFile(JOB, args, env);
    await waitFor(() => reader.records.length >= 500, 'first output');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = runJobFile(JOB, args, env);
    try {
      await waitFor(() => ids(reader).size >= 3000, `all 3000 ids in the output (have ${ids(reader).size})`);
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
    assert.ok(reader.records.length >= 3000);
  } finally {
    await reader.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

it('a second instance with the same group takes half the partitions; when the first dies, the second takes over from its committed offsets', { timeout: 300_000 }, async () => {
  const input = unique('two-in');
  const output = unique('two-out');
  const group = unique('two');
  await topics(brokers, [input, 4], [output, 2]);
  await produce(brokers, input, events(2000), (e) => e.key);
  const dirA = await mkdtemp(join(tmpdir(), 'millrace-kafka-a-'));
  const dirB = await mkdtemp(join(tmpdir(), 'millrace-kafka-b-'));
  const reader = await new TopicReader(brokers, output).start();
  const env = { KAFKA_IN: input, KAFKA_OUT: output, KAFKA_GROUP: group, KAFKA_GUARANTEE: 'at-least-once', MILLRACE_KAFKA_BROKERS: brokers.join(',') };
  const admin = kafka(brokers).admin();
  await admin.connect();
  const a = runJobFile(JOB, ['--checkpoint-dir', dirA, '--checkpoint-interval', '200ms'], env);
  let b: ReturnType<typeof runJobFile> | undefined;
  try {
    await waitFor(() => reader.records.length >= 2000, 'instance A processes the first records');
    b = runJobFile(JOB, ['--checkpoint-dir', dirB, '--checkpoint-interval', '200ms'], env);
    // Both processes are members of the group.
    await produce(brokers, input, events(1000, 2000), (e) => e.key);
    await waitFor(() => ids(reader).size >= 3000, 'records written while both run');
    // Which instance wrote what is not visible in the output; the group shows the split: each instance holds partitions.
    const split = await waitFor(async () => {
      const d = (await admin.describeGroups([group])).groups[0]!;
      if (d.state !== 'Stable') return undefined;
      const byPid = new Map<string, number>();
      for (const m of d.members) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        const n = Object.values(a?.assignment ?? {}).reduce((s, ps) => s + ps.length, 0);
        const pid = m.clientId.split('.').at(-3)!;
        byPid.set(pid, (byPid.get(pid) ?? 0) + n);
      }
      return byPid.size === 2 ? [...byPid.values()] : undefined;
    }, 'a stable group of two instances');
    assert.deepEqual(split.sort(), [2, 2], `partitions per instance: ${split.join(', ')}`);
    a.child.kill('SIGKILL');
    await a.exited;
    await produce(brokers, input, events(1000, 3000), (e) => e.key);
    await waitFor(() => ids(reader).size >= 4000, `instance B takes over A's partitions (have ${ids(reader).size} of 4000 ids)`, 180_000);
    // B says what it took over, and from where.
    assert.match(b.output(), /rebalance of group '[^']+': 4 partition\(s\) now; new here: /);
    assert.match(b.output(), /continuing .*-\d at offset \d+.* from the group.s committed offsets, ahead of this instance.s own position \(another instance read them since\); keyed state does not move with them/);
  } finally {
    a.child.kill('SIGKILL');
    b?.child.kill('SIGKILL');
    await a.exited;
    await b?.exited;
    await admin.disconnect();
    await reader.stop();
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
});

it('dead letters: undecodable records and records a step skipped go to a dead-letter topic with the original record and the error in headers', { timeout: 180_000 }, async () => {
  const input = unique('dl-in');
  const output = unique('dl-out');
  const dead = unique('dl-dead');
  await topics(brokers, [input, 1], [output, 1], [dead, 1]);
  const p = kafka(brokers).producer();
  await p.connect();
  await p.send({ topic: input, messages: [
    { key: 'a', value: JSON.stringify({ id: 1, amount: 5 }) },
    { key: 'b', value: '{not json', headers: { trace: 't-1' } },
    { key: 'c', value: JSON.stringify({ id: 3, amount: -1 }), headers: { trace: 't-3' } },
    { key: 'd', value: JSON.stringify({ id: 4, amount: 7 }) },
  ] });
  await p.disconnect();
  const job = defineJob('dead-letters', (env) => {
    env.fromSource(KafkaSource.json<{ id: number; amount: number }>({ brokers, topics: [input], groupId: unique('dl'), bounded: true, onDecodeError: 'dead-letter', deadLetterTopic: dead }), { uid: 'in' })
      .map((t) => {
        if (t.amount < 0) throw new RangeError(`negative amount ${t.amount}`);
        return t;
      }, { name: 'check-amount', onError: 'skip' })
      .sinkTo(KafkaSink.json({ brokers, topic: output }), { uid: 'out' });
    env.deadLetters().sinkTo(KafkaSink.deadLetters({ brokers, topic: dead }), { uid: 'dead-out' });
  });
  const result = await runJob(job).done;
  assert.equal(result.status, 'finished');
  const outReader = await new TopicReader(brokers, output).start();
  const deadReader = await new TopicReader(brokers, dead).start();
  try {
    await outReader.waitForCount(2);
    await deadReader.waitForCount(2);
    assert.deepEqual(outReader.json<{ id: number }>().map((x) => x.id).sort(), [1, 4]);
    const byKey = new Map(deadReader.records.map((r) => [r.key, r]));
    const undecodable = byKey.get('b')!;
    assert.equal(undecodable.value, '{not json');
    assert.equal(undecodable.headers.trace, 't-1');
    assert.equal(undecodable.headers[DEAD_LETTER_HEADERS.topic], input);
    assert.equal(undecodable.headers[DEAD_LETTER_HEADERS.partition], '0');
    assert.equal(undecodable.headers[DEAD_LETTER_HEADERS.offset], '1');
    assert.equal(undecodable.headers[DEAD_LETTER_HEADERS.step], 'in');
    assert.match(undecodable.headers[DEAD_LETTER_HEADERS.error]!, /JSON/);
    const skipped = byKey.get('c')!;
    assert.equal(skipped.value, JSON.stringify({ id: 3, amount: -1 }));
    assert.equal(skipped.headers.trace, 't-3');
    assert.equal(skipped.headers[DEAD_LETTER_HEADERS.step], 'check-amount');
    assert.equal(skipped.headers[DEAD_LETTER_HEADERS.errorType], 'RangeError');
    assert.equal(skipped.headers[DEAD_LETTER_HEADERS.error], 'negative amount -1');
    assert.equal(skipped.headers[DEAD_LETTER_HEADERS.offset], '2');
  } finally {
    await outReader.stop();
    await deadReader.stop();
  }
});

it('clear errors: an unknown topic and unreachable brokers', { timeout: 120_000 }, async () => {
  const missing = unique('missing');
  const job = defineJob('unknown-topic', (env) => {
    env.fromSource(KafkaSource.json({ brokers, topics: [missing], groupId: unique('g') }), { uid: 'in' }).sinkTo(KafkaSink.json({ brokers, topic: missing }), { uid: 'out' });
  });
  await assert.rejects(runJob(job).done, (e: Error) => e instanceof KafkaConnectorError && e.code === 'unknown-topic' && e.message.includes(`'${missing}' do not exist`));
  const nowhere = defineJob('unreachable', (env) => {
    env.fromSource(KafkaSource.json({ brokers: ['127.0.0.1:1'], retry: { retries: 2, initialRetryTimeMs: 50 }, connectionTimeoutMs: 300, topics: ['x'], groupId: 'g' }), { uid: 'in' }).print();
  });
  await assert.rejects(runJob(nowhere).done, (e: Error) => e instanceof KafkaConnectorError && e.code === 'unreachable' && e.message.includes('127.0.0.1:1'));
});
