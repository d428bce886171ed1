import type { SinkWriter } from '@millrace/core';
import type { AdminClient, OutgoingMessage, ProducerClient } from './client.js';
import { noticeIfSlow, SLOW_COMMIT_STEP_NOTICE_MS, SLOW_CONNECT_NOTICE_MS, stillConnecting } from './slow-notice.js';
import { describeKafkaError, KafkaConnectorError } from './errors.js';
import { chunk, loadRecord, storeRecord, type StoredRecord } from './record-codec.js';
import { encodeAll, topicPartitions, whereOf, type SinkTarget } from './sink-target.js';

/**
 * The output of one checkpoint of one sink subtask, stored in the checkpoint: written to Kafka when the checkpoint
 * completes, in a transaction that also moves the marker of subtask `from` to `seq`.
 */
export interface KafkaCommittable {
  /** The sink subtask that produced the records (names the marker group). */
  readonly from: number;
  /** Increases with each committable of subtask `from`, across restarts (the marker holds the last one written). */
  readonly seq: number;
  readonly records: readonly StoredRecord[];
}

/** The consumer group whose committed offset on partition 0 of the topic marks what subtask `from` wrote. */
export function markerGroup(prefix: string, from: number): string {
  return `millrace-sink.${prefix}.${from}`;
}

/**
 * Exactly-once delivery without keeping a Kafka transaction open across a checkpoint:
 *
 * - `write` buffers encoded records in memory; `preCommit` cuts them into a committable that goes into the checkpoint.
 * - `commit` (after the checkpoint completed, and again after a restore) writes each committable in one transaction
 *   together with `sendOffsets` of the marker group `millrace-sink.<prefix>.<from>` (offset = `seq`), so the records
 *   and "committable `seq` of subtask `from` is written" become visible atomically.
 * - Before the first commit, the transactional producer (`<prefix>.<subtask>`) is initialised, which fences a
 *   previous run's producer and completes or aborts its open transaction; the marker is then read, and committables
 *   with `seq` ≤ the marker are skipped: a re-commit after a crash writes nothing twice.
 *
 * Committables not yet known to be written are carried into the next checkpoint too, so a checkpoint that completes
 * while the previous commit is still running cannot lose that output.
 */
export class ExactlyOnceWriter<T> implements SinkWriter<T, KafkaCommittable> {
  private producer: ProducerClient | undefined;
  private admin: AdminClient | undefined;
  private opening: Promise<void> | undefined;
  private partitions = 0;
  private buffer: OutgoingMessage[] = [];
  /** Records written before the producer was connected (their partition count unknown yet): encoded once it is. */
  private raw: Array<{ readonly values: T[]; readonly timestamps: number[] }> = [];
  private readonly markers = new Map<number, number>();
  /** The marker of each subtask as read from Kafka before this writer wrote anything: what earlier runs wrote. */
  private readonly writtenBefore = new Map<number, number>();
  private seq = 0;
  private readonly unconfirmed: KafkaCommittable[] = [];
  /**
   * The seq of the first committable this writer cut: every later cut has a larger one, every restored committable a
   * smaller one (a restore commits them before anything is cut). For the check that no cut of this run is ever skipped
   * as written before.
   */
  private firstCut = Number.POSITIVE_INFINITY;
  private chain: Promise<void> = Promise.resolve();
  private restoredCount = 0;
  private skipped = 0;

  constructor(private readonly t: SinkTarget<T>) {}

  private get me(): number {
    return this.t.ctx.subtaskIndex;
  }

  /** Connects: checks the topic, initialises the transactional producer (fencing older ones), reads our marker. */
  private open(): Promise<void> {
    this.opening ??= (async () => {
      this.admin = this.t.client.admin();
      await noticeIfSlow(this.t.ctx.clock, SLOW_CONNECT_NOTICE_MS, () => this.t.log(stillConnecting(whereOf(this.t), this.t.client.brokers)), this.admin.connect());
      this.partitions = await topicPartitions(this.t, this.admin);
      const p = this.t.client.producer({ clientId: `${this.t.transactionalIdPrefix}.${this.me}`, transactionalId: `${this.t.transactionalIdPrefix}.${this.me}`, idempotent: true });
      // Initialising fences an earlier producer with this id and waits until the broker completed its open transaction.
      await this.slow(`${whereOf(this.t)}: initialising transactional producer '${this.t.transactionalIdPrefix}.${this.me}'`, p.connect());
      const m = await this.marker(this.me);
      if (m >= this.seq) this.seq = m + 1;
      // Only now: a cut (`preCommit`) taken while the marker was read would have numbered its committable from 0, at
      // or below what earlier runs wrote, and its commit would have skipped it as written — its output lost. In the
      // same step, the records written meanwhile go ahead of any written from now on.
      this.producer = p;
      for (const m of this.encodeRaw(this.raw)) this.buffer.push(m);
      this.raw = [];
    })().catch((e) => { throw describeKafkaError(e, `${whereOf(this.t)} could not start its transactional producer '${this.t.transactionalIdPrefix}.${this.me}'`, this.t.client.brokers); });
    return this.opening;
  }

  /** The last seq subtask `from` wrote (-1 when none), read once, then tracked here. */
  private async marker(from: number): Promise<number> {
    const known = this.markers.get(from);
    if (known !== undefined) return known;
    const offs = await this.slow(`${whereOf(this.t)}: reading the marker of subtask ${from} (group ${markerGroup(this.t.transactionalIdPrefix, from)})`, this.admin!.committedOffsets(markerGroup(this.t.transactionalIdPrefix, from), [this.t.topic]));
    const m = offs.find((o) => o.topic === this.t.topic && o.partition === 0)?.offset ?? -1;
    const v = Math.max(m, this.markers.get(from) ?? -1);
    this.markers.set(from, v);
    this.writtenBefore.set(from, m);
    return v;
  }

  write(values: readonly T[], timestamps: readonly number[], count: number): void | Promise<void> {
    if (count === 0) return;
    if (!this.producer) {
      // Kept here, so that a barrier before the connection completes cuts them into its checkpoint.
      this.raw.push({ values: values.slice(0, count), timestamps: timestamps.slice(0, count) });
      // `open` encodes them once it knows the partitions (the caller waits for it: backpressure).
      return this.open().then(() => {});
    }
    const ms = encodeAll(this.t, values, timestamps, count, this.partitions);
    for (const m of ms) this.buffer.push(m);
  }

  private encodeRaw(raw: ReadonlyArray<{ readonly values: T[]; readonly timestamps: number[] }>): OutgoingMessage[] {
    return raw.flatMap((r) => encodeAll(this.t, r.values, r.timestamps, r.values.length, this.partitions));
  }

  preCommit(): KafkaCommittable[] | Promise<KafkaCommittable[]> {
    // Cut synchronously: later writes belong to the next checkpoint.
    const raw = this.raw;
    this.raw = [];
    const buffered = this.buffer;
    this.buffer = [];
    const build = (): KafkaCommittable[] => {
      const records = raw.length > 0 ? [...this.encodeRaw(raw), ...buffered] : buffered;
      if (records.length > 0) {
        if (this.firstCut === Number.POSITIVE_INFINITY) this.firstCut = this.seq;
        this.unconfirmed.push({ from: this.me, seq: this.seq++, records: records.map(storeRecord) });
      }
      return this.unconfirmed.slice();
    };
    if ((buffered.length > 0 || raw.length > 0) && !this.producer) return this.open().then(build);
    return build();
  }

  commit(committables: readonly KafkaCommittable[]): Promise<void> {
    const run = this.chain.then(() => this.commitInOrder(committables));
    this.chain = run.catch(() => {});
    return run;
  }

  private async commitInOrder(committables: readonly KafkaCommittable[]): Promise<void> {
    if (committables.length === 0) return;
    await this.open();
    const sorted = [...committables].sort((a, b) => a.from - b.from || a.seq - b.seq);
    for (const c of sorted) {
      if (c.from === this.me && c.seq >= this.seq) this.seq = c.seq + 1;
      if (c.seq <= (await this.marker(c.from))) {
        // Never skip a cut of this run as written by an earlier one: that would lose its output without a word.
        if (c.from === this.me && c.seq >= this.firstCut && c.seq <= (this.writtenBefore.get(c.from) ?? -1)) {
          throw new KafkaConnectorError('transaction', `${whereOf(this.t)}: committable ${c.seq} was cut in this run but numbered at or below what earlier runs wrote (marker ${this.writtenBefore.get(c.from)} in group ${markerGroup(this.t.transactionalIdPrefix, c.from)}); refusing to skip it. This is a bug in the sink: the job fails (and restarts from its last checkpoint if it has a restart strategy).`);
        }
        // Written before a restart, or (the usual case) by this writer's commit of an earlier checkpoint, while it
        // was still carried as unconfirmed into the next one. Only the former is worth a word at close.
        if (c.seq <= (this.writtenBefore.get(c.from) ?? -1)) this.skipped++;
        this.confirm(c);
        continue;
      }
      await this.writeTransaction(c);
      this.markers.set(c.from, c.seq);
      this.confirm(c);
    }
  }

  private confirm(c: KafkaCommittable): void {
    const i = this.unconfirmed.findIndex((u) => u.from === c.from && u.seq === c.seq);
    if (i >= 0) this.unconfirmed.splice(i, 1);
  }

  private async writeTransaction(c: KafkaCommittable): Promise<void> {
    const what = `${whereOf(this.t)}: writing the ${c.records.length} record(s) of committable ${c.seq} of subtask ${c.from} in a transaction`;
    let tx;
    try {
      tx = await this.slow(`${what}: beginning it`, this.producer!.transaction());
    } catch (e) {
      throw this.describeCommitError(e, what);
    }
    try {
      for (const part of chunk(c.records.map(loadRecord))) await this.slow(`${what}: sending`, tx.send({ topic: this.t.topic, messages: part }));
      await this.slow(`${what}: adding the marker to it`, tx.sendOffsets(markerGroup(this.t.transactionalIdPrefix, c.from), [{ topic: this.t.topic, partition: 0, offset: c.seq }]));
      await this.slow(`${what}: committing it`, tx.commit());
    } catch (e) {
      await tx.abort().catch(() => {});
      throw this.describeCommitError(e, what);
    }
  }

  /** Awaits one client call of the commit path; logs what it waits for (`what` names the sink) if that takes long. */
  private slow<R>(what: string, work: Promise<R>): Promise<R> {
    return noticeIfSlow(this.t.ctx.clock, SLOW_COMMIT_STEP_NOTICE_MS, () => this.t.log(`[millrace] ${what} has taken more than ${SLOW_COMMIT_STEP_NOTICE_MS / 1000} s; the client retries with backoff (the \`retry\` option) before failing`), work);
  }

  /**
   * A fenced producer (a newer one initialised the same transactional id: the broker answers INVALID_PRODUCER_EPOCH,
   * or PRODUCER_FENCED on newer protocol versions) gets a message that names the likely cause, a second running
   * instance with the same prefix. The newer producer's start succeeds; only this one's next transaction fails.
   */
  private describeCommitError(e: unknown, what: string): KafkaConnectorError {
    const err = e as { message?: string; type?: string } | undefined;
    if (/PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|\bfenced\b/i.test(`${err?.type ?? ''} ${err?.message ?? ''}`)) {
      const id = `${this.t.transactionalIdPrefix}.${this.me}`;
      return new KafkaConnectorError('transaction', `${what}: another producer with transactional id '${id}' took over (fenced). Two running instances of one job need different transactionalIdPrefix options on Kafka sink '${this.t.ctx.uid}' (default '<job name>.<sink uid>', here '${this.t.transactionalIdPrefix}'), e.g. from an environment variable; a restarted instance must keep its prefix. (${err?.message ?? String(e)})`, { cause: e });
    }
    return describeKafkaError(e, what, this.t.client.brokers);
  }

  restore(): void {
    this.restoredCount++;
  }

  async finish(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    if (this.skipped > 0) this.t.log(`[millrace] ${whereOf(this.t)}: skipped ${this.skipped} committable(s) already written before a restart (markers in group ${markerGroup(this.t.transactionalIdPrefix, this.me)})`);
    await this.chain.catch(() => {});
    await this.opening?.catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
