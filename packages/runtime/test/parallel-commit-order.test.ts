/**
 * On worker threads a checkpoint is committed in two rounds: every worker's sinks, then every worker's sources (which
 * commit Kafka offsets to the group). A source told first could report progress for output a sink on another worker
 * has not committed yet; a crash in between would lose that output for an instance taking over the partitions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJob } from '@millrace/runtime';

test('sources hear that a checkpoint completed only after the sinks of every worker committed it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'millrace-commit-order-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'log');
  process.env.COMMIT_ORDER_LOG = logFile;
  const { default: job, COUNT } = await import('./fixtures/commit-order-job.ts');
  const r = await runJob(job, { workers: 2, checkpoints: join(dir, 'ckpt'), checkpointInterval: 20 }).done;
  assert.equal(r.recordsRead, COUNT);
  const lines = readFileSync(logFile, 'utf8').trim().split('\n');
  const notifies = lines.map((l, i) => ({ l, i })).filter((x) => x.l.startsWith('notify '));
  const finalId = Math.max(...notifies.map((x) => Number(x.l.split(' ')[1])));
  const firstFinalNotify = notifies.find((x) => Number(x.l.split(' ')[1]) === finalId)!.i;
  // The final checkpoint commits both sinks' final cuts; both commits come before any source hears of it.
  for (const s of [0, 1]) {
    const at = lines.findIndex((l) => l.startsWith(`commit sink-${s} `) && l.split(' ')[2]!.split(',').includes('final'));
    assert.ok(at >= 0 && at < firstFinalNotify, `sink ${s} committed its final cut before the sources heard of checkpoint ${finalId}:\n${lines.join('\n')}`);
  }
  // And for every checkpoint: no commit of its output (or older output) after a source heard it completed.
  for (const n of notifies) {
    const id = Number(n.l.split(' ')[1]);
    for (const later of lines.slice(n.i + 1).filter((l) => l.startsWith('commit '))) {
      const ids = later.split(' ')[2]!.split(',').filter((x) => x !== 'final').map(Number);
      assert.ok(ids.every((c) => c > id), `'${later}' comes after '${n.l}':\n${lines.join('\n')}`);
    }
  }
});
