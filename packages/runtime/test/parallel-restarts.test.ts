/**
 * Restarts on worker threads under periodic checkpoints: for each seed of a fixed list (override with
 * MILLRACE_PARALLEL_SEEDS=1,2,3), the sources stop at a seeded point until a checkpoint completed, then a failure
 * happens at a seeded random record read after that point — a user function that throws, or a worker thread that
 * exits — under a restart strategy; the committed output must equal the run straight through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJob, type CheckpointInfo, type JobHandle, type RunOptions } from '@millrace/runtime';
import { assertMatchesReference, assertPerKeyOrder, outputOf, referenceJob, waitForFiles, type Output } from './fixtures/parallel-kit.ts';
import { COUNT_DEFAULT } from './fixtures/parallel-reference-data.ts';

const SEEDS = (process.env.MILLRACE_PARALLEL_SEEDS ?? '7,11,23,42').split(',').map((s) => Number(s.trim()));
const base = mkdtempSync(join(tmpdir(), 'millrace-parallel-restarts-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

/** A linear congruential generator: the same failure points on every machine for the same seed. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

const strategies: Array<NonNullable<RunOptions['restart']>> = [
  { type: 'fixed-delay', attempts: 3, delay: 10 },
  { type: 'exponential-backoff', attempts: 3, initialDelay: 5, maxDelay: 50 },
  { type: 'failure-rate', maxFailures: 2, interval: '1m', delay: 10 },
];

let golden: Output;

/** A checkpoint on demand; while a periodic one is in progress, tries again once the event loop turned. */
async function checkpointNow(handle: JobHandle): Promise<CheckpointInfo> {
  for (;;) {
    try {
      return await handle.checkpoint();
    } catch (e) {
      if (!/still in progress/.test((e as Error).message)) throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}

const SPLITS = 8;
const BATCH = 512; // the reference job's batch size: what a source subtask reads from one split at a time

test('the reference run straight through (this thread)', async () => {
  const out = join(base, 'golden');
  const r = await runJob(await referenceJob({ PJ_OUT: out, PJ_PARALLELISM: '1' }), { workers: 0 }).done;
  assert.equal(r.status, 'finished');
  golden = outputOf(out);
  assertMatchesReference(golden);
});

SEEDS.forEach((seed, n) => {
  const kind = n % 2 === 0 ? 'throw' : 'exit';
  const what = kind === 'throw' ? 'a user function throws' : 'a worker thread exits';
  test(`seed ${seed}: ${what} at a random record under periodic checkpoints; the restarted job commits the same output, no loss, no duplicates`, async (t) => {
    assert.ok(Number.isInteger(seed), `seeds are integers, got ${seed}`);
    const rnd = random(seed);
    const parallelism = Math.floor(n / 2) % 2 === 0 ? 2 : 4; // both kinds of failure at both parallelisms
    const strategy = strategies[Math.floor(rnd() * strategies.length)]!;
    // A source subtask reads its splits in turn, a batch at a time: stopping after 2k batches per split, every split
    // has been read up to 2k × 512; the failure comes at a random record of a random split beyond that.
    const k = 1 + Math.floor(rnd() * 4);
    const perSplit = 2 * k * BATCH;
    const gateAt = perSplit * (SPLITS / parallelism);
    const splitLength = COUNT_DEFAULT / SPLITS;
    const at = Math.floor(rnd() * SPLITS) * splitLength + perSplit + Math.floor(rnd() * (splitLength - perSplit));
    const out = join(base, `seed-${seed}`);
    const marker = join(base, `seed-${seed}-failed-once`);
    const gate = join(base, `seed-${seed}-gate`);
    mkdirSync(gate, { recursive: true });
    const job = await referenceJob({
      PJ_OUT: out,
      PJ_PARALLELISM: String(parallelism),
      PJ_CHECKPOINT_MS: '25',
      PJ_GATE_DIR: gate,
      PJ_GATE_AT: String(gateAt),
      ...(kind === 'throw' ? { PJ_FAIL_AT: String(at), PJ_FAIL_MARKER: marker } : { PJ_EXIT_AT: String(at), PJ_EXIT_MARKER: marker }),
    });
    const logs: string[] = [];
    const handle = runJob(job, { workers: 2, checkpoints: join(base, `seed-${seed}-checkpoints`), restart: strategy, log: (m) => logs.push(m) });
    await waitForFiles(gate, Array.from({ length: parallelism }, (_, i) => `reached-${i}`));
    const cp = await checkpointNow(handle);
    assert.ok(!existsSync(marker), 'no failure before the gate opens');
    writeFileSync(join(gate, 'open'), '');
    const r = await handle.done;
    const context = `record ${at}, parallelism ${parallelism}, gate at ${gateAt}, ${strategy.type}:\n${logs.join('\n')}`;
    assert.ok(existsSync(marker), `the failure happened (${context})`);
    assert.equal(r.status, 'finished');
    assert.equal(r.restarts, 1, context);
    assert.match(logs.join('\n'), kind === 'throw' ? new RegExp(`injected failure at record ${at}`) : /worker [01] of job 'parallel-reference' stopped/, context);
    const restart = logs.find((l) => /restarting from checkpoint (\d+)/.test(l));
    assert.ok(restart && Number(/restarting from checkpoint (\d+)/.exec(restart)![1]) >= cp.checkpointId, `it restarts from checkpoint ${cp.checkpointId} or a later one (${context})`);
    t.diagnostic(`record ${at}, parallelism ${parallelism}: ${restart}`);
    const o = outputOf(out);
    for (const sink of Object.keys(golden) as Array<keyof Output>) assert.deepEqual(o[sink], golden[sink], `${sink} equals the run straight through (${context})`);
    assertPerKeyOrder(out);
  });
});
