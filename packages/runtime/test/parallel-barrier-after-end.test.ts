/**
 * Regression: on worker threads a job hung at end of input when a checkpoint was in flight. A subtask whose producers
 * run on another thread can finish without ever seeing the barrier: the producers had finished when the barrier was
 * injected on their thread (so they acknowledged it without sending it on), and their end of input reached the
 * subtask only after the barrier was injected on its own thread. It must still acknowledge the checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, sinks } from '@millrace/core';
import { JobRuntime, SystemClock, type ChannelMessage, type ChannelReceiver } from '@millrace/runtime';

test('a subtask that finishes after a barrier was injected, without receiving it, acknowledges the checkpoint', () => {
  const job = defineJob('barrier-after-end', (env) => {
    env.fromArray([1, 2, 3], { uid: 'numbers' }).rebalance().map((x) => x * 2, { name: 'double' }).sinkTo(sinks.collect(), { uid: 'out' });
  }, { parallelism: 1, module: import.meta.url });
  const plan = job.plan();
  const remote: ChannelReceiver = { receive(_ch: number, _m: ChannelMessage) {} };
  // The source runs "on another thread"; the map and the sink run here.
  const sourceChain = 0;
  const rt = new JobRuntime(plan, new SystemClock(), undefined, {}, {
    isLocal: (chain) => chain !== sourceChain,
    remote: () => remote,
  });
  const acks: Array<[string, number]> = [];
  rt.onAck = (s, id) => acks.push([s.headNode.name, id]);
  assert.equal(rt.subtasks.length, 1);
  const [consumer] = rt.subtasks;
  assert.equal(consumer!.headNode.name, 'double');

  rt.injectBarrier(1); // the consumer has not finished: nothing to acknowledge yet
  assert.deepEqual(acks, []);
  consumer!.receive(0, { kind: 'end' }); // the source's end of input arrives; its barrier never will
  assert.ok(rt.isFinished);
  assert.deepEqual(acks, [['double', 1]], 'the finished subtask acknowledged checkpoint 1');
});
