import { Kafka, logLevel, type Consumer, type KafkaConfig, type Producer, type SASLOptions } from 'kafkajs';
import type {
  AdminClient, ConsumerClient, HeaderValue, ConsumerHandlers, ConsumerOptions, FetchedMessage, KafkaClient, ProducerClient,
  ProducerOptions, ProducerTransaction, TopicMessages, TopicPartition,
} from './client.js';
import type { ResolvedConnection } from './connection.js';

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;

const toBuffer = (v: Uint8Array | string | null): Buffer | string | null =>
  v === null || typeof v === 'string' || Buffer.isBuffer(v) ? (v as Buffer | string | null) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

type KafkajsMessage = { key: Buffer | string | null; value: Buffer | string | null; partition: number | undefined; headers: Record<string, Buffer | string> | undefined; timestamp: string | undefined };

function toKafkaMessages(b: TopicMessages): { topic: string; messages: KafkajsMessage[] } {
  const ms = b.messages;
  const out = new Array<KafkajsMessage>(ms.length);
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    // One object shape for every record (absent fields undefined, which kafkajs treats as absent).
    out[i] = {
      key: toBuffer(m.key),
      value: toBuffer(m.value),
      partition: m.partition,
      headers: m.headers ? headersOf(m.headers) : undefined,
      timestamp: m.timestamp !== undefined ? String(m.timestamp) : undefined,
    };
  }
  return { topic: b.topic, messages: out };
}

function headersOf(h: Readonly<Record<string, HeaderValue>>): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const k of Object.keys(h)) out[k] = toBuffer(h[k]!) as Buffer | string;
  return out;
}

/**
 * The kafkajs 2.2.4 implementation of the client adapter. Keeps kafkajs's retries on (they cover the transient
 * coordinator errors a fresh Kafka 4.x broker returns) and maps its events to the adapter's callbacks.
 */
export function kafkajsClient(conn: ResolvedConnection): KafkaClient {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const config: KafkaConfig = {
    clientId: conn.clientId,
    brokers: [...conn.brokers],
    connectionTimeout: conn.connectionTimeoutMs,
    logLevel: LEVELS[conn.clientLogLevel],
    retry: { retries: conn.retry.retries, initialRetryTime: conn.retry.initialRetryTimeMs, maxRetryTime: conn.retry.maxRetryTimeMs },
    ...(conn.ssl !== undefined ? { ssl: conn.ssl as KafkaConfig['ssl'] } : {}),
    ...(conn.sasl !== undefined ? { sasl: conn.sasl as unknown as SASLOptions } : {}),
  };
  const kafka = (clientId: string): Kafka => new Kafka({ ...config, clientId });
  return {
    brokers: conn.brokers,
    admin: () => adminOf(kafka(conn.clientId)),
    consumer: (opts) => consumerOf(kafka(opts.clientId), opts),
    producer: (opts) => producerOf(kafka(opts.clientId), opts),
  };
}

function adminOf(kafka: Kafka): AdminClient {
  const admin = kafka.admin();
  return {
    connect: () => admin.connect(),
    disconnect: () => admin.disconnect(),
    listTopics: () => admin.listTopics(),
    async partitions(topic) {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return md.topics[0]!.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader }));
    },
    async topicOffsets(topic) {
      const o = await admin.fetchTopicOffsets(topic);
      return o.map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
    },
    async offsetsForTimestamp(topic, timestamp) {
      const o = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
      return o.map((p) => ({ partition: p.partition, offset: Number(p.offset) }));
    },
    async committedOffsets(groupId, topics) {
      const r = await admin.fetchOffsets({ groupId, topics: [...topics] });
      return r.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })));
    },
    async groupMemberClientIds(groupId) {
      const d = await admin.describeGroups([groupId]);
      const g = d.groups[0];
      // Members of a group that is still rebalancing may not have their partitions yet: report none until it is stable.
      if (!g || g.state !== 'Stable') return [];
      return g.members.map((m) => m.clientId);
    },
    async createTopics(topics) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, ...(t.config ? { configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })) } : {}) })),
      });
    },
    deleteTopics: (topics) => admin.deleteTopics({ topics: [...topics] }),
  };
}

const NO_HEADERS: FetchedMessage['headers'] = Object.freeze({});

/**
 * Waits for `held` while heartbeating, so a long backpressure wait does not cost the group membership. Stops waiting
 * when a heartbeat fails (a rebalance is under way: kafkajs rejoins once eachBatch returns) or the consumer stops; the
 * records were handed over already, so returning early loses nothing.
 */
async function holdWithHeartbeats(held: Promise<void>, heartbeat: () => Promise<void>, isRunning: () => boolean, everyMs: number): Promise<void> {
  let settled = false;
  const done = held.then(() => { settled = true; }, () => { settled = true; });
  while (!settled) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise<void>((r) => { timer = setTimeout(r, everyMs); })]);
    clearTimeout(timer);
    if (settled || !isRunning()) return;
    try {
      await heartbeat();
    } catch {
      return;
    }
  }
}

function consumerOf(kafka: Kafka, opts: ConsumerOptions): ConsumerClient {
  const heartbeatMs = Math.max(500, Math.floor(opts.sessionTimeoutMs / 5));
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    readUncommitted: !opts.readCommitted,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: heartbeatMs,
    metadataMaxAge: opts.metadataMaxAgeMs,
    allowAutoTopicCreation: false,
    // kafkajs also sleeps this long before fetching again while every partition is paused (resolving start offsets).
    maxWaitTimeInMs: opts.fetchMaxWaitMs ?? 100,
    minBytes: opts.fetchMinBytes ?? 1,
    ...(opts.maxBytesPerPartition ? { maxBytesPerPartition: opts.maxBytesPerPartition } : {}),
    // A crash fails the source (and the job, which restarts from its checkpoint): no silent re-join with lost state.
    retry: { restartOnFailure: async () => false },
  });
  const tpList = (tps: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> => {
    const by = new Map<string, number[]>();
    for (const tp of tps) {
      let l = by.get(tp.topic);
      if (!l) by.set(tp.topic, (l = []));
      l.push(tp.partition);
    }
    return [...by].map(([topic, partitions]) => ({ topic, partitions }));
  };
  return {
    connect: () => consumer.connect(),
    disconnect: () => consumer.disconnect(),
    async subscribe(topics) {
      await consumer.subscribe(topics instanceof RegExp ? { topics: [topics], fromBeginning: true } : { topics: [...topics], fromBeginning: true });
    },
    async run(h: ConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const assigned: TopicPartition[] = [];
        for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) for (const partition of parts) assigned.push({ topic, partition });
        h.onAssignment(assigned);
      });
      // Batches that held only transaction markers or aborted records never reach eachBatch; their end does.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        if (e.payload.batchSize === 0) h.onBatch({ topic: e.payload.topic, partition: e.payload.partition }, [], Number(e.payload.lastOffset) + 1);
      });
      consumer.on(consumer.events.CRASH, (e) => h.onCrash(e.payload.error));
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, heartbeat, isRunning }) => {
          const ms = batch.messages;
          const out = new Array<FetchedMessage>(ms.length);
          for (let i = 0; i < ms.length; i++) {
            const m = ms[i]!;
            out[i] = { offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key ?? null, value: m.value ?? null, headers: (m.headers ?? NO_HEADERS) as FetchedMessage['headers'] };
          }
          const held = h.onBatch({ topic: batch.topic, partition: batch.partition }, out, Number(batch.lastOffset()) + 1);
          // Backpressure: kafkajs fetches again only when eachBatch returns, so waiting here holds the next fetch
          // (pausing instead would make kafkajs discard fetched data and sleep maxWaitTimeInMs once all are paused).
          if (held) await holdWithHeartbeats(held, heartbeat, isRunning, heartbeatMs);
        },
      });
    },
    seek: (tp, offset) => consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) }),
    pause: (tps) => consumer.pause(tpList(tps)),
    resume: (tps) => consumer.resume(tpList(tps)),
    async commitOffsets(offsets) {
      await consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
    },
  };
}

function producerOf(kafka: Kafka, opts: ProducerOptions): ProducerClient {
  const producer: Producer = kafka.producer({
    idempotent: opts.idempotent,
    maxInFlightRequests: opts.idempotent ? 1 : 5,
    allowAutoTopicCreation: false,
    ...(opts.transactionalId ? { transactionalId: opts.transactionalId, transactionTimeout: opts.transactionTimeoutMs ?? 60_000 } : {}),
  });
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(batches) {
      if (batches.length === 0) return;
      await producer.sendBatch({ topicMessages: batches.map(toKafkaMessages), acks: -1 });
    },
    async transaction(): Promise<ProducerTransaction> {
      const tx = await producer.transaction();
      return {
        send: async (b) => { await tx.send({ ...toKafkaMessages(b), acks: -1 }); },
        sendOffsets: (groupId, offsets) => tx.sendOffsets({ consumerGroupId: groupId, topics: tpOffsets(offsets) }),
        commit: () => tx.commit(),
        abort: () => tx.abort(),
      };
    },
  };
}

function tpOffsets(offsets: ReadonlyArray<TopicPartition & { offset: number }>): Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> {
  const by = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const o of offsets) {
    let l = by.get(o.topic);
    if (!l) by.set(o.topic, (l = []));
    l.push({ partition: o.partition, offset: String(o.offset) });
  }
  return [...by].map(([topic, partitions]) => ({ topic, partitions }));
}
