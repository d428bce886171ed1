/**
 * The final checkpoint of a bounded job: once every subtask finished, the job takes one more checkpoint (sources at
 * their end, every sink's final cut) and commits it before it reports done. A restore from it commits the same
 * committables again (idempotent) and the job ends at once, writing nothing. In one thread and on worker threads.
 * (The final cut used to be committed outside any checkpoint: a restart after a crash at the very end restored an
 * earlier checkpoint and replayed the end of the input.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStorage, LocalFileSystem, runJob } from '@millrace/runtime';
import job, { PER_SUBTASK as perSubtask, type HeldEvent } from './fixtures/held-pre-commit-job.ts';
import { HeldSinkRemote } from './fixtures/held-sink-remote.ts';

const base = mkdtempSync(join(tmpdir(), 'millrace-final-checkpoint-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

type Commit = Extract<HeldEvent, { e: 'commit' }>;

for (const workers of [0, 2]) {
  test(`a bounded job ends with a final checkpoint; a restore from it commits again and outputs nothing (${workers === 0 ? 'one thread' : 'worker threads'})`, { timeout: 120_000 }, async () => {
    const remote = new HeldSinkRemote();
    const { events } = remote;
    try {
      const dir = join(base, `w${workers}`);
      const storage = new CheckpointStorage(new LocalFileSystem(dir), '/held-pre-commit');

      // Run 1: both subtasks write their records, then the input ends.
      const first = runJob(job, { workers, checkpoints: dir });
      remote.watch(first.done);
      await remote.until(() => remote.subtasks('wrote') === 2);
      remote.send({ e: 'end' });
      const result = await first.done;
      remote.watch(undefined);
      await remote.until(() => remote.subtasks('finish') === 2);
      assert.equal(result.status, 'finished');
      assert.equal(result.checkpoints, 1, 'the final checkpoint is the only one');
      assert.equal(first.lastCheckpoint()?.final, true);

      // Storage holds it: sources at their end, each sink's final cut (all its records: no barrier came before).
      const cp = await storage.latest();
      assert.ok(cp, 'a completed checkpoint in storage');
      assert.equal(cp.metadata.final, true);
      assert.equal(cp.metadata.checkpointId, first.lastCheckpoint()?.checkpointId);
      const positions = (cp.operators.get('numbers') ?? []).map((s) => (s.snapshot.operator as { position: unknown }).position);
      assert.deepEqual(positions, [{ emitted: true }, { emitted: true }], 'both sources at their end');
      const cuts = (cp.operators.get('held') ?? []).map((s) => [s.subtask, s.committables]);
      const mine = (sub: number): number[] => Array.from({ length: perSubtask }, (_, i) => sub * perSubtask + i);
      assert.deepEqual(cuts, [[0, mine(0)], [1, mine(1)]], 'each sink subtask holds its final cut');

      // Every sink committed its final cut before it finished, after the checkpoint was written.
      for (const sub of [0, 1]) {
        const own = events.filter((x) => x.sub === sub);
        const commit = own.findIndex((x) => x.e === 'commit' && x.ids.length > 0);
        assert.ok(commit >= 0 && commit < own.findIndex((x) => x.e === 'finish'), `sink ${sub} committed before it finished`);
        assert.deepEqual((own[commit] as Commit).ids, mine(sub));
      }

      // Run 2 restores it: the sinks commit the same committables again, the sources are at their end.
      const seen = events.length;
      const logs: string[] = [];
      const second = runJob(job, { workers, checkpoints: dir, restore: 'latest', log: (m) => logs.push(m) });
      remote.watch(second.done);
      const restoredCommits = (): Commit[] => events.slice(seen).filter((x): x is Commit => x.e === 'commit' && x.ids.length > 0);
      await remote.until(() => new Set(restoredCommits().map((x) => x.sub)).size === 2);
      // The source of the test waits for the end of its input even when restored at its end.
      remote.send({ e: 'end' });
      const again = await second.done;
      remote.watch(undefined);
      await remote.until(() => events.slice(seen).filter((x) => x.e === 'finish').length === 2);
      for (const sub of [0, 1]) assert.deepEqual(restoredCommits().filter((x) => x.sub === sub).map((x) => x.ids), [mine(sub)], `sink ${sub} committed its final cut again on restore, once`);
      assert.equal(events.slice(seen).filter((x) => x.e === 'wrote').length, 0, 'nothing written again');
      assert.equal(again.recordsRead, 0);
      assert.match(logs.join('\n'), new RegExp(`restored 'held-pre-commit' from .*chk-${cp.metadata.checkpointId} .*the final checkpoint of a run that finished`));
      const next = await storage.latest();
      assert.equal(next?.metadata.final, true);
      assert.ok(next!.metadata.checkpointId > cp.metadata.checkpointId, 'run 2 ends with a final checkpoint of its own');
      assert.deepEqual((next!.operators.get('held') ?? []).flatMap((s) => s.committables ?? []), [[], []].flat(), 'holding no output');
    } finally {
      remote.close();
    }
  });
}

test('without checkpoint storage the final cut is committed directly, with no checkpoint', async () => {
  const remote = new HeldSinkRemote();
  try {
    const handle = runJob(job, { workers: 0 });
    remote.watch(handle.done);
    await remote.until(() => remote.subtasks('wrote') === 2);
    remote.send({ e: 'end' });
    const result = await handle.done;
    remote.watch(undefined);
    // In this path each sink commits its final cut after it finished (reports cross the channel in order per sink).
    await remote.until(() => new Set(remote.events.filter((x) => x.e === 'commit' && x.ids.length > 0).map((x) => x.sub)).size === 2);
    assert.equal(result.checkpoints, 0);
    assert.equal(handle.lastCheckpoint(), undefined);
    const committed = remote.events.flatMap((x) => (x.e === 'commit' ? x.ids : [])).sort((a, b) => a - b);
    assert.deepEqual(committed, Array.from({ length: 2 * perSubtask }, (_, i) => i));
  } finally {
    remote.close();
  }
});
