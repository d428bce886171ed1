import type { AdminClient, KafkaClient } from './client.js';
import { resolveConnection, type KafkaConnectionOptions } from './connection.js';
import { describeKafkaError, KafkaConnectorError } from './errors.js';
import { kafkajsClient } from './kafkajs-client.js';

/** The client of a connection: the configured one, or kafkajs. */
export function clientFor(opts: KafkaConnectionOptions): KafkaClient {
  const conn = resolveConnection(opts);
  return (opts.client ?? kafkajsClient)(conn);
}

/**
 * Polls `probe` every `everyMs` until it returns a value other than `undefined`, or fails with `what` after
 * `timeoutMs`. For state the broker reaches after a call returns (leaders of new topics, say).
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new KafkaConnectorError('client', `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until every partition of `topic` has a leader (after creating it: the broker settles after the call). */
export async function waitForLeaders(admin: AdminClient, topic: string, partitions: number, timeoutMs = 30_000): Promise<void> {
  await pollUntil(async () => {
    const ps = await admin.partitions(topic);
    return ps.length >= partitions && ps.every((p) => p.leader >= 0) ? true : undefined;
  }, `leaders of the ${partitions} partition(s) of topic '${topic}'`, timeoutMs);
}

/**
 * Creates topics that do not exist yet and waits until each partition has a leader. Existing topics are left as
 * they are. (kafkajs's own `waitForLeaders` gives up on a KRaft broker's first UNKNOWN_TOPIC_OR_PARTITION, so this
 * polls metadata instead.)
 */
export async function createTopics(
  conn: KafkaConnectionOptions,
  topics: ReadonlyArray<{ readonly topic: string; readonly partitions: number; readonly config?: Record<string, string> }>,
  opts: { readonly timeoutMs?: number } = {},
): Promise<void> {
  const client = clientFor(conn);
  const admin = client.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      try {
        await admin.createTopics(missing);
      } catch (e) {
        if (!/TOPIC_ALREADY_EXISTS|already exists/i.test(String((e as Error)?.message) + String((e as { type?: string })?.type))) throw e;
      }
    }
    for (const t of topics) await waitForLeaders(admin, t.topic, t.partitions, opts.timeoutMs);
  } catch (e) {
    throw describeKafkaError(e, `creating topic(s) ${topics.map((t) => `'${t.topic}'`).join(', ')}`, client.brokers);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
