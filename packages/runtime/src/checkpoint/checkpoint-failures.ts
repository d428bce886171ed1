import { CheckpointError } from '@millrace/core';

/**
 * Counts checkpoints that failed in a row, as Flink's `tolerable-failed-checkpoints`: periodic and final checkpoints
 * that failed (an error writing or pre-committing, or the timeout) count; a completed checkpoint resets the count.
 * Checkpoints skipped because another is in progress or the job finished are not failures, and checkpoints taken on
 * demand report to their caller instead. Not thread-safe; one per coordinator.
 */
export class CheckpointFailures {
  private consecutive = 0;

  constructor(
    private readonly jobName: string,
    /** Failures in a row that are tolerated; one more fails the job. */
    readonly tolerable: number,
  ) {}

  /** A checkpoint completed. */
  succeeded(): void {
    this.consecutive = 0;
  }

  /** Failures in a row so far. */
  get count(): number {
    return this.consecutive;
  }

  /**
   * Counts failure `e` of a periodic or final checkpoint. Returns the error that fails the job once more than
   * `tolerable` failed in a row, else `undefined` (the job goes on; the caller logs `e`).
   */
  failed(e: unknown): CheckpointError | undefined {
    this.consecutive++;
    if (this.consecutive <= this.tolerable) return undefined;
    const why = (e as Error)?.message ?? String(e);
    // The cause first: it says what to fix; raising the tolerance only helps against failures that pass.
    return new CheckpointError(
      `job '${this.jobName}' fails: ${why} (${this.consecutive} checkpoint(s) failed in a row, more than tolerableCheckpointFailures = ${this.tolerable}; a higher value rides out failures that pass by themselves)`,
      { cause: e },
    );
  }
}

/** Thrown instead of taking a checkpoint that would not be a failure: one is in progress, or the job finished. */
export class CheckpointSkipped extends CheckpointError {}
