import type { SinkWriter } from '@millrace/core';
import type { AdminClient, ProducerClient } from './client.js';
import { noticeIfSlow, SLOW_CONNECT_NOTICE_MS, stillConnecting } from './slow-notice.js';
import { describeKafkaError } from './errors.js';
import { SendBatcher } from './send-batcher.js';
import { encodeAll, topicPartitions, whereOf, type SinkTarget } from './sink-target.js';

/**
 * At-least-once (and fire-and-forget) delivery: records are sent continuously by an idempotent producer, coalesced
 * into sends of up to `batchMaxRecords` records or `lingerMs` after the first waiting one (see {@link SendBatcher}),
 * with a bounded number of sends in flight; `preCommit` sends what waits and waits for every send of the checkpoint
 * to be acknowledged, so a completed checkpoint never lacks output. After a restore, records since the checkpoint are
 * sent again.
 */
export class AtLeastOnceWriter<T> implements SinkWriter<T> {
  private producer: ProducerClient | undefined;
  private admin: AdminClient | undefined;
  private opening: Promise<void> | undefined;
  private partitions = 0;
  private readonly batcher: SendBatcher;
  /** Writes that came before the producer was connected; a checkpoint waits for them to be handed to the batcher. */
  private readonly deferred = new Set<Promise<void>>();

  constructor(private readonly t: SinkTarget<T>, private readonly waitForAcks: boolean) {
    this.batcher = new SendBatcher(
      { maxRecords: t.batchMaxRecords, maxBytes: t.batchMaxBytes, lingerMs: t.lingerMs, maxInFlight: t.maxInFlightSends },
      t.ctx.clock,
      (messages) => this.producer!.send([{ topic: t.topic, messages }]),
      (e, count) => describeKafkaError(e, `${whereOf(t)}: sending ${count} record(s)`, t.client.brokers),
    );
    // Connect now rather than at the first write, which would hold the job back while it connects; a failure is
    // reported by that write.
    this.open().catch(() => {});
  }

  private open(): Promise<void> {
    this.opening ??= (async () => {
      this.admin = this.t.client.admin();
      await noticeIfSlow(this.t.ctx.clock, SLOW_CONNECT_NOTICE_MS, () => this.t.log(stillConnecting(whereOf(this.t), this.t.client.brokers)), this.admin.connect());
      this.partitions = await topicPartitions(this.t, this.admin);
      const p = this.t.client.producer({ clientId: `${this.t.transactionalIdPrefix}.${this.t.ctx.subtaskIndex}`, idempotent: true });
      await p.connect();
      this.producer = p;
    })().catch((e) => { throw describeKafkaError(e, `${whereOf(this.t)} could not start`, this.t.client.brokers); });
    return this.opening;
  }

  write(values: readonly T[], timestamps: readonly number[], count: number): void | Promise<void> {
    if (count === 0) return;
    if (!this.producer) {
      // Copy: the arrays are reused after this call returns.
      const v = values.slice(0, count);
      const ts = timestamps.slice(0, count);
      const d = this.open().then(() => this.write(v, ts, count));
      this.deferred.add(d);
      const done = () => { this.deferred.delete(d); };
      d.then(done, done);
      return d;
    }
    return this.batcher.add(encodeAll(this.t, values, timestamps, count, this.partitions));
  }

  preCommit(): Promise<never[]> {
    // Cut synchronously: what waits is sent now; the sends of this checkpoint are those in flight after that.
    // Writes made before the producer was connected are not in the batcher yet: the checkpoint waits until they
    // are, then flushes (records written after the barrier may go along, which at-least-once allows).
    const acked = this.deferred.size > 0
      ? Promise.all(this.deferred).then(() => this.batcher.flush())
      : this.batcher.flush();
    if (!this.waitForAcks) {
      acked.catch(() => {});
      return Promise.resolve([]);
    }
    return acked.then(() => []);
  }

  async finish(): Promise<void> {
    await this.preCommit();
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.opening?.catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
