/**
 * Savepoints on worker threads: one taken on demand from a running job starts a changed job (a stateless step added,
 * the uids of stateful steps kept) at other parallelisms — through `runJob` and through `millrace run
 * --from-savepoint` — with the output of an uninterrupted run; a job that lost a stateful step refuses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runJob, type CheckpointInfo } from '@millrace/runtime';
import { assertMatchesReference, lines, outputOf, RECORDS, referenceJob, waitForFiles, type Output } from './fixtures/parallel-kit.ts';

const base = mkdtempSync(join(tmpdir(), 'millrace-parallel-savepoint-'));
test.after(() => rmSync(base, { recursive: true, force: true }));
const checkpoints = join(base, 'checkpoints');
const first = join(base, 'first');
const jobFile = fileURLToPath(new URL('./fixtures/parallel-job.ts', import.meta.url));
const millrace = fileURLToPath(new URL('../../cli/bin/millrace.js', import.meta.url));

let golden: Output;
let savepoint: CheckpointInfo;

test('the reference run straight through (this thread)', async () => {
  const out = join(base, 'golden');
  await runJob(await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '1' }), { workers: 0 }).done;
  golden = outputOf(out);
  assertMatchesReference(golden);
});

test('a savepoint is taken on demand from a job running on worker threads, and kept apart from checkpoints', async () => {
  const gate = join(base, 'gate');
  mkdirSync(gate, { recursive: true });
  const handle = runJob(await referenceJob({ PJ_OUT: first, PJ_PARALLELISM: '2', PJ_GATE_DIR: gate, PJ_GATE_AT: '12000' }), { workers: 2, checkpoints });
  await waitForFiles(gate, ['reached-0', 'reached-1']);
  savepoint = await handle.savepoint();
  await handle.cancel();
  assert.match(savepoint.path ?? '', /^\/parallel-reference\/savepoint-\d+$/);
  const meta = JSON.parse(readFileSync(join(checkpoints, savepoint.path!, '_metadata.json'), 'utf8')) as { savepoint: boolean; operators: Array<{ uid: string }> };
  assert.equal(meta.savepoint, true);
  assert.ok(['sums', 'runs', 'late-sums', 'src', 'late-src'].every((u) => meta.operators.some((o) => o.uid === u)), 'the savepoint holds every stateful step by uid');
  assert.ok(lines(join(first, 'sums')).length > 0 && lines(join(first, 'sums')).length < golden.sums.length, 'the first run committed part of its output');
});

test('a changed job (a stateless step added) starts from the savepoint at parallelism 4 and equals the uninterrupted run', async () => {
  const out = join(base, 'changed-p4');
  cpSync(first, out, { recursive: true });
  const logs: string[] = [];
  const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '4', PJ_EXTRA_STEP: '1' });
  assert.ok(job.plan().nodes.some((n) => n.name === 'extra-step'), 'the job is changed');
  const r = await runJob(job, { workers: 2, checkpoints, restore: savepoint.path!, log: (m) => logs.push(m) }).done;
  assert.match(logs.join('\n'), new RegExp(`restored 'parallel-reference' from .*savepoint-${savepoint.checkpointId}`));
  assert.ok(r.recordsRead < RECORDS, 'it resumed where the savepoint left off');
  assert.deepEqual(outputOf(out), golden);
});

test('millrace run --from-savepoint starts the changed job from the savepoint at parallelism 1', async () => {
  const out = join(base, 'changed-cli');
  cpSync(first, out, { recursive: true });
  const env = { ...process.env, PJ_OUT: out, PJ_EXTRA_STEP: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('PJ_') && k !== 'PJ_OUT' && k !== 'PJ_EXTRA_STEP') delete env[k];
  const { stderr } = await promisify(execFile)(process.execPath, [
    millrace, 'run', jobFile, '--parallelism', '1', '--checkpoint-dir', checkpoints, '--from-savepoint', savepoint.path!,
  ], { env, encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.match(stderr, new RegExp(`restored 'parallel-reference' from .*savepoint-${savepoint.checkpointId}`));
  assert.deepEqual(outputOf(out), golden);
});

test('a job that lost a stateful step refuses the savepoint, naming the uids whose state it would drop', async () => {
  const out = join(base, 'dropped');
  cpSync(first, out, { recursive: true });
  const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '2', PJ_DROP_RUNS: '1' });
  assert.ok(!job.plan().nodes.some((n) => n.uid === 'runs'));
  await assert.rejects(runJob(job, { workers: 2, checkpoints, restore: savepoint.path! }).done, (e: Error) => {
    assert.match(e.message, /the checkpoint has state for uid\(s\) .*'runs'.*which the job no longer has/);
    return true;
  });
  assert.deepEqual(outputOf(out), outputOf(first), 'nothing was committed');
});

test('with allowNonRestoredState the job that lost a stateful step drops its state, says so, and the other outputs equal the uninterrupted run', async () => {
  const out = join(base, 'dropped-allowed');
  cpSync(first, out, { recursive: true });
  const job = await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '2', PJ_DROP_RUNS: '1' });
  const logs: string[] = [];
  const r = await runJob(job, { workers: 2, checkpoints, restore: savepoint.path!, allowNonRestoredState: true, log: (m) => logs.push(m) }).done;
  assert.equal(r.status, 'finished');
  assert.match(logs.join('\n'), /dropping the state of uid\(s\) .*'runs'.* which the job no longer has \(allowNonRestoredState\)/);
  const o = outputOf(out);
  // 'zeros' is a side output of the dropped step.
  for (const sink of Object.keys(golden) as Array<keyof Output>) if (sink !== 'runs' && sink !== 'zeros') assert.deepEqual(o[sink], golden[sink], sink);
});
