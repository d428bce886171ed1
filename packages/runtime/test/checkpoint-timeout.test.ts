/**
 * checkpointTimeout and tolerableCheckpointFailures. A checkpoint not written within the timeout is aborted, naming
 * the subtasks it still waited for; the next checkpoint can start and holds what the aborted one's sinks
 * pre-committed. Periodic checkpoints that fail more often in a row than tolerated fail the job. Time is virtual
 * (ManualClock) in one thread; on worker threads the test waits for the rejection, never for time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, JobBuildError, sinks, sources } from '@millrace/core';
import { runJob } from '@millrace/runtime';
import { ManualClock } from '@millrace/testing';
import job, { PER_SUBTASK as perSubtask } from './fixtures/held-pre-commit-job.ts';
import { HeldSinkRemote } from './fixtures/held-sink-remote.ts';

const all = Array.from({ length: 2 * perSubtask }, (_, i) => i);
const expired = /checkpoint 1 expired after 1000 ms \(checkpointTimeout 1000 ms\) and was aborted; still waiting for 'numbers → held' \(uid 'numbers'\) subtask 0 \(sink pre-commit still running\), 'numbers → held' \(uid 'numbers'\) subtask 1 \(sink pre-commit still running\)/;

test('a checkpoint not written within checkpointTimeout is aborted, naming what it waited for; the next one holds its committables (one thread, manual clock)', { timeout: 60_000 }, async () => {
  const remote = new HeldSinkRemote();
  try {
    const clock = new ManualClock(0);
    const logs: string[] = [];
    const handle = runJob(job, { workers: 0, clock, overrides: { checkpointTimeout: '1s' }, log: (m) => logs.push(m) });
    remote.watch(handle.done);
    await remote.until(() => remote.subtasks('wrote') === 2);
    const first = handle.checkpoint();
    first.catch(() => {});
    await remote.until(() => remote.subtasks('pre-commit', 1) === 2);

    // Both pre-commits are held. The timeout fires when the clock reaches it, not before.
    clock.advance(999);
    assert.deepEqual(logs.filter((l) => /expired/.test(l)), []);
    clock.advance(1);
    assert.match(logs.join('\n'), expired);
    await assert.rejects(first, expired);

    // The next checkpoint starts; released, it completes holding checkpoint 1's committables, and commits them.
    const second = handle.checkpoint();
    second.catch(() => {});
    await remote.until(() => remote.subtasks('pre-commit', 2) === 2);
    remote.send({ e: 'release' });
    const info = await second;
    assert.equal(info.checkpointId, 2);
    assert.deepEqual((info.states.get('held') ?? []).flatMap((s) => (s.committables ?? []) as number[]).sort((a, b) => a - b), all);
    // The sinks' reports cross a channel: wait until both reported a commit.
    await remote.until(() => new Set(remote.events.filter((x) => x.e === 'commit').map((x) => x.sub)).size === 2);
    const committed = remote.events.flatMap((x) => (x.e === 'commit' ? x.ids : []));
    assert.deepEqual([...committed].sort((a, b) => a - b), all, 'committed once, when checkpoint 2 completed');

    remote.send({ e: 'end' });
    const result = await handle.done;
    assert.equal(result.status, 'finished');
  } finally {
    remote.close();
  }
});

test('periodic checkpoints timing out fail the job once more than tolerableCheckpointFailures failed in a row (one thread, manual clock)', { timeout: 60_000 }, async () => {
  const remote = new HeldSinkRemote();
  try {
    const clock = new ManualClock(0);
    const logs: string[] = [];
    const handle = runJob(job, { workers: 0, clock, overrides: { checkpointInterval: '1s', checkpointTimeout: '500ms', tolerableCheckpointFailures: 1 }, log: (m) => logs.push(m) });
    remote.watch(handle.done);
    await remote.until(() => remote.subtasks('wrote') === 2);
    remote.watch(undefined);
    let failure: unknown;
    handle.done.then(() => { failure = new Error('the job finished'); }, (e: unknown) => { failure = e; });
    // Virtual time moves in steps; between two, the job reacts (a checkpoint settles, the next one is scheduled).
    for (let step = 0; failure === undefined; step++) {
      assert.ok(step < 1000, `the job did not fail; log:\n${logs.join('\n')}`);
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    assert.match((failure as Error).message, /job 'held-pre-commit' fails: checkpoint 2 expired after 500 ms .*\(2 checkpoint\(s\) failed in a row, more than tolerableCheckpointFailures = 1; a higher value rides out failures that pass by themselves\)/);
    const text = logs.join('\n');
    assert.match(text, /checkpoint 1 expired after 500 ms \(checkpointTimeout 500 ms\)/);
    assert.match(text, /\(1 failed checkpoint\(s\) in a row, 1 tolerated\)/);
  } finally {
    remote.close();
  }
});

test('on worker threads a checkpoint past checkpointTimeout is aborted, naming the subtasks that had not acknowledged', { timeout: 120_000 }, async () => {
  const remote = new HeldSinkRemote();
  try {
    const logs: string[] = [];
    const handle = runJob(job, { workers: 2, overrides: { checkpointTimeout: '300ms' }, log: (m) => logs.push(m) });
    remote.watch(handle.done);
    await remote.until(() => remote.subtasks('wrote') === 2);
    const first = handle.checkpoint();
    first.catch(() => {});
    const named = /checkpoint 1 expired after \d+ ms \(checkpointTimeout 300 ms\) and was aborted; still waiting for 'numbers → held' \(uid 'numbers'\) subtask 0 \(no acknowledgement[^)]*\), 'numbers → held' \(uid 'numbers'\) subtask 1 /;
    await assert.rejects(first, named);
    assert.match(logs.join('\n'), named);
    // Released, the aborted checkpoint's pre-commits go into the next one.
    const second = handle.checkpoint();
    second.catch(() => {});
    await remote.until(() => remote.subtasks('pre-commit', 2) === 2);
    remote.send({ e: 'release' });
    const info = await second;
    assert.deepEqual((info.states.get('held') ?? []).flatMap((s) => (s.committables ?? []) as number[]).sort((a, b) => a - b), all);
    remote.send({ e: 'end' });
    assert.equal((await handle.done).status, 'finished');
  } finally {
    remote.close();
  }
});

test('checkpointTimeout and tolerableCheckpointFailures are checked when the job is built', () => {
  const build = (options: object) => defineJob('options', (env) => { env.fromSource(sources.generator({ count: 1, generate: (i) => i }), { uid: 's' }).sinkTo(sinks.collect(), { uid: 'o' }); }, options).plan();
  assert.equal(build({}).config.checkpointTimeoutMs, 600_000);
  assert.equal(build({}).config.tolerableCheckpointFailures, 0);
  assert.equal(build({ checkpointTimeout: '2m', tolerableCheckpointFailures: 3 }).config.checkpointTimeoutMs, 120_000);
  assert.throws(() => build({ checkpointTimeout: 0 }), (e: unknown) => e instanceof JobBuildError && /checkpointTimeout must be longer than 0, got 0.*default '10m'/.test(e.message));
  assert.throws(() => build({ checkpointTimeout: '10 minutes' }), (e: unknown) => e instanceof JobBuildError && /checkpointTimeout must look like '250ms'/.test(e.message));
  for (const bad of [-1, 1.5, '2']) {
    assert.throws(() => build({ tolerableCheckpointFailures: bad }), (e: unknown) => e instanceof JobBuildError && /tolerableCheckpointFailures must be a whole number of checkpoints, 0 or more/.test(e.message), String(bad));
  }
});
