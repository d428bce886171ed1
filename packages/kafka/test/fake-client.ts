/** An in-memory Kafka behind the client adapter: topics, one-member groups, committed offsets, transactions. */
import type { ConsumerHandlers, FetchedMessage, KafkaClient, OutgoingMessage, TopicPartition } from '../src/client.ts';

export class FakeKafka {
  readonly logs = new Map<string, FetchedMessage[][]>();
  readonly committed = new Map<string, number>(); // `${group}|${topic}|${partition}`
  transactions = 0;
  readonly members = new Set<string>();
  /** Records per partition in one delivery (a fetch); unlimited by default. */
  fetchMaxRecords = Number.POSITIVE_INFINITY;
  /** Records delivered to consumers so far. */
  delivered = 0;
  /** Deliveries the consumer answered with backpressure (a promise) so far. */
  holds = 0;
  /** True while a consumer waits for such a promise before fetching again. */
  holding = false;
  /** The next this many offset requests fail with a retriable error (as a topic whose leaders are settling). */
  offsetsFailures = 0;
  /** Called when a consumer starts to wait for backpressure, and when the wait ends. */
  onHold: ((holding: boolean) => void) | undefined;
  /** While set, connecting an admin client waits for it (a broker that does not answer yet). */
  connectGate: Promise<void> | undefined;
  /** While set, committed-offset lookups wait for it. */
  lookupGate: Promise<void> | undefined;
  /** Admin calls in order (`committedOffsets`, `committedOffsets done`, `disconnect`). */
  readonly adminCalls: string[] = [];
  /** The handlers of the last consumer that ran: a test reassigns partitions through them (a rebalance). */
  handlers: ConsumerHandlers | undefined;
  createTopic(topic: string, partitions: number): void {
    this.logs.set(topic, Array.from({ length: partitions }, () => []));
  }
  append(topic: string, partition: number, value: string | null, key: string | null = null): void {
    const log = this.logs.get(topic)![partition]!;
    log.push({ offset: log.length, timestamp: 1000 + log.length, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: {} });
  }
  private write(topic: string, ms: readonly OutgoingMessage[]): void {
    for (const m of ms) {
      const toBuf = (x: Uint8Array | string | null): Buffer | null => (x === null ? null : Buffer.from(x as string));
      const log = this.logs.get(topic)![m.partition ?? 0]!;
      log.push({ offset: log.length, timestamp: m.timestamp ?? 0, key: toBuf(m.key), value: toBuf(m.value), headers: {} });
    }
  }
  client(): KafkaClient {
    const k = this;
    return {
      brokers: ['fake:9092'],
      admin: () => ({
        connect: async () => { await k.connectGate; }, disconnect: async () => { k.adminCalls.push('disconnect'); },
        listTopics: async () => [...k.logs.keys()],
        partitions: async (t) => k.logs.get(t)!.map((_, partition) => ({ partition, leader: 1 })),
        topicOffsets: async (t) => {
          if (k.offsetsFailures > 0) {
            k.offsetsFailures--;
            throw Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable: true });
          }
          return k.logs.get(t)!.map((l, partition) => ({ partition, low: 0, high: l.length }));
        },
        offsetsForTimestamp: async (t, ts) => k.logs.get(t)!.map((l, partition) => ({ partition, offset: l.findIndex((m) => m.timestamp >= ts) < 0 ? l.length : l.findIndex((m) => m.timestamp >= ts) })),
        committedOffsets: async (g, topics) => {
          k.adminCalls.push('committedOffsets');
          await k.lookupGate;
          k.adminCalls.push('committedOffsets done');
          return topics.flatMap((t) => k.logs.get(t)!.map((_, partition) => ({ topic: t, partition, offset: k.committed.get(`${g}|${t}|${partition}`) ?? -1 })));
        },
        groupMemberClientIds: async () => [...k.members],
        createTopics: async (ts) => { for (const t of ts) k.createTopic(t.topic, t.partitions); },
        deleteTopics: async () => {},
      }),
      consumer: (opts) => {
        let topics: string[] = [];
        const pos = new Map<string, number>();
        let h: ConsumerHandlers | undefined;
        // Like kafkajs: the next fetch waits until the handler's promise (backpressure) settled.
        const deliver = async (): Promise<void> => {
          for (const t of topics) {
            const logs = k.logs.get(t)!;
            for (let partition = 0; partition < logs.length; partition++) {
              const log = logs[partition]!;
              const from = pos.get(`${t}|${partition}`) ?? 0;
              if (from >= log.length) continue;
              const to = Math.min(log.length, from + k.fetchMaxRecords);
              pos.set(`${t}|${partition}`, to);
              k.delivered += to - from;
              const held = h!.onBatch({ topic: t, partition }, log.slice(from, to), to);
              if (held) {
                k.holds++;
                k.holding = true;
                k.onHold?.(true);
                await held;
                k.holding = false;
                k.onHold?.(false);
              }
            }
          }
        };
        return {
          connect: async () => { k.members.add(opts.clientId); }, disconnect: async () => { k.members.delete(opts.clientId); topics = []; },
          subscribe: async (ts) => { topics = [...(ts as string[])]; },
          run: async (handlers) => {
            h = handlers;
            k.handlers = handlers;
            const all: TopicPartition[] = topics.flatMap((t) => k.logs.get(t)!.map((_, partition) => ({ topic: t, partition })));
            handlers.onAssignment(all);
            setImmediate(function poll() { void deliver().then(() => { if (topics.length) setTimeout(poll, 5); }); });
          },
          seek: (tp, offset) => { pos.set(`${tp.topic}|${tp.partition}`, offset); },
          pause: () => {}, resume: () => {},
          commitOffsets: async (offs) => { for (const o of offs) k.committed.set(`${opts.groupId}|${o.topic}|${o.partition}`, o.offset); },
        };
      },
      producer: () => ({
        connect: async () => {}, disconnect: async () => {},
        send: async (bs) => { for (const b of bs) k.write(b.topic, b.messages); },
        transaction: async () => {
          const pending: Array<() => void> = [];
          return {
            send: async (b) => { pending.push(() => k.write(b.topic, b.messages)); },
            sendOffsets: async (g, offs) => { pending.push(() => { for (const o of offs) k.committed.set(`${g}|${o.topic}|${o.partition}`, o.offset); }); },
            commit: async () => { k.transactions++; for (const p of pending) p(); },
            abort: async () => {},
          };
        },
      }),
    };
  }
}
