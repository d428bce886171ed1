/**
 * A job cancelled while a checkpoint is in flight: the checkpoint's promise rejects, naming the checkpoint and why,
 * in one thread and on worker threads (it used to stay pending forever).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runJob } from '@millrace/runtime';
import job from './fixtures/held-pre-commit-job.ts';
import { HeldSinkRemote } from './fixtures/held-sink-remote.ts';

for (const workers of [0, 2]) {
  test(`cancelling a job rejects the checkpoint in flight (${workers === 0 ? 'one thread' : 'worker threads'})`, { timeout: 120_000 }, async () => {
    const remote = new HeldSinkRemote();
    try {
      const handle = runJob(job, { workers });
      remote.watch(handle.done);
      await remote.until(() => remote.subtasks('wrote') === 2);
      const inFlight = handle.checkpoint();
      inFlight.catch(() => {});
      // Both sinks' pre-commits are held: the checkpoint cannot complete.
      await remote.until(() => remote.subtasks('pre-commit', 1) === 2);
      remote.watch(undefined);
      const result = await handle.cancel();
      assert.equal(result.status, 'cancelled');
      await assert.rejects(inFlight, /checkpoint 1 of job 'held-pre-commit' did not complete: the job (stopped|was cancelled) first/);
    } finally {
      remote.close();
    }
  });
}
