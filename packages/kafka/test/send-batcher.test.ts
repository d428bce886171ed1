import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '@millrace/core';
import type { OutgoingMessage } from '../src/client.ts';
import { SendBatcher, type SendBatchLimits } from '../src/send-batcher.ts';
import { KafkaSink } from '../src/index.ts';
import { FakeKafka } from './fake-client.ts';

/** A clock that moves only when told to. */
class TestClock implements Clock {
  private tasks: Array<{ at: number; fn: () => void }> = [];
  constructor(private time = 0) {}
  now(): number { return this.time; }
  schedule(at: number, fn: () => void): () => void {
    const t = { at, fn };
    this.tasks.push(t);
    return () => { this.tasks = this.tasks.filter((x) => x !== t); };
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.tasks.filter((t) => t.at <= this.time);
    this.tasks = this.tasks.filter((t) => t.at > this.time);
    for (const t of due) t.fn();
  }
  get scheduled(): number { return this.tasks.length; }
}

/** A producer whose sends stay in flight until acknowledged by the test. */
function fakeSend() {
  const sent: Array<{ values: string[]; ack: () => void; fail: (e: Error) => void }> = [];
  const send = (ms: OutgoingMessage[]): Promise<void> => new Promise((ack, fail) => { sent.push({ values: ms.map((m) => String(m.value)), ack: () => ack(), fail }); });
  return { sent, send };
}

const msgs = (from: number, n: number): OutgoingMessage[] => Array.from({ length: n }, (_, i) => ({ key: null, value: String(from + i) }));
const limits = (l: Partial<SendBatchLimits> = {}): SendBatchLimits => ({ maxRecords: 4, maxBytes: 1 << 20, lingerMs: 5, maxInFlight: 2, ...l });

it('coalesces small writes into one send after the linger time, in order', () => {
  const clock = new TestClock();
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ maxRecords: 100 }), clock, send);
  assert.equal(b.add(msgs(0, 2)), undefined);
  assert.equal(b.add(msgs(2, 3)), undefined);
  clock.advance(4);
  assert.equal(sent.length, 0, 'nothing sent before the linger time');
  clock.advance(1);
  assert.deepEqual(sent.map((s) => s.values), [['0', '1', '2', '3', '4']]);
  assert.equal(clock.scheduled, 0);
});

it('sends a full batch at once and keeps the rest waiting for the linger time', () => {
  const clock = new TestClock();
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ maxRecords: 4, maxInFlight: 10 }), clock, send);
  b.add(msgs(0, 3));
  b.add(msgs(3, 6));
  assert.deepEqual(sent.map((s) => s.values), [['0', '1', '2', '3'], ['4', '5', '6', '7']]);
  assert.equal(b.pending, 1);
  clock.advance(5);
  assert.deepEqual(sent.map((s) => s.values)[2], ['8']);
});

it('cuts sends by approximate size too', () => {
  const { sent, send } = fakeSend();
  const big = (i: number): OutgoingMessage => ({ key: null, value: 'x'.repeat(100) + i });
  const b = new SendBatcher(limits({ maxRecords: 1000, maxBytes: 600, maxInFlight: 10 }), new TestClock(), send);
  b.add([big(0), big(1), big(2), big(3), big(4)]);
  // Each record counts about 64 + 2 × 101 bytes: a send goes out once three wait.
  assert.deepEqual(sent.map((s) => s.values.length), [3]);
  assert.equal(b.pending, 2);
});

it('with no linger, sends what each write left at its end', () => {
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ lingerMs: 0, maxRecords: 4, maxInFlight: 10 }), new TestClock(), send);
  b.add(msgs(0, 6));
  b.add(msgs(6, 1));
  assert.deepEqual(sent.map((s) => s.values.length), [4, 2, 1]);
});

it('asks the writer to wait while maxInFlight sends are unacknowledged, until one is acknowledged', async () => {
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ lingerMs: 0, maxRecords: 2, maxInFlight: 2 }), new TestClock(), send);
  assert.equal(b.add(msgs(0, 2)), undefined);
  const wait = b.add(msgs(2, 2));
  assert.ok(wait instanceof Promise, 'two sends in flight: wait');
  let resumed = false;
  void wait.then(() => { resumed = true; });
  await Promise.resolve();
  assert.equal(resumed, false);
  sent[0]!.ack();
  await wait;
  assert.equal(b.inFlightSends, 1);
});

it('flush sends what waits and resolves once every send is acknowledged', async () => {
  const clock = new TestClock();
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ maxRecords: 100 }), clock, send);
  b.add(msgs(0, 3));
  let flushed = false;
  const f = b.flush().then(() => { flushed = true; });
  assert.deepEqual(sent.map((s) => s.values.length), [3], 'sent at the flush, not after the linger time');
  assert.equal(clock.scheduled, 0, 'the linger timer is cancelled');
  await Promise.resolve();
  assert.equal(flushed, false);
  sent[0]!.ack();
  await f;
  assert.equal(flushed, true);
});

it('a failed send fails the flush and every later write, with the described error', async () => {
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ lingerMs: 0, maxInFlight: 10 }), new TestClock(), send, (e, n) => new Error(`sending ${n}: ${(e as Error).message}`));
  b.add(msgs(0, 2));
  b.add(msgs(2, 1));
  sent[0]!.fail(new Error('broker down'));
  sent[1]!.ack();
  await assert.rejects(b.flush(), /sending 2: broker down/);
  assert.throws(() => b.add(msgs(3, 1)), /sending 2: broker down/);
});

it('at-least-once sink: records are sent before any checkpoint, and preCommit sends the rest and waits for them', async () => {
  const k = new FakeKafka();
  k.createTopic('out', 1);
  const clock = new TestClock();
  const sink = KafkaSink.json<{ i: number }>({ client: () => k.client(), topic: 'out', batchMaxRecords: 3, linger: '1s' });
  const w = sink.createWriter({ jobName: 'j', uid: 'out', subtaskIndex: 0, parallelism: 1, clock, signal: new AbortController().signal });
  const values = Array.from({ length: 4 }, (_, i) => ({ i }));
  await w.write(values, [1, 2, 3, 4], 4);
  await Promise.resolve();
  const out = (): number[] => k.logs.get('out')![0]!.map((m) => JSON.parse(String(m.value)).i);
  assert.deepEqual(out(), [0, 1, 2], 'a full send goes out at once');
  await w.preCommit!(1);
  assert.deepEqual(out(), [0, 1, 2, 3]);
  assert.deepEqual(k.logs.get('out')![0]!.map((m) => m.timestamp), [1, 2, 3, 4]);
  await w.close!();
});

it('every writer waiting for a send slot resumes when a send is acknowledged (two writes in a row)', async () => {
  const { sent, send } = fakeSend();
  const b = new SendBatcher(limits({ lingerMs: 0, maxRecords: 1, maxInFlight: 1 }), new TestClock(), send);
  const first = b.add(msgs(0, 1));
  const second = b.add(msgs(1, 1));
  assert.ok(first instanceof Promise && second instanceof Promise);
  sent[0]!.ack();
  await Promise.all([first, second]);
  assert.deepEqual(sent.map((s) => s.values), [['0'], ['1']]);
});

it('at-least-once sink: a checkpoint right after a write made before the producer connected still covers it', async () => {
  const k = new FakeKafka();
  k.createTopic('out', 1);
  const clock = new TestClock();
  const sink = KafkaSink.json<{ i: number }>({ client: () => k.client(), topic: 'out', linger: '1s' });
  const w = sink.createWriter({ jobName: 'j', uid: 'out', subtaskIndex: 0, parallelism: 1, clock, signal: new AbortController().signal });
  // The writer is still connecting: this write waits for the producer; the barrier comes before it is handed over.
  const wrote = w.write([{ i: 0 }, { i: 1 }], [1, 2], 2);
  assert.ok(wrote instanceof Promise, 'the first write waits for the connection');
  await w.preCommit!(1);
  assert.deepEqual((k.logs.get('out')![0] ?? []).map((m) => JSON.parse(String(m.value)).i), [0, 1], 'the checkpoint waited for the records written before it');
  await wrote;
  await w.close!();
});
