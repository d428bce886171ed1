/**
 * Regression: on worker threads a sink's output since one barrier was never committed (the restart test under CPU
 * load lost a whole part file of one sink subtask; its `.pending` file stayed behind). Messages on different ports
 * are not ordered, so a worker can deliver a barrier from another thread to a subtask before the coordinator's
 * message that injects that barrier on its own thread (its own inputs had ended, so nothing held the barrier back).
 * The subtask acknowledged the checkpoint, and acknowledged it again with its final cut once it finished: when it
 * finished before the injection (injected barriers are acknowledged by finished subtasks), or after it (it was counted
 * as still waiting for the barrier). The second acknowledgement replaced the first one's committables, so what the
 * sink pre-committed at that barrier was never committed.
 *
 * No threads here: one runtime plays a worker whose producer runs elsewhere, and the test delivers the messages in
 * the order that lost the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, type Sink, type SinkWriter } from '@millrace/core';
import { JobRuntime, RecordBatch, SystemClock, type ChannelMessage, type ChannelReceiver, type Subtask } from '@millrace/runtime';

/** A transactional sink in memory: records are pre-committed per barrier and visible only once committed. */
function memorySink(committed: number[]): Sink<number> {
  return {
    description: 'memory',
    createWriter(): SinkWriter<number, number> {
      let open: number[] = [];
      const pending = new Map<number, number[]>();
      let next = 0;
      return {
        write(values, _ts, n) { for (let i = 0; i < n; i++) open.push(values[i]!); },
        preCommit() {
          if (open.length === 0) return [];
          const id = next++;
          pending.set(id, open);
          open = [];
          return [id];
        },
        commit(cs) {
          for (const c of cs) {
            committed.push(...(pending.get(c) ?? []));
            pending.delete(c); // committing again is a no-op
          }
        },
        snapshot: () => ({ next }),
      };
    },
  };
}

function batch(values: number[]): ChannelMessage {
  const b = new RecordBatch();
  b.values = values;
  b.timestamps = values.map(() => Number.NaN);
  b.length = values.length;
  return { kind: 'batch', batch: b };
}

/** A runtime hosting the map → sink chain; its producer (the source) runs "on another thread". */
function worker(committed: number[]) {
  const job = defineJob('barrier-before-injection', (env) => {
    env.fromArray([0], { uid: 'numbers' }).rebalance().map((x) => x, { name: 'copy' }).sinkTo(memorySink(committed), { uid: 'out' });
  }, { parallelism: 1, module: import.meta.url });
  const remote: ChannelReceiver = { receive(_ch: number, _m: ChannelMessage) {} };
  const rt = new JobRuntime(job.plan(), new SystemClock(), undefined, {}, { isLocal: (chain) => chain !== 0, remote: () => remote });
  const acks: Array<{ subtask: Subtask; id: number }> = [];
  const resolving: Promise<unknown>[] = [];
  // What a worker does with an acknowledgement: resolve it (keeping the committables for the commit) and send it on.
  rt.onAck = (subtask, id, ack) => {
    acks.push({ subtask, id });
    resolving.push(rt.resolveAck(subtask, id, ack));
  };
  const [consumer] = rt.subtasks;
  assert.equal(consumer!.headNode.name, 'copy');
  return { rt, consumer: consumer!, acks, settled: () => Promise.all(resolving) };
}

for (const finishesBeforeInjection of [true, false]) {
  test(`a barrier that reached a subtask before it was injected on its thread is acknowledged once, and its cut is committed (the subtask finishes ${finishesBeforeInjection ? 'before' : 'after'} the injection)`, async () => {
    const committed: number[] = [];
    const { rt, consumer, acks, settled } = worker(committed);
    consumer.receive(0, batch([1, 2, 3]));
    consumer.receive(0, { kind: 'barrier', checkpointId: 1 }); // from the other thread, ahead of the injection here
    consumer.receive(0, batch([4, 5]));
    if (finishesBeforeInjection) {
      consumer.receive(0, { kind: 'end' });
      rt.injectBarrier(1);
    } else {
      rt.injectBarrier(1);
      consumer.receive(0, { kind: 'end' });
    }
    assert.ok(rt.isFinished);
    await settled();
    await rt.commitLocal(1); // checkpoint 1 completed
    assert.deepEqual(committed, [1, 2, 3], 'checkpoint 1 commits what the sink pre-committed at barrier 1');
    await rt.commitFinal(); // no checkpoint storage: the final cut is committed directly
    assert.deepEqual(committed, [1, 2, 3, 4, 5], 'nothing is lost at the end');
    assert.deepEqual(acks.map((a) => a.id), [1], 'checkpoint 1 is acknowledged once');
  });
}
