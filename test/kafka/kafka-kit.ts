/**
 * Helpers of the Kafka integration tests: unique names, producing test events, an independent read_committed
 * reader (a bare kafkajs consumer, not the connector), running a job file as a child process, and probes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createTopics } from '@millrace/kafka';
import { useDevServices, type DevServicesLease } from '@millrace/devservices';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** A name unique to this run: `<prefix>-<random>`. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

import { waitFor } from '../probe.ts';

export { seeded, waitFor } from '../probe.ts';

export function kafka(brokers: readonly string[]): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({ clientId: 'millrace-test', brokers: [...brokers], logLevel: logLevel.NOTHING });
}

/** Creates topics (waiting for leaders). */
export async function topics(brokers: readonly string[], ...specs: Array<[string, number]>): Promise<void> {
  await createTopics({ brokers }, specs.map(([topic, partitions]) => ({ topic, partitions })));
}

/** Produces JSON values (keyed by `key(v)`) with an idempotent producer. */
export async function produce<T>(brokers: readonly string[], topic: string, values: readonly T[], key: (v: T) => string, raw?: (v: T) => string): Promise<void> {
  const p = kafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    for (let i = 0; i < values.length; i += 2000) {
      await p.send({ topic, acks: -1, messages: values.slice(i, i + 2000).map((v) => ({ key: key(v), value: raw ? raw(v) : JSON.stringify(v) })) });
    }
  } finally {
    await p.disconnect();
  }
}

/** A record read back by {@link TopicReader}. */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
}

/** Reads a whole topic from the beginning with a fresh group, read_committed, collecting every record. */
export class TopicReader {
  readonly records: ReadRecord[] = [];
  private consumer: Consumer | undefined;
  /** `readUncommitted` also reads open and aborted transactions' records (for diagnostics). */
  constructor(private readonly brokers: readonly string[], readonly topic: string, private readonly readUncommitted = false) {}
  async start(): Promise<this> {
    const c = (this.consumer = kafka(this.brokers).consumer({ groupId: unique('reader'), readUncommitted: this.readUncommitted, maxWaitTimeInMs: 200 }));
    await c.connect();
    await c.subscribe({ topics: [this.topic], fromBeginning: true });
    await c.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
        this.records.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
      },
    });
    return this;
  }
  json<T>(): T[] {
    return this.records.map((r) => JSON.parse(r.value!) as T);
  }
  async waitForCount(n: number, timeoutMs = 120_000): Promise<void> {
    await waitFor(() => this.records.length >= n, `${n} records in topic '${this.topic}' (have ${this.records.length})`, timeoutMs);
  }
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/**
 * For a failure message: where each partition of `topic` stands (log end offset), what the test's reader got from
 * it, and what fresh read_committed and read_uncommitted consumers see within `scanMs`. Tells a job that stopped
 * writing (few records at all) from output held back by an open transaction (uncommitted records past what
 * read_committed sees) and from a reader that stopped reading (a fresh read_committed consumer sees more).
 */
export async function describeTopic(brokers: readonly string[], topic: string, reader: TopicReader | undefined, scanMs = 10_000): Promise<string> {
  const lines: string[] = [];
  try {
    const admin = kafka(brokers).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      const byPart = (rs: readonly ReadRecord[] | undefined): Map<number, { n: number; max: number }> => {
        const m = new Map<number, { n: number; max: number }>();
        for (const r of rs ?? []) {
          const x = m.get(r.partition) ?? { n: 0, max: -1 };
          m.set(r.partition, { n: x.n + 1, max: Math.max(x.max, r.offset) });
        }
        return m;
      };
      const scan = async (readUncommitted: boolean): Promise<Map<number, { n: number; max: number }>> => {
        const fresh = await new TopicReader(brokers, topic, readUncommitted).start();
        try {
          // Diagnostics only: read for a while, then report what was read.
          await new Promise((r) => setTimeout(r, scanMs));
        } finally {
          await fresh.stop();
        }
        return byPart(fresh.records);
      };
      const [committed, uncommitted] = [await scan(false), await scan(true)];
      const mine = byPart(reader?.records);
      for (const e of [...ends].sort((a, b) => a.partition - b.partition)) {
        const f = (m: Map<number, { n: number; max: number }>): string => { const x = m.get(e.partition); return x ? `${x.n} (last offset ${x.max})` : '0'; };
        lines.push(`  partition ${e.partition}: log end offset ${e.high}; the test's reader got ${f(mine)}; a fresh read_committed consumer ${f(committed)}; read_uncommitted ${f(uncommitted)}`);
      }
    } finally {
      await admin.disconnect();
    }
  } catch (e) {
    lines.push(`  (could not describe the topic: ${(e as Error).message})`);
  }
  return `topic '${topic}':\n${lines.join('\n')}`;
}

/** A job file running in a child process (`millrace run`). */
export interface JobProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Runs `millrace run <file> <args>` with extra environment variables. */
export function runJobFile(file: string, args: readonly string[], env: Record<string, string>): JobProcess {
  const child = spawn(process.execPath, [join(ROOT, 'packages/cli/bin/millrace.js'), 'run', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // KAFKA_TEST_LOG_DIR keeps every job process's whole output in a file (e.g. with KAFKAJS_LOG_LEVEL=info).
  const logDir = process.env.KAFKA_TEST_LOG_DIR;
  const logFile = logDir ? join(logDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${child.pid}.log`) : undefined;
  if (logFile) appendFileSync(logFile, `$ millrace run ${file} ${args.join(' ')}\n`);
  const take = (d: Buffer): void => {
    out += d.toString();
    if (logFile) appendFileSync(logFile, d);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** Completed checkpoints (directories with `_metadata.json`) of a job under a checkpoint directory. */
export function completedCheckpoints(dir: string, jobName: string): number[] {
  const d = join(dir, jobName);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .map((n) => /^chk-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(d, m[0], '_metadata.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Checks the output by content: every input id once, and each key numbered 1..k without gaps or repeats. */
export function checkExactlyOnce(out: ReadonlyArray<{ id: number; key: string; n: number }>, total: number): void {
  const seen = new Map<number, number>();
  for (const r of out) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  const dup = [...seen].filter(([, c]) => c > 1).map(([id]) => id);
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (!seen.has(i)) missing.push(i);
  assert.deepEqual({ duplicates: dup.slice(0, 10), missing: missing.slice(0, 10) }, { duplicates: [], missing: [] }, `output has ${dup.length} duplicated and ${missing.length} missing ids`);
  const byKey = new Map<string, number[]>();
  for (const r of out) (byKey.get(r.key) ?? byKey.set(r.key, []).get(r.key)!).push(r.n);
  for (const [key, ns] of byKey) {
    ns.sort((a, b) => a - b);
    ns.forEach((n, i) => assert.equal(n, i + 1, `key ${key}: numbers ${ns.slice(Math.max(0, i - 2), i + 3).join(',')} (state lost or a record replayed)`));
  }
}

/** Leases the dev Kafka for a test file: started (or reused) before its tests, released after them. */
export function leaseKafka(onReady: (brokers: string[]) => void): void {
  let services: DevServicesLease | undefined;
  before(async () => {
    services = await useDevServices({ hdfs: false });
    onReady([...services.kafka!.brokers]);
  });
  after(() => services?.close());
}
