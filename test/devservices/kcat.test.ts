/**
 * Checks the dev Kafka with a client we did not write: kcat (librdkafka). Records produced with kafkajs are read
 * back by kcat with their partitions, offsets, keys and values; records produced by kcat are read by kafkajs; and
 * kcat's metadata listing shows the topic as created.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { useDevServices, type DevServicesLease } from '@millrace/devservices';
import { createTopics, eventually } from './kafka-kit.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const run = promisify(execFile);

async function kcat(args: string[], input?: string): Promise<string> {
  if (input === undefined) {
    try {
      return (await run('kcat', args, { timeout: 120_000 })).stdout;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('kcat is not installed; install it (Debian: apt-get install kcat) to run this test', { cause: error });
      }
      throw error;
    }
  }
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kcat ${args.join(' ')} exited ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

describe('kcat reads and writes the dev Kafka', { timeout: 300_000 }, () => {
  let services: DevServicesLease;
  let kafka: Kafka;
  let admin: Admin;
  let brokers: string;
  const id = randomUUID().slice(0, 8);

  before(async () => {
    services = await useDevServices({ hdfs: false });
    brokers = services.kafka!.brokers.join(',');
    kafka = new Kafka({ clientId: `kcat-${id}`, brokers: [...services.kafka!.brokers], logLevel: logLevel.WARN });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect();
    await services?.close();
  });

  it('reads what kafkajs produced, with partitions, offsets, keys and values', async () => {
    const topic = `kcat-read-${id}`;
    await createTopics(admin, [{ topic, numPartitions: 2 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { partition: 0, key: 'a', value: 'alpha' },
        { partition: 1, key: 'b', value: 'beta' },
        { partition: 0, key: 'c', value: 'gamma' },
      ],
    });
    await producer.disconnect();

    const metadata = JSON.parse(await kcat(['-b', brokers, '-L', '-J', '-t', topic])) as {
      topics: Array<{ topic: string; partitions: unknown[] }>;
    };
    assert.equal(metadata.topics[0]!.topic, topic);
    assert.equal(metadata.topics[0]!.partitions.length, 2);

    // -e: exit at the end of every partition, so the read is bounded without a timer.
    const lines = (await kcat(['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p:%o %k=%s\n']))
      .trim()
      .split('\n')
      .sort();
    assert.deepEqual(lines, ['0:0 a=alpha', '0:1 c=gamma', '1:0 b=beta']);
  });

  it('lets kafkajs read what kcat produced', async () => {
    const topic = `kcat-write-${id}`;
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    await kcat(['-b', brokers, '-P', '-t', topic, '-K', ':'], 'k1:one\nk2:two\nk3:three\n');

    const consumer = kafka.consumer({ groupId: `kcat-${id}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(`${message.key?.toString()}=${message.value?.toString()}`);
            if (seen.length === 3) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(seen, ['k1=one', 'k2=two', 'k3=three']);
  });
});
