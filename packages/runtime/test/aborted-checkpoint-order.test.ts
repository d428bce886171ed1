/**
 * Acknowledgements settle in checkpoint order, even when pre-commits settle out of order. Checkpoint 1 is aborted by
 * checkpointTimeout while its sinks' pre-commits are held; checkpoint 2 cuts more records, and its pre-commits
 * settle first, checkpoint 1's only after. Checkpoint 2 must not complete before checkpoint 1's committables are in.
 * Once complete, its stored sink state holds both checkpoints' committables (oldest first) and every record is
 * committed once; the job then finishes with each record committed exactly once. Without the ordering
 * (`resolveAck`/`ackTail` in executor/job-runtime.ts), checkpoint 2 settles with its own committables only, so a
 * restore from it never commits checkpoint 1's output. Tested in one thread on a ManualClock, and on worker threads,
 * where the test waits on the job's reports and on the timeout's rejection, never on time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runJob } from '@millrace/runtime';
import { ManualClock } from '@millrace/testing';
import job, { PARALLELISM, PER_SUBTASK, type HeldEvent } from './fixtures/held-pre-commit-job.ts';
import { HeldSinkRemote } from './fixtures/held-sink-remote.ts';

const subs = Array.from({ length: PARALLELISM }, (_, s) => s);
const byValue = (a: number, b: number): number => a - b;
const run = (from: number): number[] => Array.from({ length: PER_SUBTASK }, (_, i) => from + i);
/** What sink subtask `sub` cuts at checkpoint 1 (the first batch of its source) … */
const cut1 = (sub: number): number[] => run(sub * PER_SUBTASK);
/** … and at checkpoint 2 (the batch `more` asks for). */
const cut2 = (sub: number): number[] => run((PARALLELISM + sub) * PER_SUBTASK);
const all = subs.flatMap((s) => [...cut1(s), ...cut2(s)]).sort(byValue);

for (const workers of [0, 2] as const) {
  const where = workers === 0 ? 'one thread, manual clock' : 'worker threads';
  test(`checkpoint 2 settles after checkpoint 1's slower pre-commit (aborted by the timeout), holding and committing both, each record once (${where})`, { timeout: 120_000 }, async () => {
    const remote = new HeldSinkRemote();
    const { events } = remote;
    const committed = (): number[] => events.flatMap((x) => (x.e === 'commit' ? x.ids : [])).sort(byValue);
    try {
      const clock = workers === 0 ? new ManualClock(0) : undefined;
      // Disposed (cancelled) when the test ends early, so that a failed assertion does not leave the job running.
      // On worker threads the timeout is real time and also bounds checkpoint 2, which takes a few channel round trips:
      // 5 s leaves room for a loaded machine.
      const timeout = clock ? 1000 : 5000;
      await using handle = runJob(job, { workers, ...(clock ? { clock } : {}), overrides: { checkpointTimeout: timeout } });
      remote.watch(handle.done);
      await remote.until(() => remote.subtasks('wrote') === PARALLELISM);

      // 1. Checkpoint 1 cuts the first batches; every sink's pre-commit of it is held.
      const first = handle.checkpoint();
      first.catch(() => {});
      await remote.until(() => remote.subtasks('pre-commit', 1) === PARALLELISM);

      // 2. Its timeout aborts it: virtual time in one thread; on worker threads the coordinator's timer fires.
      clock?.advance(1000);
      await assert.rejects(first, new RegExp(`checkpoint 1 expired after \\d+ ms \\(checkpointTimeout ${timeout} ms\\) and was aborted`));

      // 3. More records, cut by checkpoint 2, whose pre-commits are released first and settle.
      remote.send({ e: 'more' });
      await remote.until(() => events.filter((x) => x.e === 'wrote').length === 2 * PARALLELISM);
      const second = handle.checkpoint();
      let outcome: string | undefined;
      second.then(() => { outcome = 'completed'; }, (e: unknown) => { outcome = `failed: ${(e as Error)?.message ?? String(e)}`; });
      await remote.until(() => remote.subtasks('pre-commit', 2) === PARALLELISM);
      remote.send({ e: 'release', id: 2 });
      await remote.until(() => remote.subtasks('released', 2) === PARALLELISM);
      // Every report the sinks sent so far is in: checkpoint 1's pre-commits are still held, nothing was committed.
      await remote.sync();
      assert.equal(remote.subtasks('released', 1), 0);
      assert.deepEqual(committed(), [], 'nothing is committed while checkpoint 1\'s pre-commits are held');
      // Checkpoint 2 would collect checkpoint 1's committables, which are not in yet: it must not settle before them.
      assert.equal(outcome, undefined, 'checkpoint 2 settled before checkpoint 1\'s pre-commits put their committables in');

      // 4. Checkpoint 1's pre-commits settle last.
      remote.send({ e: 'release', id: 1 });
      const info = await second;

      // 5. Checkpoint 2 holds both checkpoints' committables per sink subtask, oldest first, and committed each record once.
      assert.equal(info.checkpointId, 2);
      const stored = info.states.get('held') ?? [];
      assert.deepEqual(stored.map((s) => s.subtask).sort(byValue), subs);
      for (const sub of subs) {
        assert.deepEqual(stored.find((s) => s.subtask === sub)?.committables, [...cut1(sub), ...cut2(sub)], `sink subtask ${sub}: checkpoint 2 holds the committables of checkpoints 1 and 2`);
      }
      await remote.sync();
      assert.deepEqual(committed(), all, 'when checkpoint 2 completed, every record was committed once');
      // The interleaving happened as intended: in each sink subtask, checkpoint 2's pre-commit settled first.
      for (const sub of subs) {
        const released = events.filter((x): x is Extract<HeldEvent, { e: 'released' }> => x.e === 'released' && x.sub === sub).map((x) => x.id);
        assert.deepEqual(released, [2, 1], `sink subtask ${sub}: pre-commits settled in the order 2, 1`);
      }

      // End of input: the job finishes without committing anything a second time.
      remote.send({ e: 'end' });
      const result = await handle.done;
      remote.watch(undefined);
      // A writer's `closed` is its last report: every commit it made is in.
      await remote.until(() => remote.subtasks('closed') === PARALLELISM);
      assert.equal(result.status, 'finished');
      assert.equal(result.checkpoints, 1, 'checkpoint 2 completed; checkpoint 1 was aborted');
      assert.equal(result.recordsRead, all.length);
      for (const f of events.filter((x): x is Extract<HeldEvent, { e: 'finish' }> => x.e === 'finish')) {
        assert.equal(f.preCommitsHeld, 0, `sink subtask ${f.sub} finished with a pre-commit still held`);
      }
      assert.deepEqual(committed(), all, 'over the whole run, every record was committed exactly once');
    } finally {
      remote.close();
    }
  });
}
