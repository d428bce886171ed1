/**
 * A sink commit that does not return holds back every later checkpoint (commits run in checkpoint order). The log
 * says which subtask is still committing which checkpoint, after 30 s and every 30 s after that, instead of staying
 * silent. Time is virtual (ManualClock), in one thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, type SinkWriter, type SourceReader } from '@millrace/core';
import { runJob, SLOW_COMMIT_NOTICE_MS } from '@millrace/runtime';
import { ManualClock } from '@millrace/testing';

/**
 * A job of `values` from a source that then waits (ending when `endInput` is called, if `bounded`), into a two-phase
 * sink whose `commit` is the given function.
 */
function commitJob(name: string, values: number[], bounded: boolean, commit: (c: readonly number[]) => void | Promise<void>) {
  let endInput: () => void = () => {};
  const job = defineJob(name, (env) => {
    env.fromSource<number>({
      description: `${values.length} record(s), then waits`,
      bounded,
      createReader(): SourceReader<number> {
        let sent = false;
        return {
          next() {
            if (!sent) { sent = true; return { values }; }
            return new Promise<null>((r) => { endInput = () => r(null); });
          },
          snapshot: () => sent,
          restore: (p) => { sent = p === true; },
        };
      },
    }, { uid: 'numbers' }).sinkTo({
      description: 'a sink whose commit waits',
      createWriter(): SinkWriter<number, number> {
        let current: number[] = [];
        return {
          write(vs, _ts, count) { current.push(...vs.slice(0, count)); },
          preCommit() { const cut = current; current = []; return cut; },
          commit,
        };
      },
    }, { uid: 'slow' });
  });
  return { job, endInput: () => endInput() };
}

test('a sink commit still running after 30 s is logged, naming the subtask and the checkpoint, until it returns', { timeout: 60_000 }, async () => {
  let releaseCommit: () => void = () => {};
  let commitStarted: () => void = () => {};
  const started = new Promise<void>((r) => (commitStarted = r));
  const committed: number[][] = [];
  const { job, endInput } = commitJob('slow-commit', [1, 2], true, (c) => {
    committed.push([...c]);
    if (committed.length > 1) return;
    // The first commit (checkpoint 1) waits for the test.
    commitStarted();
    return new Promise<void>((r) => { releaseCommit = r; });
  });
  const clock = new ManualClock(0);
  const logs: string[] = [];
  const handle = runJob(job, { workers: 0, clock, log: (m) => logs.push(m) });
  const first = handle.checkpoint();
  await started;
  assert.deepEqual(committed, [[1, 2]]);

  const notices = (): string[] => logs.filter((l) => /still committing/.test(l));
  clock.advance(SLOW_COMMIT_NOTICE_MS - 1);
  assert.deepEqual(notices(), []);
  clock.advance(1);
  assert.deepEqual(notices(), [
    "job 'slow-commit': sink 'numbers → slow' (uid 'numbers') subtask 0 is still committing the output of checkpoint 1 after 30 s; later checkpoints complete only once it is done",
  ]);
  clock.advance(SLOW_COMMIT_NOTICE_MS);
  assert.equal(notices().length, 2);
  assert.match(notices()[1]!, /checkpoint 1 after 60 s/);

  // Returned: the checkpoint completes and the notices stop.
  releaseCommit();
  assert.equal((await first).checkpointId, 1);
  clock.advance(5 * SLOW_COMMIT_NOTICE_MS);
  assert.equal(notices().length, 2);

  endInput();
  assert.equal((await handle.done).status, 'finished');
  assert.deepEqual(committed[0], [1, 2]);
});

test('the notices stop when the job is cancelled while the commit still runs', { timeout: 60_000 }, async () => {
  let commitStarted: () => void = () => {};
  const started = new Promise<void>((r) => (commitStarted = r));
  // A commit that never returns.
  const { job } = commitJob('cancelled-commit', [1], false, () => { commitStarted(); return new Promise<void>(() => {}); });
  const clock = new ManualClock(0);
  const logs: string[] = [];
  const handle = runJob(job, { workers: 0, clock, log: (m) => logs.push(m) });
  const first = handle.checkpoint();
  first.catch(() => {});
  await started;
  clock.advance(SLOW_COMMIT_NOTICE_MS);
  assert.equal(logs.filter((l) => /still committing/.test(l)).length, 1);
  assert.equal((await handle.cancel()).status, 'cancelled');
  await assert.rejects(first, /checkpoint 1 of job 'cancelled-commit' did not complete: the job stopped first/);
  clock.advance(10 * SLOW_COMMIT_NOTICE_MS);
  assert.equal(logs.filter((l) => /still committing/.test(l)).length, 1, logs.join('\n'));
});
