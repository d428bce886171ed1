import { hostname } from 'node:os';
import { toMillis, type SourceBatch, type SourceReader, type SourceReaderContext } from '@millrace/core';
import type { AdminClient, ConsumerClient, FetchedMessage, KafkaClient, OutgoingMessage, ProducerClient, TopicPartition } from './client.js';
import { deadLetterMessage, rememberOrigin, type KafkaOrigin } from './dead-letter-format.js';
import { noticeIfSlow, SLOW_CONNECT_NOTICE_MS, stillConnecting } from './slow-notice.js';
import { describeKafkaError, KafkaConnectorError } from './errors.js';
import type { KafkaSourceOptions } from './kafka-source-options.js';
import type { Serde } from './serde.js';

/** How a record is decoded into what the source emits. */
export type RecordDecoder<T> = (m: FetchedMessage, tp: TopicPartition) => T | Promise<T>;

/** The position a Kafka source subtask stores in a checkpoint: the next offset to read, per partition. */
export interface KafkaPosition {
  readonly v: 1;
  /** `[topic, partition, nextOffset]` for every partition this subtask read (or was assigned) in the run. */
  readonly offsets: ReadonlyArray<readonly [string, number, number]>;
}

interface Chunk {
  readonly messages: readonly FetchedMessage[];
  i: number;
  readonly nextOffset: number;
}

interface PartitionState {
  readonly tp: TopicPartition;
  readonly key: string;
  readonly split: string;
  /** The next offset to emit; undefined until the start is known. */
  next: number | undefined;
  owned: boolean;
  /** Assigned, start being looked up: paused, nothing is emitted. */
  resolving: boolean;
  paused: boolean;
  queue: Chunk[];
  buffered: number;
  /** Releases the client's fetching, held while `buffered` is at the limit (backpressure). */
  release: (() => void) | undefined;
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** Checks that a restored position is a Kafka position. */
function asPosition(p: unknown, uid: string): KafkaPosition | undefined {
  if (p === undefined || p === null) return undefined;
  const x = p as KafkaPosition;
  if (x.v !== 1 || !Array.isArray(x.offsets)) {
    throw new KafkaConnectorError('config', `Kafka source '${uid}' cannot restore position ${JSON.stringify(p).slice(0, 200)}: it is not a Kafka source position (was the uid reused for another source?)`);
  }
  return x;
}

/**
 * One subtask of a Kafka source: a member of the consumer group that emits the records of the partitions the group
 * gave it, one partition per batch (split `${topic}-${partition}`, so watermarks are per partition).
 *
 * Positions are this reader's own: on every assignment it seeks each partition to the next offset it has emitted,
 * or for a partition new to it, to the largest of the checkpointed position (from any subtask) and the group's
 * committed offset, else to the configured start. Partitions are paused while that is looked up, so nothing is read
 * from an unknown position. With several subtasks, records flow only once all subtasks of this process joined the
 * group, so partitions do not move between them after records were emitted.
 */
export class KafkaSourceReader<T> implements SourceReader<T> {
  private readonly parts = new Map<string, PartitionState>();
  private readonly restored = new Map<string, number>();
  private restoredAny = false;
  private readonly snapshots = new Map<number, Array<[string, number, number]>>();
  private readonly ends = new Map<string, number>();
  private consumer: ConsumerClient | undefined;
  private admin: AdminClient | undefined;
  private dlq: ProducerClient | undefined;
  private opening: Promise<void> | undefined;
  private topics: string[] = [];
  private generation = 0;
  private gateOpen: boolean;
  private emittedAny = false;
  private crashed: unknown;
  private waiter: (() => void) | undefined;
  private rr = 0;
  private closed = false;
  private lastEndCheck = 0;
  private endConfirmed = false;
  private deadLettered = 0;
  private commitWarned = false;
  private readonly clientId: string;
  private readonly memberPrefix: string;
  private readonly log: (m: string) => void;
  private readonly maxBuffered: number;
  private readonly keepOrigins: boolean;

  constructor(
    private readonly ctx: SourceReaderContext,
    private readonly opts: KafkaSourceOptions<T>,
    private readonly client: KafkaClient,
    private readonly decode: RecordDecoder<T>,
  ) {
    this.memberPrefix = `${opts.clientId ?? 'millrace'}.${hostname()}.${process.pid}.${ctx.uid}.`;
    this.clientId = `${this.memberPrefix}${ctx.subtaskIndex}`;
    this.gateOpen = ctx.parallelism <= 1;
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.maxBuffered = opts.maxBufferedRecordsPerPartition ?? 8192;
    // Origins serve dead letters raised by later steps; a job that routes none to a sink does not pay for them.
    this.keepOrigins = opts.keepOrigins ?? ctx.deadLetters !== false;
    ctx.signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  private get where(): string {
    return `Kafka source '${this.ctx.uid}' (subtask ${this.ctx.subtaskIndex}, group '${this.opts.groupId}', brokers ${this.client.brokers.join(',')})`;
  }

  // ---- lifecycle ----

  restore(position: unknown, all: readonly unknown[]): void {
    this.restoredAny = true;
    for (const p of [position, ...all]) {
      const pos = asPosition(p, this.ctx.uid);
      if (!pos) continue;
      for (const [topic, partition, offset] of pos.offsets) {
        const k = tpKey(topic, partition);
        if ((this.restored.get(k) ?? -1) < offset) this.restored.set(k, offset);
      }
    }
  }

  private open(): Promise<void> {
    this.opening ??= this.doOpen().catch((e) => {
      throw describeKafkaError(e, `${this.where} could not start`, this.client.brokers);
    });
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const admin = (this.admin = this.client.admin());
    await noticeIfSlow(this.ctx.clock, SLOW_CONNECT_NOTICE_MS, () => this.log(stillConnecting(this.where, this.client.brokers)), admin.connect());
    const existing = await admin.listTopics();
    if (this.opts.topicPattern) {
      this.topics = existing.filter((t) => this.opts.topicPattern!.test(t));
      if (this.topics.length === 0) {
        throw new KafkaConnectorError('unknown-topic', `${this.where}: no topic matches ${this.opts.topicPattern} (topics: ${existing.slice(0, 20).join(', ') || 'none'}). Create a matching topic first, or fix the pattern.`);
      }
    } else {
      const missing = (this.opts.topics ?? []).filter((t) => !existing.includes(t));
      if (missing.length > 0) {
        throw new KafkaConnectorError('unknown-topic', `${this.where}: topic(s) ${missing.map((t) => `'${t}'`).join(', ')} do not exist. Create them first (e.g. createTopics from @millrace/kafka, or kafka-topics.sh --create), or check the names.`);
      }
      this.topics = [...(this.opts.topics ?? [])];
    }
    const dlt = this.opts.onDecodeError === 'dead-letter' ? this.opts.deadLetterTopic : undefined;
    if (dlt !== undefined && !existing.includes(dlt)) {
      // Checked now, not when the first bad record arrives (maybe hours later, after the producer's retries).
      throw new KafkaConnectorError('unknown-topic', `${this.where}: dead-letter topic '${dlt}' (onDecodeError: 'dead-letter') does not exist. Create it first (e.g. createTopics from @millrace/kafka, or kafka-topics.sh --create), or check the name.`);
    }
    if (this.opts.bounded) {
      for (const t of this.topics) for (const p of await admin.topicOffsets(t)) this.ends.set(tpKey(t, p.partition), p.high);
    }
    const sf = this.opts.startFrom;
    if (!this.restoredAny && (sf === 'latest' || (typeof sf === 'object' && sf !== null))) {
      // Fixed when the job starts, so partitions assigned later (rebalances) start from the same place.
      for (const t of this.topics) {
        const list = sf === 'latest'
          ? (await admin.topicOffsets(t)).map((p) => ({ partition: p.partition, offset: p.high }))
          : await admin.offsetsForTimestamp(t, sf.timestamp);
        for (const p of list) this.initial.set(tpKey(t, p.partition), p.offset);
      }
    }
    const consumer = (this.consumer = this.client.consumer({
      groupId: this.opts.groupId,
      clientId: this.clientId,
      readCommitted: this.opts.readCommitted ?? true,
      sessionTimeoutMs: this.opts.sessionTimeoutMs ?? 10_000,
      metadataMaxAgeMs: this.opts.partitionDiscoveryIntervalMs ?? 30_000,
      fetchMaxWaitMs: this.opts.fetchMaxWait === undefined ? 100 : toMillis(this.opts.fetchMaxWait, `Kafka source '${this.ctx.uid}' fetchMaxWait`),
      ...(this.opts.fetchMaxBytesPerPartition ? { maxBytesPerPartition: this.opts.fetchMaxBytesPerPartition } : {}),
    }));
    await consumer.connect();
    await consumer.subscribe(this.opts.topicPattern ? this.topics : this.topics);
    await consumer.run({
      onAssignment: (a) => this.onAssignment(a),
      onBatch: (tp, ms, next) => this.onBatch(tp, ms, next),
      onCrash: (e) => {
        this.crashed = describeKafkaError(e, `${this.where} stopped`, this.client.brokers);
        this.wake();
      },
    });
  }

  private readonly initial = new Map<string, number>();

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    for (const p of this.parts.values()) this.release(p);
    if (this.deadLettered > 0) this.log(`[millrace] ${this.where}: ${this.deadLettered} undecodable record(s) went to dead-letter topic '${this.opts.deadLetterTopic}'`);
    await this.opening?.catch(() => {});
    await this.consumer?.disconnect().catch(() => {});
    await this.dlq?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }

  /**
   * An admin lookup (start offsets, group members). One that ends after the close disconnects the admin client again:
   * the client connects again on demand, so a lookup a rebalance started during the close would otherwise leave a
   * connection open that keeps the process alive after the job finished. (Waiting for it in `close` instead could
   * hold a cancel for minutes of retries while a broker is down.)
   */
  private lookup<R>(work: () => Promise<R>): Promise<R> {
    const p = work();
    const again = (): void => { if (this.closed) void this.admin?.disconnect().catch(() => {}); };
    p.then(again, again);
    return p;
  }

  // ---- assignment ----

  private part(tp: TopicPartition): PartitionState {
    const key = tpKey(tp.topic, tp.partition);
    let p = this.parts.get(key);
    if (!p) {
      p = { tp: { topic: tp.topic, partition: tp.partition }, key, split: `${tp.topic}-${tp.partition}`, next: undefined, owned: false, resolving: false, paused: false, queue: [], buffered: 0, release: undefined };
      this.parts.set(key, p);
    }
    return p;
  }

  private onAssignment(assigned: readonly TopicPartition[]): void {
    // A rebalance while closing (the consumer rejoins as it stops): nothing is read any more.
    if (this.closed) return;
    const g = ++this.generation;
    const keys = new Set(assigned.map((tp) => tpKey(tp.topic, tp.partition)));
    if (g > 1) {
      // A rebalance after the first assignment: say what moved, so a takeover (or a lost partition) shows in the log.
      const before = [...this.parts.values()].filter((p) => p.owned);
      const gone = before.filter((p) => !keys.has(p.key)).map((p) => p.split);
      const added = assigned.filter((tp) => !before.some((p) => p.key === tpKey(tp.topic, tp.partition))).map((tp) => `${tp.topic}-${tp.partition}`);
      if (gone.length > 0 || added.length > 0) {
        this.log(`[millrace] ${this.where}: rebalance of group '${this.opts.groupId}': ${assigned.length} partition(s) now${added.length > 0 ? `; new here: ${added.join(', ')}` : ''}${gone.length > 0 ? `; moved away: ${gone.join(', ')}` : ''}`);
      }
    }
    for (const p of this.parts.values()) {
      if (p.owned && !keys.has(p.key)) {
        p.owned = false;
        p.resolving = false;
        p.queue = [];
        p.buffered = 0;
      }
      // A rebalance: let the client's fetch loop go on, it has to rejoin.
      this.release(p);
    }
    const toResolve: PartitionState[] = [];
    const keep: TopicPartition[] = [];
    for (const tp of assigned) {
      const p = this.part(tp);
      p.queue = [];
      p.buffered = 0;
      if (p.owned && !p.resolving && p.next !== undefined) {
        // Still ours: the client starts a new generation at the committed offset; continue where we are.
        this.consumer!.seek(p.tp, p.next);
        keep.push(p.tp);
      } else {
        p.owned = true;
        p.resolving = true;
        toResolve.push(p);
      }
    }
    if (keep.length > 0) {
      this.consumer!.resume(keep);
      for (const tp of keep) this.part(tp).paused = false;
    }
    if (toResolve.length > 0) {
      this.consumer!.pause(toResolve.map((p) => p.tp));
      for (const p of toResolve) p.paused = true;
      void this.resolveStartsRetrying(g, toResolve).catch((e) => {
        this.crashed ??= describeKafkaError(e, `${this.where} could not find where to start in ${toResolve.map((p) => p.split).join(', ')}`, this.client.brokers);
        this.wake();
      });
    }
    if (!this.gateOpen) void this.checkGate(g);
    this.endConfirmed = false;
  }

  /** Opens the gate once every subtask of this source in this process is a member of the group. */
  private async checkGate(g: number): Promise<void> {
    if (this.closed) return;
    try {
      const members = await this.lookup(() => this.admin!.groupMemberClientIds(this.opts.groupId));
      const mine = new Set(members.filter((m) => m.startsWith(this.memberPrefix)));
      if (g === this.generation && mine.size >= this.ctx.parallelism) {
        this.gateOpen = true;
        this.wake();
        return;
      }
    } catch {
      // A rebalance is under way; the next assignment checks again.
    }
    // Not all subtasks are in a stable group yet: look again shortly, while this generation lasts.
    if (!this.closed && !this.ctx.signal.aborted && g === this.generation) {
      const t = setTimeout(() => void this.checkGate(g), 200);
      t.unref?.();
    }
  }

  /**
   * Looks up the starts, again after errors the client calls retriable (a topic created a moment ago may answer
   * NOT_LEADER_FOR_PARTITION to an offsets request while its leaders settle), five times at most.
   */
  private async resolveStartsRetrying(g: number, ps: PartitionState[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.resolveStarts(g, ps);
        return;
      } catch (e) {
        const retriable = (e as { retriable?: unknown } | null)?.retriable === true;
        if (!retriable || attempt >= 5 || this.closed || g !== this.generation) throw e;
        await new Promise<void>((r) => setTimeout(r, 100 * attempt).unref?.());
      }
    }
  }

  private async resolveStarts(g: number, ps: PartitionState[]): Promise<void> {
    const topics = [...new Set(ps.map((p) => p.tp.topic))];
    if (this.closed) return;
    const useCommitted = this.restoredAny || this.opts.startFrom === undefined || this.opts.startFrom === 'committed' || this.emittedAny;
    const committed = new Map<string, number>();
    if (useCommitted) {
      for (const c of await this.lookup(() => this.admin!.committedOffsets(this.opts.groupId, topics))) if (c.offset >= 0) committed.set(tpKey(c.topic, c.partition), c.offset);
    }
    const lows = new Map<string, number>();
    const starts: number[] = [];
    const takenOver: string[] = [];
    for (const p of ps) {
      let start = -1;
      const mine = Math.max(p.next ?? -1, this.restored.get(p.key) ?? -1);
      for (const c of [p.next, this.restored.get(p.key), committed.get(p.key)]) if (c !== undefined && c > start) start = c;
      // Continued from offsets another instance committed: in a rebalance, or at the first assignment after a restore
      // (a restart of one instance may move partitions: the group's assignment is not sticky).
      if ((g > 1 || this.restoredAny) && start >= 0 && start > mine) takenOver.push(`${p.split} at offset ${start}`);
      if (start < 0) start = this.initial.get(p.key) ?? -1;
      if (start < 0) {
        if (this.closed) return;
        if (!lows.has(p.tp.topic)) for (const o of await this.lookup(() => this.admin!.topicOffsets(p.tp.topic))) lows.set(tpKey(p.tp.topic, o.partition), o.low);
        start = lows.get(p.key) ?? 0;
      }
      starts.push(start);
    }
    if (takenOver.length > 0 && g === this.generation && !this.closed) {
      this.log(`[millrace] ${this.where}: continuing ${takenOver.join(', ')} from the group's committed offsets, ahead of this instance's own position (another instance read them since${g === 1 ? ', or the checkpoint restored is older than the group\'s offsets' : ''}); keyed state does not move with them, and their records behind this instance's watermark are late (see the README, "Keyed state across instances")`);
    }
    if (g !== this.generation || this.closed) return; // a newer assignment looks again, or the consumer is gone
    const resume: TopicPartition[] = [];
    ps.forEach((p, i) => {
      if (!p.owned) return;
      p.next = starts[i]!;
      p.resolving = false;
      p.paused = false;
      this.consumer!.seek(p.tp, p.next);
      resume.push(p.tp);
    });
    this.consumer!.resume(resume);
    this.wake();
  }

  // ---- fetching ----

  private onBatch(tp: TopicPartition, messages: readonly FetchedMessage[], nextOffset: number): void | Promise<void> {
    const p = this.parts.get(tpKey(tp.topic, tp.partition));
    if (!p || !p.owned || p.resolving) return;
    p.queue.push({ messages, i: 0, nextOffset });
    p.buffered += messages.length;
    this.wake();
    // Backpressure: hold the client's next fetch until the engine took half of this partition's buffer.
    if (p.buffered < this.maxBuffered || this.closed) return;
    this.release(p);
    return new Promise<void>((resolve) => { p.release = resolve; });
  }

  private release(p: PartitionState): void {
    const r = p.release;
    p.release = undefined;
    r?.();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  // ---- reading ----

  next(max: number): SourceBatch<T> | null | Promise<SourceBatch<T> | null> {
    if (this.crashed) throw this.crashed;
    if (!this.consumer) return this.open().then(() => this.next(max));
    const b = this.take(max);
    if (b) return b;
    return this.wait(max);
  }

  private async wait(max: number): Promise<SourceBatch<T> | null> {
    for (;;) {
      if (this.crashed) throw this.crashed;
      if (this.closed || this.ctx.signal.aborted) return { values: [] };
      const b = this.take(max);
      if (b) return b;
      if (this.opts.bounded && (await this.reachedEnd())) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        // Bounded readers look again now and then for the end (other members may still hold partitions).
        if (this.opts.bounded) setTimeout(() => this.wake(), 250).unref?.();
      });
    }
  }

  /** Bounded: every partition of this reader is at its end, and the group holds only this process's subtasks. */
  private async reachedEnd(): Promise<boolean> {
    if (this.endConfirmed) return true;
    if (!this.gateOpen) return false;
    for (const p of this.parts.values()) {
      if (!p.owned) continue;
      if (p.resolving || p.next === undefined) return false;
      if (p.next < (this.ends.get(p.key) ?? 0)) return false;
    }
    const now = Date.now();
    if (now - this.lastEndCheck < 200) return false;
    this.lastEndCheck = now;
    const g = this.generation;
    const members = await this.lookup(() => this.admin!.groupMemberClientIds(this.opts.groupId)).catch(() => [] as string[]);
    const foreign = members.filter((m) => !m.startsWith(this.memberPrefix));
    if (g !== this.generation || members.length < this.ctx.parallelism || foreign.length > 0) return false;
    this.endConfirmed = true;
    return true;
  }

  /** A batch from the next partition with buffered records, decoded; undefined when none has any. */
  private take(max: number): SourceBatch<T> | Promise<SourceBatch<T>> | undefined {
    if (!this.gateOpen) return undefined;
    const list = [...this.parts.values()];
    const n = list.length;
    for (let k = 0; k < n; k++) {
      const p = list[(this.rr + k) % n]!;
      if (!p.owned || p.resolving || p.queue.length === 0 || p.next === undefined) continue;
      this.rr = (this.rr + k + 1) % n;
      const taken: FetchedMessage[] = [];
      let next = p.next;
      while (taken.length < max && p.queue.length > 0) {
        const c = p.queue[0]!;
        const ms = c.messages;
        while (c.i < ms.length && taken.length < max) {
          const m = ms[c.i++]!;
          if (m.offset < next) continue; // fetched again after a seek: already emitted
          taken.push(m);
          next = m.offset + 1;
        }
        if (c.i >= ms.length) {
          if (c.nextOffset > next) next = c.nextOffset;
          p.queue.shift();
        }
      }
      p.buffered = Math.max(0, p.buffered - taken.length);
      const before = p.next;
      p.next = next;
      if (p.release && p.buffered < this.maxBuffered / 2) this.release(p);
      if (taken.length === 0) continue;
      this.emittedAny = true;
      const batch = this.decodeBatch(p, taken);
      if (!(batch instanceof Promise)) return batch;
      // Decoding waits (a schema registry lookup, a dead-letter send): a checkpoint can come meanwhile, and its
      // position must not pass records the engine has not received. The position moves once the batch is handed
      // over (in the same microtask run as the read loop's emit, so no barrier falls in between).
      p.next = before;
      return batch.then((b) => {
        if (p.next === before) p.next = next;
        return b;
      });
    }
    return undefined;
  }

  private decodeBatch(p: PartitionState, ms: readonly FetchedMessage[]): SourceBatch<T> | Promise<SourceBatch<T>> {
    const values: T[] = new Array(ms.length);
    const timestamps: number[] = new Array(ms.length);
    const tsFn = typeof this.opts.timestamp === 'function' ? this.opts.timestamp : undefined;
    const keep = this.keepOrigins;
    let asyncAt = -1;
    let failed: Array<{ m: FetchedMessage; e: unknown }> | undefined;
    let out = 0;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i]!;
      try {
        const v = this.decode(m, p.tp);
        if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
          asyncAt = i;
          break;
        }
        values[out] = v as T;
        timestamps[out] = tsFn ? tsFn(v as T) : m.timestamp;
        if (keep) rememberOrigin(v, this.origin(p, m));
        out++;
      } catch (e) {
        (failed ??= []).push({ m, e });
      }
    }
    if (asyncAt >= 0) return this.decodeAsync(p, ms, values, timestamps, out, asyncAt, failed);
    values.length = out;
    timestamps.length = out;
    const batch: SourceBatch<T> = { values, timestamps, split: p.split };
    return failed ? this.handleFailures(p, failed).then(() => batch) : batch;
  }

  private async decodeAsync(p: PartitionState, ms: readonly FetchedMessage[], values: T[], timestamps: number[], out: number, from: number, failed: Array<{ m: FetchedMessage; e: unknown }> | undefined): Promise<SourceBatch<T>> {
    const tsFn = typeof this.opts.timestamp === 'function' ? this.opts.timestamp : undefined;
    for (let i = from; i < ms.length; i++) {
      const m = ms[i]!;
      try {
        const v = await this.decode(m, p.tp);
        values[out] = v;
        timestamps[out] = tsFn ? tsFn(v) : m.timestamp;
        if (this.keepOrigins) rememberOrigin(v, this.origin(p, m));
        out++;
      } catch (e) {
        (failed ??= []).push({ m, e });
      }
    }
    values.length = out;
    timestamps.length = out;
    if (failed) await this.handleFailures(p, failed);
    return { values, timestamps, split: p.split };
  }

  private origin(p: PartitionState, m: FetchedMessage): KafkaOrigin {
    return { topic: p.tp.topic, partition: p.tp.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: m.headers };
  }

  /** Undecodable records: fail the job, or write them to the dead-letter topic before the batch goes on. */
  private async handleFailures(p: PartitionState, failed: Array<{ m: FetchedMessage; e: unknown }>): Promise<void> {
    const first = failed[0]!;
    const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
    if (this.opts.onDecodeError !== 'dead-letter') {
      throw new KafkaConnectorError('decode', `${this.where}: cannot decode the record at ${p.tp.topic} partition ${p.tp.partition} offset ${first.m.offset}: ${msg(first.e)}. Fix the producer or the serde, or set onDecodeError: 'dead-letter' with a deadLetterTopic to set such records aside.`, { cause: first.e });
    }
    const topic = this.opts.deadLetterTopic!;
    const messages: OutgoingMessage[] = failed.map(({ m, e }) => deadLetterMessage(
      { error: msg(e), errorType: e instanceof Error ? e.name : typeof e, step: this.ctx.uid, uid: this.ctx.uid, job: this.ctx.jobName },
      this.origin(p, m),
      undefined,
    ));
    try {
      if (!this.dlq) {
        const dlq = this.client.producer({ clientId: `${this.clientId}.dlq`, idempotent: true });
        await dlq.connect();
        this.dlq = dlq;
      }
      await this.dlq.send([{ topic, messages }]);
    } catch (e) {
      throw describeKafkaError(e, `${this.where}: writing ${messages.length} undecodable record(s) to dead-letter topic '${topic}'`, this.client.brokers);
    }
    this.deadLettered += messages.length;
  }

  // ---- checkpoints ----

  /** The partitions this subtask owns, as splits (so that the engine holds the watermark for those not read yet). */
  ownedSplits(): string[] {
    const out: string[] = [];
    for (const p of this.parts.values()) if (p.owned) out.push(p.split);
    return out;
  }

  snapshot(checkpointId: number): KafkaPosition {
    const offsets: Array<[string, number, number]> = [];
    for (const p of this.parts.values()) if (p.next !== undefined && !p.resolving) offsets.push([p.tp.topic, p.tp.partition, p.next]);
    // Partitions checkpointed before but not (yet) assigned here keep their position, so no restore loses it.
    for (const [k, off] of this.restored) {
      const p = this.parts.get(k);
      if (p && p.next !== undefined && !p.resolving) continue;
      const [topic, part] = k.split('\u0000') as [string, string];
      offsets.push([topic, Number(part), off]);
    }
    this.snapshots.set(checkpointId, offsets);
    return { v: 1, offsets };
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const offsets = this.snapshots.get(checkpointId);
    for (const id of [...this.snapshots.keys()]) if (id <= checkpointId) this.snapshots.delete(id);
    if (!offsets || !this.consumer) return;
    // Commit only partitions still ours: another member's newer offsets must not go backwards.
    const mine = offsets.filter(([t, p]) => this.parts.get(tpKey(t, p))?.owned).map(([topic, partition, offset]) => ({ topic, partition, offset }));
    if (mine.length === 0) return;
    try {
      await this.consumer.commitOffsets(mine);
    } catch (e) {
      // A rebalance is under way: the next checkpoint commits again (offsets in the group are for lag tools and
      // takeovers; the checkpoint is what restores).
      if (!this.commitWarned) {
        this.commitWarned = true;
        this.log(`[millrace] ${this.where}: committing the offsets of checkpoint ${checkpointId} to the group failed (${(e as Error).message}); the next checkpoint commits again`);
      }
    }
  }
}

/** A decoder of values only, with the value serde. */
export function valueDecoder<T>(value: Serde<T>): RecordDecoder<T> {
  return (m, tp) => value.deserialize(m.value, { topic: tp.topic, part: 'value' });
}
