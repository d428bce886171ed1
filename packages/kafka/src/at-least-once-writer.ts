import type { SinkWriter } from '@millrace/core';
import type { AdminClient, ProducerClient } from './client.js';
import { describeKafkaError } from './errors.js';
import { encodeAll, topicPartitions, whereOf, type SinkTarget } from './sink-target.js';

/**
 * At-least-once (and fire-and-forget) delivery: each `write` is sent at once by an idempotent producer, with a
 * bounded number of sends in flight; `preCommit` waits for every send of the checkpoint to be acknowledged, so a
 * completed checkpoint never lacks output. After a restore, records since the checkpoint are sent again.
 */
export class AtLeastOnceWriter<T> implements SinkWriter<T> {
  private producer: ProducerClient | undefined;
  private admin: AdminClient | undefined;
  private opening: Promise<void> | undefined;
  private partitions = 0;
  private inFlight: Array<Promise<void>> = [];
  private failure: unknown;

  constructor(private readonly t: SinkTarget<T>, private readonly waitForAcks: boolean) {}

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
    const send = this.producer.send([{ topic: this.t.topic, messages }]).catch((e) => {
      this.failure ??= describeKafkaError(e, `${whereOf(this.t)}: sending ${messages.length} record(s)`, this.t.client.brokers);
      throw this.failure;
    });
    send.catch(() => {});
    this.inFlight.push(send);
    if (this.inFlight.length >= this.t.maxInFlightSends) {
      const oldest = this.inFlight.splice(0, Math.ceil(this.inFlight.length / 2));
      return Promise.all(oldest).then(() => {});
    }
  }

  preCommit(): Promise<never[]> {
    // Cut synchronously: the sends of this checkpoint are those in flight now.
    const mine = this.inFlight;
    this.inFlight = [];
    if (!this.waitForAcks) return Promise.resolve([]);
    return Promise.all(mine).then(() => {
      if (this.failure) throw this.failure;
      return [];
    });
  }

  async finish(): Promise<void> {
    await this.preCommit();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.opening?.catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
