/**
 * Metrics per operator and subtask carry the last completed checkpoint's figures: how long the subtask took to
 * acknowledge it, and the bytes of its state. In one thread and on worker threads (where the coordinator adds them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMetrics, runJob } from '@millrace/runtime';
import { referenceJob } from './fixtures/parallel-kit.ts';

for (const workers of [0, 2]) {
  test(`metrics rows show the last checkpoint's time to acknowledge and state bytes per subtask (workers: ${workers})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'millrace-ckpt-metrics-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const job = await referenceJob({ PJ_OUT: join(dir, 'out'), PJ_PARALLELISM: '2' });
    const handle = runJob(job, { workers, checkpoints: join(dir, 'ckpt') });
    const before = handle.metrics();
    assert.ok(before.every((r) => r.lastCheckpointAckMs === undefined), 'no figures before a checkpoint completed');
    const r = await handle.done;
    assert.equal(r.status, 'finished');
    // The final checkpoint is the last completed one: every subtask acknowledged it and has state bytes in it.
    const last = handle.lastCheckpoint();
    assert.ok(last?.final, 'the last checkpoint is the final one');
    assert.equal(r.metrics.length, last.subtasks.length);
    for (const row of r.metrics) {
      assert.ok(row.lastCheckpointAckMs !== undefined && row.lastCheckpointAckMs >= 0, `${row.uid}#${row.subtask} has a time to acknowledge`);
      assert.ok(row.lastCheckpointBytes !== undefined && row.lastCheckpointBytes > 0, `${row.uid}#${row.subtask} has state bytes`);
    }
    // A keyed step with state per key holds more than a stateless chain's empty snapshot.
    const bytes = (uid: string) => r.metrics.filter((x) => x.uid === uid).reduce((n, x) => n + x.lastCheckpointBytes!, 0);
    const byUid = new Map(r.metrics.map((x) => [x.uid, bytes(x.uid)]));
    assert.ok(byUid.get('runs')! > Math.min(...byUid.values()), `the keyed process function holds state: ${JSON.stringify([...byUid])}`);
    // The sizes add up to what was written for the operators they cover.
    assert.ok([...byUid.values()].reduce((a, b) => a + b, 0) <= last.sizeBytes);
    const table = formatMetrics(r.metrics);
    assert.match(table.split('\n')[0]!, /ckpt ms\s+ckpt bytes$/);
  });
}
