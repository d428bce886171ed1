import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkExactlyOnce, completedCheckpoints, describeTopic, produce, runJobFile, seeded, topics, TopicReader, unique, waitFor, ROOT, leaseKafka } from './kafka-kit.ts';

let brokers: string[];
leaseKafka((b) => { brokers = b; });

const JOB = join(ROOT, 'test/kafka/jobs/counting-job.ts');
const EVENTS = Number(process.env.KAFKA_EOS_EVENTS ?? 6000);
const KILLS = Number(process.env.KAFKA_EOS_KILLS ?? 4);
const SEED = Number(process.env.KAFKA_EOS_SEED ?? 20261125);

// Kills once some new output is visible (anywhere in a run); right after a checkpoint's metadata appears, i.e. often
// while its transactions are being committed; and each kill one or the other at random.
for (const mode of ['after new output', 'right after a checkpoint', 'of both kinds'] as const) {
it(`exactly-once: ${KILLS} SIGKILLs of the job process at seeded points ${mode} (seed ${SEED}), verified by content with read_committed`, { timeout: 900_000 }, async () => {
  const rnd = seeded(SEED);
  const input = unique('eos-in');
  const output = unique('eos-out');
  const group = unique('eos-group');
  await topics(brokers, [input, 4], [output, 3]);
  const events = Array.from({ length: EVENTS }, (_, id) => ({ id, key: `k${id % 13}` }));
  // Half the input before the first start, the rest while the job runs and gets killed.
  await produce(brokers, input, events.slice(0, EVENTS / 2), (e) => e.key);
  const dir = await mkdtemp(join(tmpdir(), 'millrace-kafka-eos-'));
  const reader = await new TopicReader(brokers, output).start();
  // The transactional id prefix is the test's own (every run of the job in it keeps it, as a restarted instance must),
  // so that test runs sharing a broker do not fence each other.
  const env = { KAFKA_IN: input, KAFKA_OUT: output, KAFKA_GROUP: group, KAFKA_GUARANTEE: 'exactly-once', KAFKA_TXN_PREFIX: unique('eos-txn'), MILLRACE_KAFKA_BROKERS: brokers.join(',') };
  // A checkpoint stuck for 2 minutes fails the run with the subtasks it waited for, rather than leaving it silent.
  const args = ['--parallelism', '2', '--checkpoint-dir', dir, '--checkpoint-interval', '300ms', '--checkpoint-timeout', '2m', '--restore', 'latest'];
  try {
    let producedRest = false;
    for (let k = 0; k < KILLS; k++) {
      const job = runJobFile(JOB, args, env);
      // Checkpoint ids go on across restores; only the newest few directories are kept, so compare ids, not counts.
      const before = completedCheckpoints(dir, 'kafka-counting').at(-1) ?? 0;
      const seen = reader.records.length;
      // Seeded kill points, found by probes: after 1–3 new checkpoints, or once some new output is visible.
      const byCheckpoints = mode === 'right after a checkpoint' || (mode === 'of both kinds' && rnd() < 0.5);
      const target = byCheckpoints ? 1 + Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * 400);
      if (!producedRest && k === 1) {
        producedRest = true;
        void produce(brokers, input, events.slice(EVENTS / 2), (e) => e.key);
      }
      const what = `kill point ${k} (${byCheckpoints ? `${target} checkpoint(s)` : `${target} more output records`})`;
      // A run that exits on its own (it failed) ends the wait at once; a timeout or an exit shows the run's output.
      const exitedEarly = job.exited.then((code) => { throw new Error(`${what}: the job exited early (${code})`); });
      exitedEarly.catch(() => {});
      try {
        await Promise.race([exitedEarly, waitFor(() => (byCheckpoints
          ? (completedCheckpoints(dir, 'kafka-counting').at(-1) ?? 0) >= before + target || (completedCheckpoints(dir, 'kafka-counting').length > 0 && reader.records.length >= EVENTS)
          : reader.records.length >= Math.min(EVENTS, seen + target)), what, 180_000)]);
      } catch (e) {
        job.child.kill('SIGKILL');
        throw new Error(`${(e as Error).message}\n${await describeTopic(brokers, output, reader)}\nthis run's output:\n${job.output().slice(-8000)}`, { cause: e });
      }
      job.child.kill('SIGKILL');
      await job.exited;
    }
    if (!producedRest) await produce(brokers, input, events.slice(EVENTS / 2), (e) => e.key);
    // A last run finishes the input; then the output must be complete and exact.
    const last = runJobFile(JOB, args, env);
    try {
      await reader.waitForCount(EVENTS, 240_000).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await describeTopic(brokers, output, reader)}\nthe last run's output:\n${last.output().slice(-8000)}`, { cause: e });
      });
      // Wait for one more checkpoint so that anything pending would have been committed, then compare again.
      const n = completedCheckpoints(dir, 'kafka-counting').at(-1) ?? 0;
      await waitFor(() => (completedCheckpoints(dir, 'kafka-counting').at(-1) ?? 0) > n + 1, 'two more checkpoints');
      checkExactlyOnce(reader.json(), EVENTS);
      assert.equal(reader.records.length, EVENTS);
    } finally {
      last.child.kill('SIGKILL');
      await last.exited;
    }
  } finally {
    await reader.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
}
