import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeKafkaError } from '../src/errors.ts';

const brokers = ['127.0.0.1:9092'];

it('a record timestamp the broker refuses names the limit and the ways out', () => {
  const client = Object.assign(new Error('The timestamp of the message is out of acceptable range'), { type: 'INVALID_TIMESTAMP' });
  const e = describeKafkaError(client, "sink 'sums-out' writing 25 record(s) to 'card-sums'", brokers);
  assert.equal(e.code, 'timestamp');
  assert.equal(e.cause, client);
  assert.match(e.message, /^sink 'sums-out' writing 25 record\(s\) to 'card-sums': the brokers 127\.0\.0\.1:9092 refused a record's timestamp/);
  assert.match(e.message, /message\.timestamp\.after\.max\.ms/);
  assert.match(e.message, /timestamp: 'send'/);
});

it('errors are classified by what went wrong, and connector errors pass through unchanged', () => {
  const cases: [Error, string][] = [
    [Object.assign(new Error('Not authorized to access topics'), { type: 'TOPIC_AUTHORIZATION_FAILED' }), 'authorization'],
    [new Error('SASL PLAIN authentication failed'), 'authentication'],
    [Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' }), 'unknown-topic'],
    [new Error('connect ECONNREFUSED 127.0.0.1:9092'), 'unreachable'],
    [new Error('something else'), 'client'],
  ];
  for (const [err, code] of cases) assert.equal(describeKafkaError(err, 'op', brokers).code, code, err.message);
  const once = describeKafkaError(new Error('x'), 'op', brokers);
  assert.equal(describeKafkaError(once, 'other op', brokers), once);
});

it('a misspelled or foreign option name fails when the source or sink is created, with a suggestion', async () => {
  const { KafkaSink, KafkaSource, KafkaConnectorError } = await import('../src/index.ts');
  const refused = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof KafkaConnectorError && e.code === 'config' && pattern.test(e.message));
  refused(() => KafkaSource.json({ topics: ['t'], groupId: 'g', autoOffsetReset: 'earliest' } as never), /^KafkaSource: unknown option 'autoOffsetReset' \(did you mean startFrom\?\)\. Its options are: brokers, .*startFrom/);
  refused(() => KafkaSource.json({ topic: 't', groupId: 'g' } as never), /unknown option 'topic' \(did you mean topics\?\)/);
  refused(() => KafkaSource.string({ topics: ['t'], groupId: 'g', readComitted: true } as never), /unknown option 'readComitted' \(did you mean readCommitted\?\)/);
  refused(() => KafkaSink.json({ topic: 't', delivery: 'exactly-once', lingr: 5 } as never), /^KafkaSink: unknown options 'delivery' \(did you mean deliveryGuarantee\?\), 'lingr' \(did you mean linger\?\)/);
  refused(() => KafkaSink.deadLetters({ topic: 'dead', topics: ['x'] } as never), /unknown option 'topics' \(did you mean topic\?\)/);
  refused(() => KafkaSink.deadLetters({ topic: 'dead', key: () => 'k' } as never), /unknown option 'key'/);
  refused(() => (KafkaSource.json as (o?: unknown) => unknown)(), /^KafkaSource: options are required, e\.g\. \{ topics: \['transactions'\], groupId: 'fraud' \}; got undefined/);
  refused(() => (KafkaSink.json as (o?: unknown) => unknown)(), /^KafkaSink: options are required/);
  refused(() => KafkaSource.json({ topics: 'orders' as never, groupId: 'g' }), /topics must be a list of topic names, e\.g\. \['orders'\]/);
  refused(() => KafkaSource.json({ topicPattern: 'orders-*' as never, groupId: 'g' }), /topicPattern must be a RegExp \(e\.g\. \/\^orders-\.\*\/\), got "orders-\*"/);
  // Every documented option is accepted.
  KafkaSource.json({ topics: ['t'], groupId: 'g', startFrom: 'earliest', bounded: true, readCommitted: false, fetchMaxWait: '50ms', brokers: ['127.0.0.1:9092'] });
  KafkaSink.json({ topic: 't', key: () => 'k', deliveryGuarantee: 'exactly-once', linger: '5ms', transactionalIdPrefix: 'p' });
});

it('a source whose dead-letter topic does not exist fails when it opens, before any record is read', async () => {
  const { KafkaSource, KafkaConnectorError } = await import('../src/index.ts');
  const { FakeKafka } = await import('./fake-client.ts');
  const k = new FakeKafka();
  k.createTopic('in', 1);
  k.append('in', 0, '{"fine":true}');
  const ctx = { jobName: 'j', uid: 'events', subtaskIndex: 0, parallelism: 1, clock: { now: Date.now, schedule: () => () => {} }, signal: new AbortController().signal };
  const r = KafkaSource.json({ client: () => k.client(), topics: ['in'], groupId: 'g', onDecodeError: 'dead-letter', deadLetterTopic: 'in-dead' }).createReader(ctx);
  await assert.rejects(async () => r.next(10), (e: unknown) => e instanceof KafkaConnectorError && e.code === 'unknown-topic' && /dead-letter topic 'in-dead' \(onDecodeError: 'dead-letter'\) does not exist/.test(e.message));
  await r.close!();
  k.createTopic('in-dead', 1);
  const ok = KafkaSource.json({ client: () => k.client(), topics: ['in'], groupId: 'g2', startFrom: 'earliest', onDecodeError: 'dead-letter', deadLetterTopic: 'in-dead' }).createReader(ctx);
  let got: unknown = undefined;
  for (let i = 0; i < 50 && got === undefined; i++) {
    const b = (await ok.next(10)) as { values: unknown[] } | null;
    if (b && b.values.length > 0) got = b.values[0];
  }
  assert.deepEqual(got, { fine: true });
  await ok.close!();
});

it('a checkpoint taken while a batch still decodes (an async serde) does not pass the records of that batch', async () => {
  const { KafkaSource } = await import('../src/index.ts');
  const { FakeKafka } = await import('./fake-client.ts');
  const k = new FakeKafka();
  k.createTopic('t', 1);
  for (let i = 0; i < 5; i++) k.append('t', 0, String(i));
  // A serde that waits like a schema-registry lookup, released by the test; `asked` resolves at its first call.
  let release!: () => void;
  let asked!: () => void;
  const lookedUp = new Promise<void>((r) => { release = r; });
  const decoding = new Promise<void>((r) => { asked = r; });
  const slow = { name: 'slow', serialize: (v: number) => String(v), deserialize: async (d: Uint8Array | null) => { asked(); await lookedUp; return Number(Buffer.from(d!).toString()); } };
  const ctx = { jobName: 'j', uid: 'in', subtaskIndex: 0, parallelism: 1, clock: { now: Date.now, schedule: () => () => {} }, signal: new AbortController().signal };
  const r = KafkaSource.values(slow, { client: () => k.client(), topics: ['t'], groupId: 'g', startFrom: 'earliest' }).createReader(ctx);
  const offsets = () => JSON.stringify(r.snapshot(1));
  const pending = Promise.resolve(r.next(100));
  try {
    await decoding;
    assert.doesNotMatch(offsets(), /\["t",0,5\]/, `the position passes records still decoding: ${offsets()}`);
    release();
    const batch = (await pending) as unknown as { values: number[] };
    assert.deepEqual(batch.values, [0, 1, 2, 3, 4]);
    assert.match(offsets(), /\["t",0,5\]/, 'the position moves once the batch is handed over');
  } finally {
    release();
    await pending.catch(() => {});
    await r.close!();
  }
});

it('a source or sink still connecting after 5 s says so, naming the brokers, and then carries on', async () => {
  const { KafkaSink, KafkaSource } = await import('../src/index.ts');
  const { FakeKafka } = await import('./fake-client.ts');
  const k = new FakeKafka();
  k.createTopic('t', 1);
  let open!: () => void;
  k.connectGate = new Promise<void>((r) => { open = r; });
  // A manual clock: timers run when the test moves it.
  let now = 0;
  const timers: Array<{ at: number; cb: () => void; on: boolean }> = [];
  const clock = { now: () => now, schedule: (at: number, cb: () => void) => { const t = { at, cb, on: true }; timers.push(t); return () => { t.on = false; }; } };
  const advance = (ms: number) => { now += ms; for (const t of timers) if (t.on && t.at <= now) { t.on = false; t.cb(); } };
  const logs: string[] = [];
  const ctx = { jobName: 'j', uid: 'in', subtaskIndex: 0, parallelism: 1, clock, signal: new AbortController().signal };
  const r = KafkaSource.json({ client: () => k.client(), topics: ['t'], groupId: 'g', log: (m) => logs.push(m) }).createReader(ctx);
  const reading = Promise.resolve(r.next(10));
  const w = KafkaSink.json({ client: () => k.client(), topic: 't', log: (m) => logs.push(m) }).createWriter({ ...ctx, uid: 'out' });
  await new Promise((res) => setImmediate(res));
  advance(4_999);
  assert.deepEqual(logs, [], 'nothing said before 5 s');
  advance(1);
  assert.equal(logs.length, 2, logs.join('\n'));
  for (const l of logs) assert.match(l, /still connecting to the Kafka brokers fake:9092 after 5 s; retrying with backoff/);
  open();
  await w.preCommit!(1);
  advance(60_000);
  assert.equal(logs.length, 2, 'said once');
  await r.close!();
  await reading.catch(() => {});
  await w.close!();
});
