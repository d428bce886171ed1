/**
 * Jobs on worker threads: the same results at parallelism 1, 2 and 4 (windows, a process function with timers and a
 * side output, dead letters, late records); restart from the last checkpoint after an injected failure; rescaling a
 * checkpoint taken at parallelism 2 to 1 and 4; starting a changed job from it; backpressure (bounded batches in
 * flight); a dying worker thread; a job built differently in a worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobDefinition } from '@millrace/core';
import { runJob, type JobHandle, type RunOptions } from '@millrace/runtime';
import { assertMatchesReference, assertPerKeyOrder, lines, outputOf, RECORDS, referenceJob, waitForFiles, type Output } from './fixtures/parallel-kit.ts';

const base = mkdtempSync(join(tmpdir(), 'millrace-parallel-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

function start(job: JobDefinition, opts: RunOptions): JobHandle {
  return runJob(job, opts);
}

let golden: Output;

test('the same job gives the same results at parallelism 1 (this thread), 2 and 4 (two worker threads): windows, timers, side outputs, dead letters', async () => {
  const runs: Array<[string, Output]> = [];
  for (const [parallelism, workers] of [[1, 0], [2, 2], [4, 2]] as const) {
    const out = join(base, `golden-${parallelism}`);
    const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: String(parallelism) });
    const r = await start(job, { workers }).done;
    assert.equal(r.status, 'finished');
    assert.equal(r.recordsRead, RECORDS);
    assert.equal(r.workers, workers);
    runs.push([`p${parallelism}`, outputOf(out)]);
    assertPerKeyOrder(out);
  }
  golden = runs[0]![1];
  assert.ok(golden.sums.length > 1_000 && golden.runs.length > 100, 'the reference output is substantial');
  // Not empty: side outputs and dead letters are compared with something in them.
  assert.deepEqual([golden.zeros.length, golden.dead.length, golden.late.length], [396, 40, 18]);
  assertMatchesReference(golden);
  for (const [name, o] of runs) assert.deepEqual(o, golden, `${name} equals parallelism 1`);
});

test('after a failure in a worker, the job restarts from its last completed checkpoint: no loss, no duplicates', async () => {
  // Both source subtasks stop at a gate after 12 000 records each; a checkpoint is taken there; then the gate opens
  // and a user function throws at a seeded random record read after the gate (in the last 1 500 records of a split).
  let seed = 7;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const split = Math.floor(rnd() * 8);
  const failAt = split * 5_000 + 3_500 + Math.floor(rnd() * 1_500);
  const out = join(base, 'restart');
  const gate = join(base, 'restart-gate');
  await import('node:fs/promises').then((f) => f.mkdir(gate, { recursive: true }));
  const marker = join(base, 'restart-failed-once');
  const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '2', PJ_FAIL_AT: String(failAt), PJ_FAIL_MARKER: marker, PJ_GATE_DIR: gate, PJ_GATE_AT: '12000' });
  const logs: string[] = [];
  const handle = start(job, { workers: 2, restart: { type: 'fixed-delay', attempts: 3, delay: 10 }, log: (m) => logs.push(m) });
  await waitForFiles(gate, ['reached-0', 'reached-1']);
  const cp = await handle.checkpoint();
  assert.ok(lines(join(out, 'sums')).length > 0, 'the checkpoint committed output');
  writeFileSync(join(gate, 'open'), '');
  const r = await handle.done;
  assert.ok(existsSync(marker), `the injected failure at record ${failAt} happened`);
  assert.equal(r.restarts, 1);
  assert.match(logs.join('\n'), new RegExp(`injected failure at record ${failAt}.*restarting from checkpoint ${cp.checkpointId}`));
  assert.ok(r.checkpoints >= 1 && cp.checkpointId === 1);
  assert.deepEqual(outputOf(out), golden);
});

test("a failure before any checkpoint restarts from the beginning, and the failed attempt's output is removed", async () => {
  const out = join(base, 'restart-early');
  const marker = join(base, 'restart-early-failed-once');
  const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '2', PJ_FAIL_AT: '30000', PJ_FAIL_MARKER: marker });
  const logs: string[] = [];
  const r = await start(job, { workers: 2, restart: { type: 'exponential-backoff', attempts: 2, initialDelay: 5, maxDelay: 50 }, log: (m) => logs.push(m) }).done;
  assert.ok(existsSync(marker));
  assert.equal(r.restarts, 1);
  assert.match(logs.join('\n'), /restarting from the beginning/);
  assert.deepEqual(outputOf(out), golden);
});

test('a worker thread that exits fails the job with an error naming the job and the worker', async () => {
  const job = await referenceJob({ PJ_OUT: join(base, 'exit'), PJ_PARALLELISM: '2', PJ_EXIT_AT: '5000' });
  await assert.rejects(start(job, { workers: 2 }).done, /worker [01] of job 'parallel-reference' stopped/);
});

test('a checkpoint taken at parallelism 2 restores at parallelism 1 and 4, and into a changed job with the same uids', async () => {
  const gate = join(base, 'gate');
  const checkpoints = join(base, 'rescale-checkpoints');
  const first = join(base, 'rescale-first');
  rmSync(gate, { recursive: true, force: true });
  await import('node:fs/promises').then((f) => f.mkdir(gate, { recursive: true }));
  const job = await referenceJob({ PJ_OUT: first, PJ_PARALLELISM: '2', PJ_GATE_DIR: gate, PJ_GATE_AT: '12000' });
  const handle = start(job, { workers: 2, checkpoints });
  await waitForFiles(gate, ['reached-0', 'reached-1']);
  // Metrics are readable while the job runs: a fresh report from every worker.
  const rows = await handle.currentMetrics();
  const sourceIn = rows.filter((m) => m.uid === 'src').reduce((n, m) => n + m.recordsIn, 0);
  assert.equal(sourceIn, 24_000, 'the metrics show both source subtasks stopped at the gate');
  const cp = await handle.checkpoint();
  assert.ok(handle.lastCheckpoint()?.sizeBytes! > 0 && handle.lastCheckpoint()?.checkpointId === cp.checkpointId);
  await handle.cancel();
  assert.ok(cp.path, 'the checkpoint was written');
  assert.ok(lines(join(first, 'sums')).length < golden.sums.length, 'the first run stopped part-way');

  for (const [name, parallelism, workers, extra] of [['p1', 1, 0, false], ['p4', 4, 2, false], ['changed', 2, 2, true]] as const) {
    const out = join(base, `rescale-${name}`);
    cpSync(first, out, { recursive: true });
    const resumed = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: String(parallelism), ...(extra ? { PJ_EXTRA_STEP: '1' } : {}) });
    const r = await start(resumed, { workers, checkpoints, restore: join(checkpoints, 'parallel-reference', `chk-${cp.checkpointId}`).slice(checkpoints.length) }).done;
    assert.equal(r.status, 'finished');
    assert.ok(r.recordsRead < RECORDS, `${name} resumed where the checkpoint left off`);
    assert.deepEqual(outputOf(out), golden, `${name} equals the uninterrupted run`);
  }
});

test('backpressure: a slow sink holds the source back; batches in flight stay within the credits', async () => {
  const { default: job, COUNT } = await import('./fixtures/slow-sink-job.ts');
  const handle = runJob(job, { workers: 2, credits: 4 });
  const r = await handle.done;
  assert.equal(r.recordsRead, COUNT);
  const inFlight = handle.maxInFlightBatches();
  assert.ok(inFlight >= 1 && inFlight <= 4, `at most 4 batches in flight per channel, saw ${inFlight}`);
});

test('a job whose plan differs in a worker thread fails with an error naming the job file and the step', async () => {
  const { default: job } = await import('./fixtures/misbuilt-job.ts');
  const file = fileURLToPath(new URL('./fixtures/misbuilt-job.ts', import.meta.url));
  await assert.rejects(runJob(job, { workers: 2 }).done, (e: Error) => {
    assert.match(e.message, /was built differently in a worker thread: step #2 is 'out' \(sink, uid 'out'\) on the main thread but 'map' \(map, uid 'map-2'\) in the worker.*A job is a module/);
    assert.ok(e.message.includes(file), `the message names the job file ${file}: ${e.message}`);
    return true;
  });
});
