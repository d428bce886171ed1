import type { Clock } from '@millrace/core';

/**
 * A clock that moves only when told to. Scheduled callbacks run synchronously inside `advance`/`set`, in time order
 * (ties in scheduling order), each seeing `now()` equal to its own time.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly tasks: Array<{ at: number; seq: number; fn: () => void }> = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(timestamp: number, callback: () => void): () => void {
    const task = { at: timestamp, seq: this.seq++, fn: callback };
    this.tasks.push(task);
    return () => {
      const i = this.tasks.indexOf(task);
      if (i >= 0) this.tasks.splice(i, 1);
    };
  }

  /** Moves time forward by `ms`, running what falls due. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance needs a non-negative duration, got ${ms}`);
    this.set(this.time + ms);
  }

  /** Moves time to `timestamp` (never back), running what falls due. */
  set(timestamp: number): void {
    if (timestamp < this.time) throw new RangeError(`ManualClock cannot go back from ${this.time} to ${timestamp}`);
    for (;;) {
      let next: (typeof this.tasks)[number] | undefined;
      for (const t of this.tasks) if (t.at <= timestamp && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.tasks.splice(this.tasks.indexOf(next), 1);
      if (next.at > this.time) this.time = next.at;
      next.fn();
    }
    this.time = timestamp;
  }

  /** Callbacks waiting. */
  get pendingCount(): number {
    return this.tasks.length;
  }
}
