/**
 * Jobs on worker threads: the same results at parallelism 1, 2 and 4; restart from the last checkpoint after an
 * injected failure; rescaling a checkpoint taken at parallelism 2 to 1 and 4; starting a changed job from it;
 * backpressure (bounded batches in flight); a dying worker thread; a job built differently in a worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobDefinition } from '@millrace/core';
import { runJob, type JobHandle, type RunOptions } from '@millrace/runtime';

const base = mkdtempSync(join(tmpdir(), 'millrace-parallel-'));
test.after(() => rmSync(base, { recursive: true, force: true }));
let loads = 0;

/** Imports the reference job with its environment (each import is a new module instance, also in the workers). */
async function referenceJob(env: Record<string, string>): Promise<JobDefinition> {
  for (const k of Object.keys(process.env)) if (k.startsWith('PJ_')) delete process.env[k];
  Object.assign(process.env, env);
  return (await import(`./fixtures/parallel-job.ts?load=${++loads}`)).default as JobDefinition;
}

function start(job: JobDefinition, opts: RunOptions): JobHandle {
  return runJob(job, opts);
}

function lines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => !f.startsWith('.')).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)).sort();
}
const outputOf = (out: string) => ({ sums: lines(join(out, 'sums')), runs: lines(join(out, 'runs')), late: lines(join(out, 'late')) });

function waitForFiles(dir: string, names: string[]): Promise<void> {
  return new Promise((resolve) => {
    const check = (): boolean => names.every((n) => existsSync(join(dir, n)));
    const w = watch(dir, () => { if (check()) { w.close(); resolve(); } });
    if (check()) { w.close(); resolve(); }
  });
}

let golden: ReturnType<typeof outputOf>;

test('the same job gives the same results at parallelism 1 (this thread), 2 and 4 (two worker threads)', async () => {
  const runs: Array<[string, ReturnType<typeof outputOf>]> = [];
  for (const [parallelism, workers] of [[1, 0], [2, 2], [4, 2]] as const) {
    const out = join(base, `golden-${parallelism}`);
    const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: String(parallelism) });
    const r = await start(job, { workers }).done;
    assert.equal(r.status, 'finished');
    assert.equal(r.recordsRead, 40_000);
    assert.equal(r.workers, workers);
    runs.push([`p${parallelism}`, outputOf(out)]);
  }
  golden = runs[0]![1];
  assert.ok(golden.sums.length > 1_000 && golden.runs.length > 100, 'the reference output is substantial');
  assert.deepEqual(golden.late, [], 'no record is late in this job, so results cannot depend on timing');
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
    assert.ok(r.recordsRead < 40_000, `${name} resumed where the checkpoint left off`);
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

test('a job whose plan differs in a worker thread fails with an error naming the step', async () => {
  const { default: job } = await import('./fixtures/misbuilt-job.ts');
  await assert.rejects(runJob(job, { workers: 2 }).done, /was built differently in a worker thread: step #2 is 'out' \(sink, uid 'out'\) on the main thread but 'map' \(map, uid 'map-2'\) in the worker.*A job is a module/);
});
