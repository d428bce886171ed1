/**
 * A checkpoint still in flight when the last subtask finishes: its sinks pre-committed, the checkpoint not yet
 * complete. The job must not report done before that checkpoint completed and committed, in one thread and on worker
 * threads alike, and its summary counts it. (On worker threads the final commit used to run at once: a pre-commit
 * still doing I/O was left uncommitted, the checkpoint was written after the job ended, and the summary said 0.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runJob } from '@millrace/runtime';
import job, { PER_SUBTASK as perSubtask, type HeldEvent } from './fixtures/held-pre-commit-job.ts';
import { HeldSinkRemote } from './fixtures/held-sink-remote.ts';

for (const workers of [0, 2]) {
  test(`a checkpoint in flight at end of input completes and commits before the job is done (${workers === 0 ? 'one thread' : 'worker threads'})`, { timeout: 120_000 }, async () => {
    const remote = new HeldSinkRemote();
    const { events } = remote;
    const until = remote.until.bind(remote);
    const send = remote.send.bind(remote);
    const count = (e: HeldEvent['e']): number => remote.subtasks(e);
    try {
      const logs: string[] = [];
      const handle = runJob(job, {
        workers,
        log: (message) => {
          logs.push(message);
          // The engine says it holds the final commit back for the checkpoint: now let the pre-commits finish.
          if (/final commit waits for checkpoint/.test(message)) send({ e: 'release' });
        },
      });
      remote.watch(handle.done);
      await until(() => count('wrote') === 2);
      const checkpoint = handle.checkpoint();
      checkpoint.catch(() => {});
      await until(() => count('pre-commit') === 2);
      // Input ends while both pre-commits of checkpoint 1 are held.
      send({ e: 'end' });
      const result = await handle.done;
      // The sinks' reports cross a channel of their own: wait until both reported their finish (each sink's reports
      // arrive in order).
      remote.watch(undefined);
      await until(() => count('finish') === 2);

      const finishes = events.filter((x): x is Extract<HeldEvent, { e: 'finish' }> => x.e === 'finish');
      assert.equal(finishes.length, 2);
      for (const f of finishes) assert.equal(f.preCommitsHeld, 0, `sink ${f.sub} finished while its pre-commit of checkpoint 1 was still held`);
      const committed = events.flatMap((x) => (x.e === 'commit' ? x.ids : []));
      const expected = Array.from({ length: 2 * perSubtask }, (_, i) => i);
      assert.deepEqual([...new Set(committed)].sort((a, b) => a - b), expected, 'every record is committed');
      // Every commit came before the sink finished (commits of the final cut may follow, idempotent and empty here).
      for (const sub of [0, 1]) {
        const mine = events.filter((x) => x.sub === sub);
        const finishAt = mine.findIndex((x) => x.e === 'finish');
        const commitOfCheckpoint = mine.findIndex((x) => x.e === 'commit' && x.ids.length > 0);
        assert.ok(commitOfCheckpoint >= 0 && commitOfCheckpoint < finishAt, `sink ${sub} committed checkpoint 1 before it finished`);
      }
      // The checkpoint settled before the job reported done (an already settled promise wins the race).
      const info = await Promise.race([checkpoint, Promise.resolve('still in progress' as const)]);
      assert.notEqual(info, 'still in progress', 'checkpoint 1 was still in progress when the job reported done');
      assert.equal(typeof info === 'object' && info.checkpointId, 1);
      assert.equal(result.status, 'finished');
      assert.equal(result.checkpoints, 1, 'the summary counts the checkpoint that completed at the end');
      assert.equal(result.recordsRead, 2 * perSubtask);
      assert.ok(logs.some((l) => /final commit waits for checkpoint 1/.test(l)), logs.join('\n'));
    } finally {
      remote.close();
    }
  });
}
