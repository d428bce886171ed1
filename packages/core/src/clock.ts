/**
 * The only place the engine reads the wall clock or schedules a host timer. The runtime uses a system clock; tests use
 * `ManualClock` from `@millrace/testing`, which moves only when told to.
 *
 * Concurrency: called from the thread that runs the job only. `schedule` callbacks run on that thread.
 */
export interface Clock {
  /** Current processing time, epoch milliseconds. */
  now(): number;
  /**
   * Calls `callback` once when processing time reaches `timestamp` (immediately on the next turn if it already has).
   * Returns a function that cancels the call; cancelling twice, or after it ran, does nothing.
   */
  schedule(timestamp: number, callback: () => void): () => void;
}
