import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WATERMARK, valueState, type KeyedStream, type DataStream } from '@millrace/core';
import { OperatorHarness, type HarnessOutput } from '@millrace/testing';

/** Tells the function under test which timers to register or delete for `key`. */
interface Cmd {
  readonly key: string;
  readonly event?: readonly number[];
  readonly processing?: readonly number[];
  readonly deleteEvent?: readonly number[];
  readonly deleteProcessing?: readonly number[];
}

/** What fired: key, domain, timer time, the watermark or processing time the function saw, and the key's firing count (state). */
type Fired = string;

const timerFn = (keyed: KeyedStream<string, Cmd>): DataStream<Fired> =>
  keyed
    .process<Fired>({ uid: 'timers' })
    .withState({ fired: valueState<number>() })
    .handle({
      onElement(c, { timers }) {
        for (const t of c.event ?? []) timers.registerEventTimeTimer(t);
        for (const t of c.processing ?? []) timers.registerProcessingTimeTimer(t);
        for (const t of c.deleteEvent ?? []) timers.deleteEventTimeTimer(t);
        for (const t of c.deleteProcessing ?? []) timers.deleteProcessingTimeTimer(t);
      },
      onTimer(ts, { key, timeDomain, timers, state, emit }) {
        const n = (state.fired.value() ?? 0) + 1;
        state.fired.update(n);
        const now = timeDomain === 'event' ? `wm=${timers.currentWatermark}` : `pt=${timers.currentProcessingTime}`;
        emit(`${key}:${timeDomain}@${ts} ${now} #${n}`);
      },
    });

const harness = (startTime = 0): OperatorHarness<Cmd, Fired> => OperatorHarness.keyed((c: Cmd) => c.key, timerFn, { startTime });
const rec = (value: Fired, timestamp: number): HarnessOutput<Fired> => ({ kind: 'record', value, timestamp });
const wm = (watermark: number): HarnessOutput<Fired> => ({ kind: 'watermark', watermark });

test('event-time timers fire in time order once the watermark passes them, before the watermark is forwarded', () => {
  const h = harness();
  h.processElement({ key: 'a', event: [300, 100] }, 10)
    .processElement({ key: 'b', event: [200] }, 20)
    .processWatermark(99)
    .processWatermark(250)
    .processWatermark(300);
  assert.deepEqual(h.output(), [
    wm(99),
    rec('a:event@100 wm=250 #1', 100),
    rec('b:event@200 wm=250 #1', 200),
    wm(250),
    rec('a:event@300 wm=300 #2', 300),
    wm(300),
  ]);
});

test('an event-time timer fires when the watermark equals its time', () => {
  const h = harness();
  h.processElement({ key: 'a', event: [500] }, 1).processWatermark(499).processWatermark(500);
  assert.deepEqual(h.output(), [wm(499), rec('a:event@500 wm=500 #1', 500), wm(500)]);
});

test('timers are deduplicated per key and time, not across keys', () => {
  const h = harness();
  h.processElement({ key: 'a', event: [100, 100] }, 1)
    .processElement({ key: 'a', event: [100] }, 2)
    .processElement({ key: 'b', event: [100] }, 3)
    .processWatermark(1_000);
  assert.deepEqual(h.output(), [rec('a:event@100 wm=1000 #1', 100), rec('b:event@100 wm=1000 #1', 100), wm(1_000)]);
});

test('deleted timers do not fire; deleting only affects the deleting key', () => {
  const h = harness();
  h.processElement({ key: 'a', event: [100, 200], processing: [50] }, 1)
    .processElement({ key: 'b', event: [100] }, 2)
    .processElement({ key: 'a', deleteEvent: [100], deleteProcessing: [50] }, 3)
    .processWatermark(1_000)
    .setProcessingTime(1_000);
  assert.deepEqual(h.output(), [rec('b:event@100 wm=1000 #1', 100), rec('a:event@200 wm=1000 #1', 200), wm(1_000)]);
});

test('a deleted then re-registered timer fires once', () => {
  const h = harness();
  h.processElement({ key: 'a', event: [100] }, 1)
    .processElement({ key: 'a', deleteEvent: [100] }, 2)
    .processElement({ key: 'a', event: [100] }, 3)
    .processWatermark(100);
  assert.deepEqual(h.output(), [rec('a:event@100 wm=100 #1', 100), wm(100)]);
});

test('processing-time timers fire on setProcessingTime, each seeing its own time, in order', () => {
  const h = harness(1_000);
  h.processElement({ key: 'a', processing: [5_000, 2_000] })
    .processElement({ key: 'b', processing: [3_000, 3_000] })
    .setProcessingTime(1_999);
  assert.deepEqual(h.output(), []);
  h.setProcessingTime(4_000);
  assert.deepEqual(h.drain(), [rec('a:processing@2000 pt=2000 #1', 2_000), rec('b:processing@3000 pt=3000 #1', 3_000)]);
  h.setProcessingTime(5_000);
  assert.deepEqual(h.drain(), [rec('a:processing@5000 pt=5000 #2', 5_000)]);
  h.setProcessingTime(100_000);
  assert.deepEqual(h.drain(), []);
});

test('processing-time timers do not fire on watermarks, event-time timers not on processing time', () => {
  const h = harness();
  h.processElement({ key: 'a', event: [100], processing: [100] }, 1).processWatermark(MAX_WATERMARK - 1);
  assert.deepEqual(h.drain(), [rec(`a:event@100 wm=${MAX_WATERMARK - 1} #1`, 100), wm(MAX_WATERMARK - 1)]);
  h.setProcessingTime(100);
  assert.deepEqual(h.drain(), [rec('a:processing@100 pt=100 #2', 100)]);
});

test('a timer registered in the past fires at the next watermark (event time) or at once on the next clock move', () => {
  const h = harness(1_000);
  h.processWatermark(500).processElement({ key: 'a', event: [400], processing: [900] }, 600);
  assert.deepEqual(h.drain(), [wm(500)]);
  h.setProcessingTime(1_000);
  assert.deepEqual(h.drain(), [rec('a:processing@900 pt=1000 #1', 900)]);
  h.processWatermark(501);
  assert.deepEqual(h.drain(), [rec('a:event@400 wm=501 #2', 400), wm(501)]);
});

test('a watermark that does not advance is not forwarded and fires nothing', () => {
  const h = harness();
  h.processWatermark(100).processElement({ key: 'a', event: [100] }, 50).processWatermark(100).processWatermark(90);
  assert.deepEqual(h.output(), [wm(100)]);
});

test('snapshot, then restore into a new harness: timers still fire and state is back', async () => {
  const h = harness(0);
  h.processElement({ key: 'a', event: [100, 300], processing: [2_000] }, 1)
    .processElement({ key: 'b', event: [200] }, 2)
    .processWatermark(150);
  assert.deepEqual(h.drain(), [rec('a:event@100 wm=150 #1', 100), wm(150)]);
  const snapshot = await h.snapshot();
  // After the snapshot: not part of it.
  h.processElement({ key: 'c', event: [250] }, 3);

  const restored = await OperatorHarness.restore(h, snapshot, { startTime: 1_000 });
  restored.processWatermark(400);
  // a fired once before the snapshot, so its counter (state) continues at #2; c's timer was registered after it.
  assert.deepEqual(restored.drain(), [rec('b:event@200 wm=400 #1', 200), rec('a:event@300 wm=400 #2', 300), wm(400)]);
  restored.setProcessingTime(2_000);
  assert.deepEqual(restored.drain(), [rec('a:processing@2000 pt=2000 #3', 2_000)]);
  // Nothing else is pending.
  restored.processWatermark(MAX_WATERMARK).setProcessingTime(1_000_000);
  assert.deepEqual(restored.drain(), [wm(MAX_WATERMARK)]);
});

test('a restored processing-time timer that is already due fires on the next clock move', async () => {
  const h = harness(0);
  h.processElement({ key: 'a', processing: [500] });
  const snapshot = await h.snapshot();
  const restored = await OperatorHarness.restore(h, snapshot, { startTime: 10_000 });
  assert.deepEqual(restored.output(), []);
  restored.setProcessingTime(10_000);
  assert.deepEqual(restored.drain(), [rec('a:processing@500 pt=10000 #1', 500)]);
});

test('an onTimer that throws fails the operator with the step, the timer time and the key', () => {
  const h = OperatorHarness.keyed((c: Cmd) => c.key, (keyed) =>
    keyed.process<string>({ uid: 'bad-timer', name: 'alarm' }).handle({
      onElement(c, { timers }) { for (const t of c.event ?? []) timers.registerEventTimeTimer(t); },
      onTimer() { throw new Error('timer broke'); },
    }));
  h.processElement({ key: 'k', event: [42] }, 1);
  assert.throws(() => h.processWatermark(42), {
    name: 'UserFunctionError',
    message: `user function of step 'alarm' (uid 'bad-timer') threw in onTimer for key "k" at timestamp 42: timer broke`,
  });
  assert.throws(() => h.processWatermark(43), { name: 'UserFunctionError' });
});
