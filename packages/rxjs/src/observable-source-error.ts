import { MillraceError } from '@millrace/core';

/**
 * A `fromObservable` source failed: the observable signalled an error (then `cause` is that error), or it pushed
 * more records than the source may buffer (`maxBuffered`). The message names the source step's uid; the job fails
 * with this error.
 */
export class ObservableSourceError extends MillraceError {
  override readonly name = 'ObservableSourceError';

  constructor(
    /** The uid of the source step (`env.fromSource(…, { uid })`). */
    readonly uid: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
