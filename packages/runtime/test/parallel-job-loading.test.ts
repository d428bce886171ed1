/** A job module that cannot be loaded in a worker thread fails the job with an error naming the file and the cause. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runJob } from '@millrace/runtime';

test('a job whose module throws when imported in a worker thread fails with an error naming the job file and the cause', async () => {
  const { default: job } = await import('./fixtures/parallel-worker-only-failure-job.ts');
  const file = fileURLToPath(new URL('./fixtures/parallel-worker-only-failure-job.ts', import.meta.url));
  // In this thread the module loads, and the job runs.
  const inThread = await runJob(job, { workers: 0 }).done;
  assert.equal(inThread.status, 'finished');
  await assert.rejects(runJob(job, { workers: 2 }).done, (e: Error) => {
    assert.ok(e.message.includes(file), `the message names the job file ${file}: ${e.message}`);
    assert.match(e.message, /could not be imported in a worker thread: the license server is reachable only from the main thread/);
    return true;
  });
});
