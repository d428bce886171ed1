/**
 * Restarts on worker threads under periodic checkpoints: for each seed of a fixed list (override with
 * MILLRACE_PARALLEL_SEEDS=1,2,3), a failure at a seeded random record — a user function that throws, or a worker
 * thread that exits — and a restart strategy; the committed output must equal the run straight through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJob, type RunOptions } from '@millrace/runtime';
import { assertMatchesReference, assertPerKeyOrder, outputOf, referenceJob, type Output } from './fixtures/parallel-kit.ts';
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
  test(`seed ${seed}: ${what} at a random record under periodic checkpoints; the restarted job commits the same output, no loss, no duplicates`, async () => {
    assert.ok(Number.isInteger(seed), `seeds are integers, got ${seed}`);
    const rnd = random(seed);
    const at = Math.floor(rnd() * COUNT_DEFAULT);
    const parallelism = rnd() < 0.5 ? 2 : 4;
    const strategy = strategies[Math.floor(rnd() * strategies.length)]!;
    const out = join(base, `seed-${seed}`);
    const marker = join(base, `seed-${seed}-failed-once`);
    const job = await referenceJob({
      PJ_OUT: out,
      PJ_PARALLELISM: String(parallelism),
      PJ_CHECKPOINT_MS: '25',
      ...(kind === 'throw' ? { PJ_FAIL_AT: String(at), PJ_FAIL_MARKER: marker } : { PJ_EXIT_AT: String(at), PJ_EXIT_MARKER: marker }),
    });
    const logs: string[] = [];
    const r = await runJob(job, { workers: 2, checkpoints: join(base, `seed-${seed}-checkpoints`), restart: strategy, log: (m) => logs.push(m) }).done;
    const context = `record ${at}, parallelism ${parallelism}, ${strategy.type}:\n${logs.join('\n')}`;
    assert.ok(existsSync(marker), `the failure happened (${context})`);
    assert.equal(r.status, 'finished');
    assert.equal(r.restarts, 1, context);
    assert.match(logs.join('\n'), kind === 'throw' ? new RegExp(`injected failure at record ${at}`) : /worker [01] of job 'parallel-reference' stopped/, context);
    assert.match(logs.join('\n'), /restarting (from checkpoint \d+|from the beginning)/, context);
    const o = outputOf(out);
    for (const k of Object.keys(golden) as Array<keyof Output>) assert.deepEqual(o[k], golden[k], `${k} equals the run straight through (${context})`);
    assertPerKeyOrder(out);
  });
});
