import { toMillis, type Duration } from '@millrace/core';

/**
 * What to do when a job fails: give up (default), or restart from the last completed checkpoint after a delay.
 * Flink's strategies: fixed delay with a maximum number of attempts, exponential backoff, and failure rate (at most
 * `maxFailures` within `interval`).
 */
export type RestartStrategy =
  | { readonly type: 'none' }
  | { readonly type: 'fixed-delay'; readonly attempts: number; readonly delay: Duration }
  | { readonly type: 'exponential-backoff'; readonly attempts: number; readonly initialDelay: Duration; readonly maxDelay: Duration; readonly multiplier?: number }
  | { readonly type: 'failure-rate'; readonly maxFailures: number; readonly interval: Duration; readonly delay: Duration };

/** Decides, failure by failure, whether to restart and after how long. */
export class RestartPolicy {
  private failures: number[] = [];
  private attempt = 0;
  constructor(readonly strategy: RestartStrategy = { type: 'none' }) {}

  /** The delay before the next restart, or `undefined` to give up. `now` is the failure time. */
  next(now: number): number | undefined {
    const s = this.strategy;
    this.attempt++;
    switch (s.type) {
      case 'none':
        return undefined;
      case 'fixed-delay':
        return this.attempt <= s.attempts ? toMillis(s.delay, 'restart delay') : undefined;
      case 'exponential-backoff': {
        if (this.attempt > s.attempts) return undefined;
        const d = toMillis(s.initialDelay, 'restart initialDelay') * (s.multiplier ?? 2) ** (this.attempt - 1);
        return Math.min(d, toMillis(s.maxDelay, 'restart maxDelay'));
      }
      case 'failure-rate': {
        const window = toMillis(s.interval, 'restart interval');
        this.failures = [...this.failures.filter((t) => t > now - window), now];
        return this.failures.length <= s.maxFailures ? toMillis(s.delay, 'restart delay') : undefined;
      }
    }
  }

  /** Restarts so far. */
  get restarts(): number {
    return this.attempt;
  }
}
