/**
 * Exactly once at the very end of a bounded job: the exactly-once Kafka sink's job runs to the end of its input and
 * its process SIGKILLs itself after the job reported done (everything committed) and before it exits; a restart
 * from the latest checkpoint must write nothing again. A read_committed reader then sees every result exactly once.
 * (The final cut used to be committed outside any checkpoint, so the restart restored an earlier checkpoint,
 * replayed the end of the input and wrote it a second time.) In one thread and on worker threads; without periodic
 * checkpoints (the final checkpoint is the only one: the restart used to replay the whole input) and with them.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@millrace/devservices';
import { checkExactlyOnce, completedCheckpoints, kafka, produce, topics, TopicReader, unique, waitFor, ROOT, leaseKafka } from './kafka-kit.ts';

let brokers: string[];
leaseKafka((b) => { brokers = b; });

const RUNNER = join(ROOT, 'test/kafka/jobs/run-to-end.ts');
const EVENTS = 3000;
const OUT_PARTITIONS = 3;

/** Runs the counting job to the end of its input in a child process. */
function runToEnd(dir: string, workers: number, intervalMs: number | undefined, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, dir, String(workers), intervalMs === undefined ? 'none' : String(intervalMs)], {
    cwd: ROOT,
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('exit', (code, signal) => { ended = { code, signal }; });
  // Waits for the exit on a probe, so that a run that never ends fails with its output.
  const exited = pollUntil(async () => ended, {
    what: 'the job process to exit', timeoutMs: 120_000, intervalMs: 50, hint: 'The job did not end; its output is below.', describeFailure: async () => out.slice(-6000),
  }).finally(() => { if (!ended) child.kill('SIGKILL'); });
  return { exited, output: () => out };
}

for (const [workers, intervalMs] of [[0, undefined], [2, undefined], [0, 200], [2, 200]] as const) {
  const how = `${workers === 0 ? 'one thread' : 'worker threads'}, ${intervalMs === undefined ? 'no periodic checkpoints' : `checkpoints every ${intervalMs} ms`}`;
  it(`exactly-once, bounded (${how}): a SIGKILL after the final commit, then a restart, writes every result once (read_committed)`, { timeout: 300_000 }, async () => {
    const input = unique('final-in');
    const output = unique('final-out');
    await topics(brokers, [input, 4], [output, OUT_PARTITIONS]);
    const events = Array.from({ length: EVENTS }, (_, id) => ({ id, key: `k${id % 13}` }));
    await produce(brokers, input, events, (e) => e.key);
    const dir = await mkdtemp(join(tmpdir(), 'millrace-final-checkpoint-'));
    const reader = await new TopicReader(brokers, output).start();
    const env = {
      KAFKA_IN: input, KAFKA_OUT: output, KAFKA_GROUP: unique('final-group'), KAFKA_GUARANTEE: 'exactly-once', KAFKA_BOUNDED: '1',
      KAFKA_TXN_PREFIX: unique('final-txn'), MILLRACE_KAFKA_BROKERS: brokers.join(','),
    };
    try {
      // Run 1 reads everything, commits, reports done, and is killed before it exits.
      const first = runToEnd(dir, workers, intervalMs, { ...env, KILL_AFTER_DONE: '1' });
      const ended = await first.exited;
      assert.equal(ended.signal, 'SIGKILL', `run 1 was to kill itself after it finished:\n${first.output()}`);
      assert.match(first.output(), new RegExp(`^finished: ${EVENTS} records read`, 'm'), `run 1 was killed only after the job reported done:\n${first.output()}`);
      const checkpoints = completedCheckpoints(dir, 'kafka-counting');
      assert.ok(checkpoints.length > 0, `run 1 left a checkpoint:\n${first.output()}`);
      const meta = JSON.parse(await readFile(join(dir, 'kafka-counting', `chk-${checkpoints.at(-1)}`, '_metadata.json'), 'utf8')) as { final?: boolean };
      assert.equal(meta.final, true, `the latest checkpoint of run 1 is its final checkpoint:\n${first.output()}`);

      // Run 2 restores the latest checkpoint and runs to its end.
      const second = runToEnd(dir, workers, intervalMs, env);
      const again = await second.exited;
      assert.equal(again.code, 0, `run 2 failed:\n${second.output()}`);
      assert.match(second.output(), /restored 'kafka-counting' from .*: the final checkpoint of a run that finished/, second.output());
      assert.match(second.output(), /^finished: 0 records read/m, `run 2 read nothing again:\n${second.output()}`);

      // Everything either run committed is before a sentinel written to each partition after run 2 exited: once the
      // reader saw every sentinel, it saw all of it.
      const producer = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({ topic: output, acks: -1, messages: Array.from({ length: OUT_PARTITIONS }, (_, p) => ({ partition: p, value: JSON.stringify({ sentinel: p }) })) });
      } finally {
        await producer.disconnect();
      }
      const sentinel = (v: string | null): boolean => v !== null && v.startsWith('{"sentinel"');
      await waitFor(() => new Set(reader.records.filter((r) => sentinel(r.value)).map((r) => r.partition)).size === OUT_PARTITIONS, `a sentinel from each of the ${OUT_PARTITIONS} partitions of '${output}'`);
      const results = reader.records.filter((r) => !sentinel(r.value)).map((r) => JSON.parse(r.value!) as { id: number; key: string; n: number });
      checkExactlyOnce(results, EVENTS);
      assert.equal(results.length, EVENTS);
    } finally {
      await reader.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
