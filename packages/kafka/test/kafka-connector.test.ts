import { it } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, type SourceBatch } from '@millrace/core';
import { KafkaSink, KafkaSource, KafkaConnectorError, serdes } from '../src/index.ts';
import { FakeKafka } from './fake-client.ts';

const ctx = (uid = 'in') => ({ jobName: 'j', uid, subtaskIndex: 0, parallelism: 1, clock: { now: Date.now, schedule: () => () => {} }, signal: new AbortController().signal });

async function read<T>(r: { next(n: number): unknown }, n: number): Promise<Array<SourceBatch<T>>> {
  const out: Array<SourceBatch<T>> = [];
  let got = 0;
  while (got < n) {
    const b = (await r.next(100)) as SourceBatch<T> | null;
    if (b === null) break;
    if (b.values.length > 0) { out.push(b); got += b.values.length; }
  }
  return out;
}

it('reads each partition as its own split with record timestamps, and restores from any subtask position', async () => {
  const k = new FakeKafka();
  k.createTopic('t', 2);
  for (let i = 0; i < 5; i++) k.append('t', i % 2, JSON.stringify({ i }));
  const src = KafkaSource.json<{ i: number }>({ client: () => k.client(), topics: ['t'], groupId: 'g', startFrom: 'earliest' });
  assert.equal(src.rescalable, true);
  const r = src.createReader(ctx());
  const batches = await read<{ i: number }>(r, 5);
  assert.deepEqual(batches.map((b) => b.split).sort(), ['t-0', 't-1']);
  assert.deepEqual(batches.flatMap((b) => b.values.map((v) => v.i)).sort(), [0, 1, 2, 3, 4]);
  const pos = r.snapshot(1);
  await r.notifyCheckpointComplete!(1);
  assert.equal(k.committed.get('g|t|0'), 3);
  assert.equal(k.committed.get('g|t|1'), 2);
  await r.close!();
  k.append('t', 0, JSON.stringify({ i: 5 }));
  const r2 = src.createReader(ctx());
  await r2.restore!(undefined, [pos]);
  const again = await read<{ i: number }>(r2, 1);
  assert.deepEqual(again.flatMap((b) => b.values), [{ i: 5 }]);
  await r2.close!();
});

it('bounded mode ends at the end offsets; undecodable records fail with the partition and offset', async () => {
  const k = new FakeKafka();
  k.createTopic('t', 1);
  k.append('t', 0, '"a"');
  k.append('t', 0, '{bad');
  const r = KafkaSource.json({ client: () => k.client(), topics: ['t'], groupId: 'g', bounded: true }).createReader(ctx());
  await assert.rejects(async () => read(r, 2), (e: Error) => e instanceof KafkaConnectorError && /partition 0 offset 1/.test(e.message) && /onDecodeError/.test(e.message));
  await r.close!();
  const k2 = new FakeKafka();
  k2.createTopic('t', 1);
  k2.append('t', 0, 'x');
  const r2 = KafkaSource.string({ client: () => k2.client(), topics: ['t'], groupId: 'g', bounded: true }).createReader(ctx());
  assert.deepEqual((await read<string>(r2, 10)).flatMap((b) => b.values), ['x']);
  assert.equal(await r2.next(10), null);
  await r2.close!();
});

it('exactly-once sink: a committable is written once, even when committed again after a restore', async () => {
  const k = new FakeKafka();
  k.createTopic('out', 1);
  const sink = KafkaSink.of({ value: serdes.string() }, { client: () => k.client(), topic: 'out', deliveryGuarantee: 'exactly-once' });
  const w = sink.createWriter({ ...ctx('out'), uid: 'out' });
  await w.write(['a', 'b'], [1, 2], 2);
  const cs = await w.preCommit!(1);
  assert.equal(k.logs.get('out')![0]!.length, 0, 'nothing visible before the checkpoint completes');
  await w.commit!(cs);
  assert.equal(k.logs.get('out')![0]!.length, 2);
  // A new writer (after a crash) gets the same committables again: skipped by the marker.
  const w2 = sink.createWriter({ ...ctx('out'), uid: 'out' });
  await w2.restore!(undefined);
  await w2.commit!(cs);
  assert.equal(k.logs.get('out')![0]!.length, 2);
  await w2.write(['c'], [3], 1);
  await w2.commit!(await w2.preCommit!(2));
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.value!.toString()), ['a', 'b', 'c']);
  await w.close!();
  await w2.close!();
});

it('exactly-once sink: says it skipped committables only when an earlier run wrote them, not when they were carried into the next checkpoint', async () => {
  const k = new FakeKafka();
  k.createTopic('out', 1);
  const logs: string[] = [];
  const sink = KafkaSink.of({ value: serdes.string() }, { client: () => k.client(), topic: 'out', deliveryGuarantee: 'exactly-once', log: (m) => logs.push(m) });
  const w = sink.createWriter({ ...ctx('out'), uid: 'out' });
  await w.write(['a'], [1], 1);
  const cs1 = await w.preCommit!(1);
  // Checkpoint 2 is cut before the commit of 1 confirmed its committable: it carries it too.
  await w.write(['b'], [2], 1);
  const cs2 = await w.preCommit!(2);
  assert.equal(cs2.length, 2, 'checkpoint 2 holds the unconfirmed committable of checkpoint 1 and its own');
  await Promise.all([w.commit!(cs1), w.commit!(cs2)]);
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.value!.toString()), ['a', 'b']);
  await w.close!();
  assert.deepEqual(logs, [], 'a brand-new run reports no skips');
  // After a crash, a new writer commits checkpoint 2 again: both were written before, and it says so.
  const w2 = sink.createWriter({ ...ctx('out'), uid: 'out' });
  await w2.restore!(undefined);
  await w2.commit!(cs2);
  await w2.close!();
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.value!.toString()), ['a', 'b']);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /skipped 2 committable\(s\) already written before a restart/);
});

it('exactly-once sink: a barrier before the producer connected cuts the records written so far into its checkpoint', async () => {
  const k = new FakeKafka();
  k.createTopic('out', 1);
  const sink = KafkaSink.of({ value: serdes.string() }, { client: () => k.client(), topic: 'out', deliveryGuarantee: 'exactly-once' });
  const w = sink.createWriter({ ...ctx('out'), uid: 'out' });
  const wrote = w.write(['a', 'b'], [1, 2], 2);
  assert.ok(wrote instanceof Promise, 'the first write waits for the connection');
  const cs = await w.preCommit!(1);
  await wrote;
  await w.write(['c'], [3], 1);
  const cs2 = await w.preCommit!(2);
  await w.commit!(cs);
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.value!.toString()), ['a', 'b'], 'checkpoint 1 holds what was written before its barrier');
  await w.commit!(cs2);
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.value!.toString()), ['a', 'b', 'c']);
  await w.close!();
});

it('options are checked with messages that say what to change', () => {
  assert.throws(() => KafkaSource.json({ groupId: 'g' }), /give either topics .* or topicPattern/);
  assert.throws(() => KafkaSource.json({ topics: ['t'], groupId: 'g', onDecodeError: 'dead-letter' }), /needs a deadLetterTopic/);
  assert.throws(() => KafkaSink.json({ topic: '' }), /topic is required/);
  void defineJob;
});

it('holds the next fetch while a partition has maxBufferedRecordsPerPartition records buffered, until the engine took half', { timeout: 20_000 }, async () => {
  const k = new FakeKafka();
  k.createTopic('t', 1);
  for (let i = 0; i < 20; i++) k.append('t', 0, JSON.stringify(i));
  k.fetchMaxRecords = 3;
  const waitHold = (holding: boolean): Promise<void> => new Promise((resolve) => { k.onHold = (h) => { if (h === holding) resolve(); }; });
  const r = KafkaSource.json<number>({ client: () => k.client(), topics: ['t'], groupId: 'g', startFrom: 'earliest', maxBufferedRecordsPerPartition: 4 }).createReader(ctx());
  const held = waitHold(true);
  const got: number[] = [...((await r.next(1)) as SourceBatch<number>).values];
  await held;
  // Held at the limit: fetched minus taken reached 4, and no more than one fetch beyond it.
  assert.ok(k.delivered - got.length >= 4 && k.delivered - got.length < 4 + 3, `delivered ${k.delivered}, taken ${got.length}`);
  const delivered = k.delivered;
  got.push(...((await r.next(1)) as SourceBatch<number>).values);
  assert.equal(k.holding, true, 'still holding above half the limit');
  assert.equal(k.delivered, delivered);
  const released = waitHold(false);
  while (k.holding) got.push(...((await r.next(1)) as SourceBatch<number>).values);
  await released;
  assert.ok(delivered - got.length < 2, 'released once fewer than half the limit were buffered');
  while (got.length < 20) got.push(...((await r.next(5)) as SourceBatch<number>).values);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
  assert.ok(k.holds >= 1);
  // Closing releases a held fetch, so the client can stop.
  k.append('t', 0, '20');
  for (let i = 21; i < 30; i++) k.append('t', 0, JSON.stringify(i));
  const heldAgain = waitHold(true);
  await heldAgain;
  const releasedAtClose = waitHold(false);
  await r.close!();
  await releasedAtClose;
});

it('keeps the Kafka origin of decoded records only when the job sends dead letters somewhere', async () => {
  const { originOf } = await import('../src/dead-letter-format.ts');
  for (const deadLetters of [true, false, undefined]) {
    const k = new FakeKafka();
    k.createTopic('t', 1);
    k.append('t', 0, '{"a":1}');
    const r = KafkaSource.json<{ a: number }>({ client: () => k.client(), topics: ['t'], groupId: 'g', startFrom: 'earliest' }).createReader({ ...ctx(), deadLetters });
    const [b] = await read<{ a: number }>(r, 1);
    assert.equal(originOf(b!.values[0])?.offset, deadLetters === false ? undefined : 0, `deadLetters: ${deadLetters}`);
    await r.close!();
  }
});

it('looks up where to start again after a retriable error (a new topic whose leaders are settling)', async () => {
  const k = new FakeKafka();
  k.createTopic('t', 1);
  k.append('t', 0, '"a"');
  k.offsetsFailures = 2;
  const r = KafkaSource.json<string>({ client: () => k.client(), topics: ['t'], groupId: 'g', startFrom: 'earliest' }).createReader(ctx());
  assert.deepEqual((await read<string>(r, 1)).flatMap((b) => b.values), ['a']);
  assert.equal(k.offsetsFailures, 0);
  await r.close!();
});

it('a rebalance while the source closes: a lookup it started that ends after the close disconnects the admin client again, and none starts after', { timeout: 20_000 }, async () => {
  // The admin client reconnects on demand: a lookup that outlived its disconnect left a connection open, and the
  // process did not exit after the job finished.
  const k = new FakeKafka();
  k.createTopic('t', 1);
  k.append('t', 0, '"a"');
  const r = KafkaSource.json<string>({ client: () => k.client(), topics: ['t'], groupId: 'g', startFrom: 'earliest' }).createReader(ctx());
  assert.deepEqual((await read<string>(r, 1)).flatMap((b) => b.values), ['a']);
  // A rebalance takes the partition away and gives it back: its start is looked up again, and that lookup is held.
  let release: () => void = () => {};
  k.lookupGate = new Promise<void>((res) => { release = res; });
  const lookups = (): number => k.adminCalls.filter((c) => c === 'committedOffsets').length;
  const looked = lookups();
  k.handlers!.onAssignment([]);
  k.handlers!.onAssignment([{ topic: 't', partition: 0 }]);
  assert.equal(lookups(), looked + 1);
  // The close does not wait for the held lookup.
  await r.close!();
  assert.deepEqual(k.adminCalls.slice(-2), ['committedOffsets', 'disconnect']);
  // Once the lookup ends, the admin client is disconnected again.
  release();
  while (k.adminCalls.at(-1) !== 'disconnect' || !k.adminCalls.includes('committedOffsets done')) await new Promise((res) => setImmediate(res));
  assert.deepEqual(k.adminCalls.slice(-2), ['committedOffsets done', 'disconnect']);
  // An assignment after the close (the consumer rejoining as it stops) looks nothing up.
  k.handlers!.onAssignment([{ topic: 't', partition: 0 }]);
  assert.equal(lookups(), looked + 1);
});

it('exactly-once sink: a barrier while a restarted writer reads its marker numbers the cut after what earlier runs wrote (its output is not skipped as written)', async () => {
  // An earlier run wrote committables 0..5 of subtask 0.
  const k = new FakeKafka();
  k.createTopic('out', 1);
  const sink = KafkaSink.of({ value: serdes.string() }, { client: () => k.client(), topic: 'out', deliveryGuarantee: 'exactly-once' });
  const earlier = sink.createWriter({ ...ctx('out'), uid: 'out' });
  for (let i = 0; i < 6; i++) {
    await earlier.write([`old${i}`], [i], 1);
    await earlier.commit!(await earlier.preCommit!(i + 1));
  }
  await earlier.close!();
  assert.equal(k.logs.get('out')![0]!.length, 6);

  // The restarted writer's first records arrive; its marker lookup is held, and a barrier comes meanwhile.
  let release: () => void = () => {};
  k.lookupGate = new Promise<void>((r) => { release = r; });
  const lookups = (): number => k.adminCalls.filter((c) => c === 'committedOffsets').length;
  const before = lookups();
  const w = sink.createWriter({ ...ctx('out'), uid: 'out' });
  await w.restore!(undefined);
  const wrote = w.write(['new'], [10], 1);
  while (lookups() === before) await new Promise((r) => setImmediate(r));
  const cut = w.preCommit!(7);
  release();
  await wrote;
  const cs = await cut;
  assert.deepEqual(cs.map((c) => (c as { seq: number }).seq), [6], 'numbered after the 6 committables written before');
  await w.commit!(cs);
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.value!.toString()), ['old0', 'old1', 'old2', 'old3', 'old4', 'old5', 'new']);
  await w.close!();
});

it('after a restore, a partition whose group offset is ahead of the checkpoint (another instance read it since) is continued from there, and the log says so', async () => {
  const k = new FakeKafka();
  k.createTopic('t', 2);
  for (let i = 0; i < 8; i++) k.append('t', i % 2, JSON.stringify(i));
  // This instance's checkpoint: partition 0 at 1, partition 1 at 2. The group has partition 0 at 3 (another
  // instance read further) and partition 1 at 2 (this instance's own last commit).
  k.committed.set('g|t|0', 3);
  k.committed.set('g|t|1', 2);
  const logs: string[] = [];
  const r = KafkaSource.json<number>({ client: () => k.client(), topics: ['t'], groupId: 'g', log: (m) => logs.push(m) }).createReader(ctx());
  await r.restore!({ v: 1, offsets: [['t', 0, 1], ['t', 1, 2]] }, []);
  const got = (await read<number>(r, 3)).flatMap((b) => b.values).sort((a, b) => a - b);
  // Partition 0 holds 0, 2, 4, 6 and partition 1 holds 1, 3, 5, 7: from offset 3 and offset 2.
  assert.deepEqual(got, [5, 6, 7]);
  const notes = logs.filter((l) => /continuing/.test(l));
  assert.equal(notes.length, 1, logs.join('\n'));
  assert.match(notes[0]!, /continuing t-0 at offset 3 from the group's committed offsets, ahead of this instance's own position \(another instance read them since, or the checkpoint restored is older than the group's offsets\); keyed state does not move with them/);
  await r.close!();
});
