import { DEAD_LETTERS, UserFunctionError, type Clock, type DeadLetter, type ErrorPolicy, type PlanNode } from '@millrace/core';
import type { KeyGroupRange } from '../key-groups.js';
import type { RecordBatch } from '../record-batch.js';
import { userTimestamp } from '../record-batch.js';

/** Where an operator's results go. Calls are buffered by the task and flushed downstream after each call into the operator. */
export interface Output {
  emit(value: unknown, timestamp: number): void;
  /** `from` is the step that emits (default: the chain's head); side outputs are routed per step and tag. */
  emitSide(tag: string, value: unknown, timestamp: number, from?: PlanNode): void;
}

/** Counters an operator keeps; read by the job's metrics. */
export interface OperatorMetrics {
  recordsIn: number;
  recordsOut: number;
  /** Records too late for every window, sent to the late side output or (without one) counted here and dropped. */
  lateRecordsDropped: number;
  lateRecordsToSideOutput: number;
  deadLetters: number;
}

/** What an operator knows about where it runs. */
export interface OperatorContext {
  readonly node: PlanNode;
  readonly jobName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly keyGroupRange: KeyGroupRange;
  readonly clock: Clock;
  readonly output: Output;
  readonly metrics: OperatorMetrics;
  /** Ask for `onProcessingTime` to be called once processing time reaches `timestamp`. */
  requestProcessingTime(timestamp: number): void;
  /**
   * Handles an exception a user function threw for `value`: throws `UserFunctionError` or sends a dead letter.
   * `context` says what it was doing when not processing a record (`in onTimer for key 'k'`).
   */
  failRecord(node: PlanNode, value: unknown, timestamp: number, error: unknown, context?: string): void;
}

/** State of one operator subtask in a checkpoint: keyed state by key group, and non-keyed operator state. */
export interface OperatorSnapshot {
  readonly keyed?: Map<number, unknown>;
  readonly operator?: unknown;
}

/**
 * A runtime operator: the head of a chain (keyed process, window, rolling aggregate). The same operators run in one
 * thread and across worker threads; they never see channels, only batches, watermarks and processing time.
 *
 * Call order: `restore?` once, then any interleaving of `processBatch`, `processWatermark` (the combined, advancing
 * watermark of all inputs), `onProcessingTime` and `snapshot` (at a barrier, between calls), then `endInput` once.
 */
export interface Operator {
  processBatch(batch: RecordBatch): void;
  processWatermark(watermark: number): void;
  onProcessingTime?(now: number): void;
  snapshot(): OperatorSnapshot;
  /** Restores from the snapshots of every subtask of the previous run (key groups outside this subtask's range are skipped). */
  restore(snapshots: readonly OperatorSnapshot[]): void;
  endInput?(): void;
  /** State descriptors, for checkpoint metadata. */
  describeState?(): unknown;
}

/** Builds the dead letter for a failed record. */
export function deadLetter(node: PlanNode, value: unknown, timestamp: number, error: unknown): DeadLetter {
  const e = error instanceof Error ? error : new Error(String(error));
  return { step: node.name, uid: node.uid, value, timestamp: userTimestamp(timestamp), error: e.message, errorType: e.name, stack: e.stack };
}

/** The `failRecord` implementation for a policy. */
export function recordFailureHandler(
  defaultPolicy: ErrorPolicy,
  output: Output,
  metrics: OperatorMetrics,
  hasDeadLetterConsumer: (node: PlanNode) => boolean,
): OperatorContext['failRecord'] {
  return (node, value, timestamp, error, context) => {
    if (error instanceof UserFunctionError) throw error;
    const policy = node.errorPolicy ?? defaultPolicy;
    // A step downstream of the dead-letter sink has nowhere to send its dead letters: it fails rather than lose them.
    if (policy === 'fail' || !hasDeadLetterConsumer(node)) throw new UserFunctionError(node.name, node.uid, userTimestamp(timestamp), value, error, context);
    metrics.deadLetters++;
    output.emitSide(DEAD_LETTERS.id, deadLetter(node, value, timestamp, error), timestamp, node);
  };
}
