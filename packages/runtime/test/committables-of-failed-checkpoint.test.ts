/**
 * A checkpoint that fails after its sinks pre-committed (its storage write fails): its committables go into the next
 * checkpoint and are committed when that one completes, in one thread and on worker threads. (The next completed
 * checkpoint used to drop them: their output was never committed.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJob, LocalFileSystem } from '@millrace/runtime';
import job, { PER_SUBTASK as perSubtask } from './fixtures/held-pre-commit-job.ts';
import { HeldSinkRemote } from './fixtures/held-sink-remote.ts';

const base = mkdtempSync(join(tmpdir(), 'millrace-failed-checkpoint-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

/** A local file system on which every write into `chk-1/` fails. */
class FailingFirstCheckpoint extends LocalFileSystem {
  override async writeFile(path: string, data: Uint8Array): Promise<void> {
    if (path.includes('/chk-1/')) throw new Error(`injected write failure: ${path}`);
    return super.writeFile(path, data);
  }
}

for (const workers of [0, 2]) {
  test(`the committables of a failed checkpoint are committed with the next one (${workers === 0 ? 'one thread' : 'worker threads'})`, { timeout: 120_000 }, async () => {
    const remote = new HeldSinkRemote();
    const { events } = remote;
    const until = remote.until.bind(remote);
    const send = remote.send.bind(remote);
    try {
      const dir = join(base, `w${workers}`);
      const handle = runJob(job, { workers, checkpoints: { fs: new FailingFirstCheckpoint(dir), dir: '/' } });
      remote.watch(handle.done);
      await until(() => remote.subtasks('wrote') === 2);

      // Checkpoint 1: both sinks pre-commit every record, then its write fails.
      const first = handle.checkpoint();
      first.catch(() => {});
      await until(() => remote.subtasks('pre-commit', 1) === 2);
      send({ e: 'release' });
      await assert.rejects(first, /injected write failure/);

      // Checkpoint 2 (nothing new was written) holds and commits what checkpoint 1 pre-committed.
      const second = handle.checkpoint();
      second.catch(() => {});
      await until(() => remote.subtasks('pre-commit', 2) === 2);
      send({ e: 'release' });
      const info = await second;
      assert.equal(info.checkpointId, 2);
      const stored = (info.states.get('held') ?? []).flatMap((s) => (s.committables ?? []) as number[]).sort((a, b) => a - b);
      const all = Array.from({ length: 2 * perSubtask }, (_, i) => i);
      assert.deepEqual(stored, all, 'checkpoint 2 holds the committables of checkpoint 1');

      send({ e: 'end' });
      const result = await handle.done;
      remote.watch(undefined);
      await until(() => events.filter((x) => x.e === 'finish').length === 2);
      assert.equal(result.status, 'finished');
      assert.equal(result.checkpoints, 2, 'checkpoint 2, then the final checkpoint taken once the input ended');
      for (const sub of [0, 1]) {
        const mine = events.filter((x) => x.sub === sub);
        const commit = mine.findIndex((x) => x.e === 'commit' && x.ids.length > 0);
        const finalCut = mine.findIndex((x) => x.e === 'final-cut');
        assert.ok(commit >= 0 && commit < finalCut, `sink ${sub} committed checkpoint 1's records when checkpoint 2 completed, before its input ended`);
        const ids = mine.flatMap((x) => (x.e === 'commit' ? x.ids : []));
        assert.deepEqual([...new Set(ids)].sort((a, b) => a - b), all.slice(sub * perSubtask, (sub + 1) * perSubtask));
      }
    } finally {
      remote.close();
    }
  });
}
