/**
 * Names a side output of an operator and fixes its element type. Two tags are the same side output when their ids are
 * equal. Used for late records of windows, dead letters, and user side outputs of process functions.
 *
 * ```ts
 * const lateTxns = new OutputTag<Txn>('late-txns');
 * windowed.sideOutputLateData(lateTxns); … result.getSideOutput(lateTxns)
 * ```
 */
export class OutputTag<T> {
  /** Phantom field carrying the element type; never set. */
  declare readonly __type?: T;
  constructor(readonly id: string) {
    if (!id) throw new TypeError('an OutputTag needs a non-empty id');
  }
  toString(): string {
    return `OutputTag(${this.id})`;
  }
}

/** A record that a step could not process under the skip policy, with the error that it raised. */
export interface DeadLetter<T = unknown> {
  /** The failing step's name. */
  readonly step: string;
  /** The failing step's uid. */
  readonly uid: string;
  /** The record as it reached the step. */
  readonly value: T;
  /** The record's event timestamp, if it had one. */
  readonly timestamp: number | undefined;
  /** The error's message. */
  readonly error: string;
  /** The error's class name, e.g. `TypeError`. */
  readonly errorType: string;
  /** The error's stack, if any. */
  readonly stack: string | undefined;
}

/** The side output every step sends failing records to under the `skip` error policy. */
export const DEAD_LETTERS = new OutputTag<DeadLetter>('millrace.dead-letters');
