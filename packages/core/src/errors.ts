/** Base class of every error Millrace throws on purpose. */
export class MillraceError extends Error {
  override readonly name: string = 'MillraceError';
}

/**
 * A job cannot be built: the plan is invalid (duplicate uid, a stateful step without a uid, event-time windows
 * without timestamps, an unknown uid in a test driver, …). The message names the step and says what to change.
 */
export class JobBuildError extends MillraceError {
  override readonly name = 'JobBuildError';
}

/**
 * A user function threw while processing a record. Carries the step's name and uid, the record's timestamp and the
 * original error as `cause`.
 */
export class UserFunctionError extends MillraceError {
  override readonly name = 'UserFunctionError';
  constructor(
    readonly step: string,
    readonly uid: string,
    readonly timestamp: number | undefined,
    readonly value: unknown,
    cause: unknown,
    /** What the function was doing when not processing a record, e.g. `in onTimer for key 'bob'`. */
    readonly context?: string,
  ) {
    super(
      `user function of step '${step}' (uid '${uid}') threw ` +
        (context ?? 'on a record') +
        (timestamp === undefined || !Number.isFinite(timestamp) ? (context ? '' : ' without a timestamp') : ` ${context ? 'at' : 'with'} timestamp ${timestamp}`) +
        `: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A checkpoint could not be taken, written, or restored. */
export class CheckpointError extends MillraceError {
  override readonly name = 'CheckpointError';
}
