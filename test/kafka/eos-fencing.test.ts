/**
 * Two exactly-once sinks with one `transactionalIdPrefix` (two instances of a job with the default prefix): the later
 * one's producer fences the earlier one, which must fail with an error that says so, against a real broker.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaConnectorError, KafkaSink } from '@millrace/kafka';
import { topics, TopicReader, unique, leaseKafka } from './kafka-kit.ts';

let brokers: string[];
leaseKafka((b) => { brokers = b; });

const ctx = { jobName: 'fenced-job', uid: 'out', subtaskIndex: 0, parallelism: 1, clock: { now: Date.now, schedule: () => () => {} }, signal: new AbortController().signal };

it('exactly-once: a second sink with the same transactionalIdPrefix fences the first, which fails naming the transactional id, the prefix and the sink', { timeout: 180_000 }, async () => {
  const topic = unique('fence-out');
  await topics(brokers, [topic, 1]);
  const prefix = unique('fence');
  const sink = (): KafkaSink<string> => KafkaSink.string({ brokers, topic, deliveryGuarantee: 'exactly-once', transactionalIdPrefix: prefix, log: () => {} });
  const a = sink().createWriter(ctx);
  const b = sink().createWriter(ctx);
  const reader = await new TopicReader(brokers, topic).start();
  try {
    await a.write(['a1'], [Date.now()], 1);
    await a.commit!(await a.preCommit!(1));
    // The second instance starts: its producer initialises the same transactional id. That succeeds (it fences A).
    await b.write(['b1'], [Date.now()], 1);
    await b.commit!(await b.preCommit!(1));
    // The first instance's next commit is refused.
    await a.write(['a2'], [Date.now()], 1);
    const cs = await a.preCommit!(2);
    await assert.rejects(async () => a.commit!(cs), (e: Error) => {
      assert.ok(e instanceof KafkaConnectorError, `a KafkaConnectorError, got ${e?.name}: ${e?.message}`);
      assert.equal(e.code, 'transaction');
      assert.match(e.message, new RegExp(`another producer with transactional id '${prefix}\\.0' took over`));
      assert.match(e.message, /Kafka sink 'out'/);
      assert.match(e.message, /Two running instances of one job need different transactionalIdPrefix/);
      return true;
    });
    await reader.waitForCount(2);
    assert.deepEqual(reader.records.map((r) => r.value).sort(), ['a1', 'b1']);
  } finally {
    await a.close!();
    await b.close!();
    await reader.stop();
  }
});
