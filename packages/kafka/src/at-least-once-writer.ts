import type { SinkWriter } from '@millrace/core';
import type { AdminClient, OutgoingMessage, ProducerClient } from './client.js';
import { describeKafkaError } from './errors.js';
import { approxSize } from './record-codec.js';
import { encodeAll, topicPartitions, whereOf, type SinkTarget } from './sink-target.js';

/** Most bytes (approximately) in one send: below the broker's default `message.max.bytes` (1 MiB) per partition. */
const MAX_SEND_BYTES = 512 * 1024;

/**
 * At-least-once (and fire-and-forget) delivery through one idempotent producer, with writes coalesced:
 *
 * - `write` encodes and appends to a queue; when no send is in flight the queue is sent at once (no linger), else
 *   everything queued while a send was in flight goes in the next send (one produce request per partition leader;
 *   the idempotent producer has one request in flight per broker anyway, so separate sends would only queue behind
 *   each other, each paying a round trip and the client's per-request cost).
 * - Bounded: when more than `maxBufferedRecords` are queued or unacknowledged, `write` returns a promise that holds
 *   the sources back until the backlog is below the bound.
 * - `preCommit` cuts synchronously at the records written so far and waits until all of them are acknowledged, so a
 *   completed checkpoint never lacks output. After a restore, records since the checkpoint are sent again.
 *
 * Sends go out in write order, one at a time, so the output keeps the order of the writes in every partition.
 */
export class AtLeastOnceWriter<T> implements SinkWriter<T> {
  private producer: ProducerClient | undefined;
  private admin: AdminClient | undefined;
  private opening: Promise<void> | undefined;
  private partitions = 0;
  private queue: OutgoingMessage[] = [];
  private sending = false;
  /** Records accepted by `write`, and of those, acknowledged by the broker (always a prefix: sends are in order). */
  private written = 0;
  private acked = 0;
  private waiters: Array<{ until: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failure: unknown;
  private readonly maxBuffered: number;

  constructor(private readonly t: SinkTarget<T>, private readonly waitForAcks: boolean) {
    this.maxBuffered = t.maxBufferedRecords;
  }

  private open(): Promise<void> {
    this.opening ??= (async () => {
      this.admin = this.t.client.admin();
      await this.admin.connect();
      this.partitions = await topicPartitions(this.t, this.admin);
      const p = this.t.client.producer({ clientId: `${this.t.transactionalIdPrefix}.${this.t.ctx.subtaskIndex}`, idempotent: true });
      await p.connect();
      this.producer = p;
    })().catch((e) => { throw describeKafkaError(e, `${whereOf(this.t)} could not start`, this.t.client.brokers); });
    return this.opening;
  }

  write(values: readonly T[], timestamps: readonly number[], count: number): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (count === 0) return;
    if (!this.producer) {
      // Copy: the arrays are reused after this call returns.
      const v = values.slice(0, count);
      const ts = timestamps.slice(0, count);
      return this.open().then(() => this.write(v, ts, count));
    }
    const messages = encodeAll(this.t, values, timestamps, count, this.partitions);
    if (this.queue.length === 0) this.queue = messages;
    else for (let i = 0; i < messages.length; i++) this.queue.push(messages[i]!);
    this.written += count;
    if (!this.sending) this.pump();
    if (this.written - this.acked > this.maxBuffered) return this.until(this.written - this.maxBuffered);
  }

  /** Sends the queue (up to MAX_SEND_BYTES) while there is one, one send at a time. */
  private pump(): void {
    if (this.sending || this.queue.length === 0 || this.failure) return;
    let n = 0;
    let bytes = 0;
    const q = this.queue;
    while (n < q.length && (n === 0 || bytes < MAX_SEND_BYTES)) bytes += approxSize(q[n++]!);
    const batch = n === q.length ? q : q.slice(0, n);
    this.queue = n === q.length ? [] : q.slice(n);
    this.sending = true;
    this.producer!.send([{ topic: this.t.topic, messages: batch }]).then(
      () => {
        this.sending = false;
        this.acked += batch.length;
        this.settle();
        this.pump();
      },
      (e) => {
        this.sending = false;
        this.failure ??= describeKafkaError(e, `${whereOf(this.t)}: sending ${batch.length} record(s)`, this.t.client.brokers);
        this.settle();
      },
    );
  }

  /** Resolves once the first `n` records written are acknowledged (rejects when a send failed). */
  private until(n: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.acked >= n) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ until: n, resolve, reject }));
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const ws = this.waiters.splice(0);
    for (const w of ws) {
      if (this.failure) w.reject(this.failure);
      else if (this.acked >= w.until) w.resolve();
      else this.waiters.push(w);
    }
  }

  preCommit(): Promise<never[]> {
    // Cut synchronously: this checkpoint's records are the ones written so far.
    if (!this.waitForAcks) return this.failure ? Promise.reject(this.failure) : Promise.resolve([]);
    return this.until(this.written).then(() => []);
  }

  async finish(): Promise<void> {
    await this.until(this.written);
  }

  async close(): Promise<void> {
    await this.until(this.written).catch(() => {});
    await this.opening?.catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
