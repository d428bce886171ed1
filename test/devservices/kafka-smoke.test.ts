/**
 * kafkajs 2.2.4 against the real broker: the gate for the pinned Kafka version (docs/decisions.md, "Dev services").
 *
 * Covers what the Kafka connector relies on: admin (create, list, describe topics, cluster, configs, groups,
 * committed offsets), produce, consume in a group with a rebalance when a second member joins, and a
 * consume-transform-produce transaction with `sendOffsets`, both committed and aborted.
 * Every wait is on a Kafka event or a probe, never on the clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer, type Admin, type EachMessagePayload } from 'kafkajs';
import { useDevServices, type DevServicesLease } from '@millrace/devservices';
import { createTopics, eventually } from './kafka-kit.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** Resolves once `predicate` holds after a call of `notify`; rejects on `signal`. */
class Waiter {
  readonly #checks: Array<{ predicate: () => boolean; resolve: () => void }> = [];

  /** Re-evaluates pending predicates; call after every state change. */
  notify(): void {
    for (const check of [...this.#checks]) {
      if (check.predicate()) {
        this.#checks.splice(this.#checks.indexOf(check), 1);
        check.resolve();
      }
    }
  }

  until(predicate: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#checks.splice(this.#checks.indexOf(entry), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const entry = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#checks.push(entry);
    });
  }
}

const valueOf = (p: EachMessagePayload): string => p.message.value?.toString() ?? '';

describe('kafkajs 2.2.4 against the dev Kafka broker', { timeout: 300_000 }, () => {
  let services: DevServicesLease;
  let kafka: Kafka;
  let admin: Admin;
  const closers: Array<() => Promise<void>> = [];
  const run = randomUUID().slice(0, 8);

  before(async () => {
    services = await useDevServices({ hdfs: false });
    kafka = new Kafka({
      clientId: `smoke-${run}`,
      brokers: [...services.kafka!.brokers],
      logLevel: logLevel.WARN,
      retry: { retries: 10 },
    });
    admin = kafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
  });

  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await services?.close();
  });

  const track = <T extends Consumer | Producer>(client: T): T => {
    closers.push(() => client.disconnect());
    return client;
  };

  it('admin creates, lists and describes topics, the cluster and topic configs', async () => {
    const topic = `smoke-admin-${run}`;
    await createTopics(admin, [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }]);
    assert.ok((await admin.listTopics()).includes(topic));
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]!.partitions.length, 3);
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    assert.ok(cluster.controller !== null && cluster.controller >= 0, 'the cluster names a controller');
    const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false });
    assert.equal(configs.resources[0]!.configEntries[0]!.configValue, '3600000');
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    // The controller has accepted the change; the broker's metadata cache catches up a moment later.
    await eventually(
      async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length === 4,
      'metadata to show the fourth partition',
    );
    await admin.deleteTopics({ topics: [topic] });
  });

  it('consumes in a group and rebalances partitions when a second member joins', async () => {
    const topic = `smoke-group-${run}`;
    const groupId = `smoke-group-${run}`;
    await createTopics(admin, [{ topic, numPartitions: 2 }]);
    const producer = track(kafka.producer());
    await producer.connect();
    const send = (from: number, count: number) =>
      producer.send({
        topic,
        messages: Array.from({ length: count }, (_, i) => ({ partition: (from + i) % 2, key: `k${from + i}`, value: `v${from + i}` })),
      });
    await send(0, 10);

    const waiter = new Waiter();
    const received = new Map<string, string[]>([['a', []], ['b', []]]);
    const assignment = new Map<string, number[]>();
    const startMember = async (name: string) => {
      const consumer = track(kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 20_000 }));
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        assignment.set(name, event.payload.memberAssignment[topic] ?? []);
        waiter.notify();
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async (payload) => {
          received.get(name)!.push(valueOf(payload));
          waiter.notify();
        },
      });
      return consumer;
    };

    await startMember('a');
    await waiter.until(() => assignment.get('a')?.length === 2, 'member a to own both partitions');
    await waiter.until(() => received.get('a')!.length === 10, 'member a to read the first 10 records');

    await startMember('b');
    await waiter.until(
      () => assignment.get('a')?.length === 1 && assignment.get('b')?.length === 1,
      'the rebalance to give each member one partition',
    );
    await send(10, 10);
    const all = () => [...received.get('a')!, ...received.get('b')!];
    await waiter.until(() => new Set(all()).size === 20, 'all 20 records to arrive across both members');
    assert.ok(received.get('b')!.length >= 5, 'member b read from its partition after the rebalance');

    const groups = await admin.listGroups();
    assert.ok(groups.groups.some((g) => g.groupId === groupId));
    await eventually(async () => {
      const group = (await admin.describeGroups([groupId])).groups[0]!;
      return group.state === 'Stable' && group.members.length === 2;
    }, 'the group to be Stable with two members');
  });

  it('commits a consume-transform-produce transaction with sendOffsets and hides an aborted one', async () => {
    const input = `smoke-tx-in-${run}`;
    const output = `smoke-tx-out-${run}`;
    const groupId = `smoke-tx-${run}`;
    await createTopics(admin, [{ topic: input, numPartitions: 1 }, { topic: output, numPartitions: 1 }]);
    const plain = track(kafka.producer());
    await plain.connect();
    await plain.send({ topic: input, messages: ['a', 'b', 'c'].map((value) => ({ value })) });

    const txProducer = track(kafka.producer({ transactionalId: `smoke-tx-${run}`, maxInFlightRequests: 1, idempotent: true }));
    await txProducer.connect();

    // Committed transaction: transform the three input records and commit the input offset with them.
    const tx = await txProducer.transaction();
    await tx.send({ topic: output, messages: ['A', 'B', 'C'].map((value) => ({ value })) });
    await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '3' }] }] });
    await tx.commit();

    // Aborted transaction: its record must stay invisible to read_committed readers.
    const aborted = await txProducer.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'ABORTED' }] });
    await aborted.abort();

    // A marker after the abort tells the reader it has seen everything before it.
    const tx2 = await txProducer.transaction();
    await tx2.send({ topic: output, messages: [{ value: 'END' }] });
    await tx2.commit();

    // The commit markers reach __consumer_offsets after EndTxn returns, so the offset shows up a moment later.
    await eventually(
      async () => (await admin.fetchOffsets({ groupId, topics: [input] }))[0]!.partitions[0]!.offset === '3',
      'sendOffsets to have committed input offset 3 with the transaction',
    );

    const waiter = new Waiter();
    const seen: string[] = [];
    const reader = track(kafka.consumer({ groupId: `smoke-tx-reader-${run}`, readUncommitted: false }));
    await reader.connect();
    await reader.subscribe({ topics: [output], fromBeginning: true });
    await reader.run({
      eachMessage: async (payload) => {
        seen.push(valueOf(payload));
        waiter.notify();
      },
    });
    await waiter.until(() => seen.includes('END'), 'the committed END marker');
    assert.deepEqual(seen, ['A', 'B', 'C', 'END']);
  });
});
