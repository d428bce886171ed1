import type { Clock } from '@millrace/core';
import type { OutgoingMessage } from './client.js';
import { approxSize } from './record-codec.js';

/** How a {@link SendBatcher} cuts sends. */
export interface SendBatchLimits {
  /** A send goes out once this many records are waiting. */
  readonly maxRecords: number;
  /** … or once about this many bytes are waiting (see `approxSize`). */
  readonly maxBytes: number;
  /** … or this long after the first waiting record arrived; 0 sends at the end of each `add`. */
  readonly lingerMs: number;
  /** Sends not yet acknowledged before `add` asks its caller to wait. */
  readonly maxInFlight: number;
}

/**
 * Coalesces the records of many engine batches into fewer, larger producer sends, and sends continuously: a send
 * goes out when enough records wait (`maxRecords`, `maxBytes`) or when the oldest waiting record has waited
 * `lingerMs`, so output does not wait for a checkpoint. Bounds the sends in flight (backpressure through the promise
 * `add` returns) and makes `flush` (at checkpoint barriers and at the end) send what waits and await every send.
 *
 * Order: records leave in the order they were added; sends are started in that order (the producer keeps the order
 * within a partition). Errors: the first failed send is kept and thrown by every later `add` and `flush`.
 * Concurrency: one caller at a time, on the job's thread; the linger timer runs on the given clock.
 */
export class SendBatcher {
  private waiting: OutgoingMessage[] = [];
  private waitingBytes = 0;
  private cancelLinger: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  /** Callers of `add` waiting for a send to be acknowledged (several when the engine writes twice in a row). */
  private slotWaiters: Array<() => void> = [];
  /** Sends started, for tests and metrics. */
  sends = 0;

  constructor(
    private readonly limits: SendBatchLimits,
    private readonly clock: Clock,
    private readonly send: (messages: OutgoingMessage[]) => Promise<void>,
    private readonly describeFailure: (e: unknown, count: number) => unknown = (e) => e,
  ) {}

  /** Records waiting for a send. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Sends started and not yet acknowledged. */
  get inFlightSends(): number {
    return this.inFlight.size;
  }

  /**
   * Adds records (in order). Sends full batches at once; returns a promise when the sends in flight reached
   * `maxInFlight`, which settles once one of them was acknowledged (await it before adding more).
   */
  add(messages: readonly OutgoingMessage[]): void | Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const { maxRecords, maxBytes } = this.limits;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      this.waiting.push(m);
      this.waitingBytes += approxSize(m);
      if (this.waiting.length >= maxRecords || this.waitingBytes >= maxBytes) this.sendWaiting();
    }
    if (this.waiting.length > 0) {
      if (this.limits.lingerMs <= 0) this.sendWaiting();
      else this.cancelLinger ??= this.clock.schedule(this.clock.now() + this.limits.lingerMs, () => {
        this.cancelLinger = undefined;
        if (this.failure === undefined) this.sendWaiting();
      });
    }
    if (this.inFlight.size < this.limits.maxInFlight) return;
    return new Promise<void>((resolve) => { this.slotWaiters.push(resolve); }).then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  /** Sends what waits now; resolves when every send started so far is acknowledged, or rejects with the first failure. */
  flush(): Promise<void> {
    if (this.failure === undefined) this.sendWaiting();
    const all = [...this.inFlight];
    return Promise.all(all).then(() => {
      if (this.failure !== undefined) throw this.failure;
    }, () => {
      throw this.failure;
    });
  }

  /** Stops the linger timer and waits for the sends in flight (their outcome is not reported). */
  async close(): Promise<void> {
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  private sendWaiting(): void {
    if (this.waiting.length === 0) return;
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    this.sends++;
    const p: Promise<void> = this.send(batch).then(
      () => { this.settled(p); },
      (e: unknown) => {
        this.failure ??= this.describeFailure(e, batch.length);
        this.settled(p);
        throw this.failure;
      },
    );
    p.catch(() => {});
    this.inFlight.add(p);
  }

  private settled(p: Promise<void>): void {
    this.inFlight.delete(p);
    const ws = this.slotWaiters;
    if (ws.length === 0) return;
    this.slotWaiters = [];
    for (const w of ws) w();
  }
}
